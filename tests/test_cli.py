"""The CLI edge, in-process (main(argv)) and as the installed console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from domino_mlops import __version__
from domino_mlops.cli import main
from tests.report.test_github import parse_output_file
from domino_emulator.local.models import register_diabetes_model

CONSOLE = Path(sys.executable).with_name("domino-mlops")


def test_version_and_help_import_nothing_heavy() -> None:
    code = ("import sys\nfrom domino_mlops.cli import main\n"
            "for argv in (['--version'], ['--help'], ['plan', '--help']):\n"
            "    try:\n        main(argv)\n    except SystemExit:\n        pass\n"
            "heavy = [m for m in ('mlflow', 'requests', 'jsonschema', 'yaml', 'pandas') if m in sys.modules]\n"
            "print('HEAVY', heavy, file=sys.stderr)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "HEAVY []" in result.stderr
    assert f"domino-mlops {__version__}" in result.stdout


def test_console_script_is_installed() -> None:
    result = subprocess.run([str(CONSOLE), "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == f"domino-mlops {__version__}"


def test_no_command_is_bad_input(capsys) -> None:
    assert main([]) == 2
    assert "usage" in capsys.readouterr().err


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scripts").mkdir()
    repo = Path(__file__).resolve().parents[1]
    (tmp_path / "scripts" / "environments.yaml").write_text(
        (repo / "scripts" / "environments.yaml").read_text())
    return tmp_path


def write_manifest(root: Path, doc: dict) -> None:
    (root / "scripts" / "model_version.json").write_text(json.dumps(doc, indent=2))


def test_validate_ok(project: Path, capsys) -> None:
    write_manifest(project, {"p1": [{"name": "a", "version": 1}]})
    assert main(["validate"]) == 0
    out = capsys.readouterr().out
    assert "1 model(s) in 1 project(s)" in out and "DEV -> STAGE -> PROD" in out


def test_plan_against_real_mlflow(project: Path, mlflow_server, monkeypatch, capsys) -> None:
    v1 = register_diabetes_model(mlflow_server.uri, "cli-plan")
    write_manifest(project, {"proj1": [{"name": "cli-plan", "version": int(v1)}]})
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)
    monkeypatch.setenv("GITHUB_OUTPUT", str(project / "out"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(project / "summary.md"))
    capsys.readouterr()  # drop MLflow's own chatter from registering the model

    assert main(["plan", "--env", "STAGE", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["environment"] == "STAGE" and doc["changed_models"] == ["cli-plan"]
    kinds = [s["kind"] for s in doc["changes"][0]["steps"]]
    assert kinds == ["set_tags", "transition_stage", "move_alias", "record_ledger"]
    outputs = parse_output_file((project / "out").read_text())
    assert json.loads(outputs["plan-json"]) == doc and outputs["changed-models"] == "cli-plan"
    assert "### Plan for STAGE" in (project / "summary.md").read_text()

    assert main(["plan", "--env", "PROD"]) == 0  # Markdown; gate not passed yet is shown, not fatal
    markdown = capsys.readouterr().out
    assert ":no_entry:" in markdown and "has not passed STAGE" in markdown

    # plan wrote nothing to MLflow: the alias is still unset
    from domino_mlops.clients.mlflow.registry import MlflowRegistry
    from domino_mlops.clients.mlflow.auth import MlflowCredentials
    reg = MlflowRegistry(MlflowCredentials.from_env({}, tracking_uri=mlflow_server.uri))
    assert reg.get_model("cli-plan").aliases == ()


def test_plan_unknown_model_is_exit_2_with_hint(project: Path, mlflow_server, monkeypatch, capsys) -> None:
    write_manifest(project, {"proj1": [{"name": "never-registered", "version": 1}]})
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)
    assert main(["plan", "--env", "STAGE"]) == 2
    err = capsys.readouterr().err
    assert "'never-registered'" in err and "line 3" in err and "hint:" in err


def test_plan_unknown_environment(project: Path, capsys) -> None:
    write_manifest(project, {"p1": [{"name": "a", "version": 1}]})
    assert main(["plan", "--env", "QA"]) == 2
    assert "DEV, STAGE, PROD" in capsys.readouterr().err


def test_plan_unreachable_mlflow_is_exit_1(project: Path, monkeypatch, capsys) -> None:
    write_manifest(project, {"p1": [{"name": "a", "version": 1}]})
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    assert main(["plan", "--env", "STAGE"]) == 1
    err = capsys.readouterr().err
    assert "cannot reach MLflow at http://127.0.0.1:9" in err and "Traceback" not in err


def test_annotations_in_actions_point_at_the_line(project: Path, monkeypatch, capsys) -> None:
    (project / "scripts" / "model_version.json").write_text('{"p1": [\n {"name": "a", "version": "latest"}\n]}')
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(project / "summary.md"))
    assert main(["validate"]) == 2
    err = capsys.readouterr().err
    assert "::error file=scripts/model_version.json,line=2,title=domino-mlops validate::$.p1[0].version" in err
    assert "'latest' is not allowed" in (project / "summary.md").read_text()


@pytest.mark.parametrize("argv, says", [
    (["deploy", "--max-parallel", "0"], "--max-parallel: 0 must be above 0"),
    (["promote", "--env", "PROD", "--max-parallel", "-3"], "--max-parallel: -3 must be above 0"),
    (["deploy", "--deploy-timeout", "-1"], "--deploy-timeout: -1 must be above 0"),
    (["deploy", "--lease-wait", "soon"], "--lease-wait: 'soon' is not a number"),
    (["promote", "--env", "PROD", "--expect-plan-digest", "not-a-digest"],
     "--expect-plan-digest: 'not-a-digest' is not a plan digest (64 hex characters"),
    (["promote", "--env", "PROD", "--expect-plan-digest", ""], "--expect-plan-digest: '' is not a plan digest"),
])
def test_a_malformed_flag_is_bad_input_before_anything_is_read(project: Path, capsys, argv, says) -> None:
    """A typo in a flag is exit 2 (bad input) naming the flag; a malformed digest in particular is
    a wiring mistake, not the changed plan that exit 4 reports."""
    write_manifest(project, {"p1": [{"name": "a", "version": 1}]})
    with pytest.raises(SystemExit) as stopped:  # argparse's own exit, as the console script exits
        main(argv)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err


@pytest.mark.parametrize("traceback", [False, True])
def test_traceback_only_adds_the_traceback_never_changes_the_exit_code(tmp_path, capsys, traceback) -> None:
    bad = tmp_path / "model_version.json"
    bad.write_text('{"p1": [{"name": "churn", "version": "latest"}]}')
    flags = ["--traceback"] if traceback else []

    assert main([*flags, "validate", "--manifest", str(bad)]) == 2  # bad input is 2 either way

    err = capsys.readouterr().err
    assert "error: " in err and ("Traceback (most recent call last)" in err) == traceback


def test_history_of_an_unknown_environment_is_bad_input(project: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")  # never asked: the name is checked first
    assert main(["history", "--model", "a", "--env", "NOPE", "--at", "2026-11-23T10:00Z"]) == 2
    err = capsys.readouterr().err
    assert "environment 'NOPE' is not defined in scripts/environments.yaml" in err and "DEV, STAGE, PROD" in err


@pytest.mark.parametrize("variable", ["MLFLOW_TRACKING_URI", "DOMINO_API_HOST"])
@pytest.mark.parametrize("host", ["a..b", "a" * 70 + ".example"])
def test_a_malformed_host_is_bad_input_naming_the_variable(project: Path, monkeypatch, capsys, variable, host) -> None:
    write_manifest(project, {"p1": [{"name": "a", "version": 1}]})
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    monkeypatch.setenv("DOMINO_USER_API_KEY", "k")
    monkeypatch.setenv(variable, f"http://{host}:5000")
    assert main(["plan", "--env", "STAGE"]) == 2
    err = capsys.readouterr().err
    assert f"error: {variable} is not a usable URL" in err and "this is a bug" not in err


def test_projects_with_project_is_that_project_as_json_or_refused(tmp_path: Path, monkeypatch, capsys) -> None:
    """A dispatch input becomes a one-project matrix only if the manifest lists it: a value with a
    quote (which a format()ted string would have turned into other JSON) is exit 2, no output."""
    project = "6650c1a3e1b2c3d4e5f60718"
    manifest = tmp_path / "model_version.json"
    manifest.write_text(json.dumps({project: [{"name": "churn", "version": 3}]}))
    out = tmp_path / "out"
    monkeypatch.setenv("GITHUB_OUTPUT", str(out))

    assert main(["projects", "--manifest", str(manifest), "--project", project]) == 0
    assert json.loads(parse_output_file(out.read_text())["projects"]) == [project]
    out.write_text("")

    assert main(["projects", "--manifest", str(manifest), "--project", 'x", "other']) == 2
    err = capsys.readouterr().err
    assert "is not in the manifest" in err and project in err
    assert out.read_text() == ""


def test_emulator_alias_hands_every_argument_to_domino_emulator(capsys) -> None:
    """`domino-mlops emulator` is domino-emulator under another name: its help, its checks."""
    with pytest.raises(SystemExit) as shown:
        main(["emulator", "--help"])
    assert shown.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: domino-mlops emulator ") and "--mlflow-uri" in out and "--rate-503" in out
    with pytest.raises(SystemExit) as refused:
        main(["emulator", "--port", "70000"])
    assert refused.value.code == 2
    assert "domino-mlops emulator: error: argument --port: must be 0-65535" in capsys.readouterr().err


def test_emulator_alias_without_domino_emulator_exits_2_with_the_install_hint(monkeypatch, capsys) -> None:
    # As on a runner that installed the runtime alone: importing domino_emulator fails.
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    for name in [m for m in sys.modules if m.split(".")[0] == "domino_emulator"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "domino_emulator", None)

    assert main(["emulator", "--port", "0", "--quiet"]) == 2

    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and err[0].startswith("error: the Domino emulator is not installed here")
    assert err[1].startswith("hint: pip install domino-emulator")
