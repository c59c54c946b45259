"""`domino-mlops export` in build mode against a real MLflow server with real registered models:
the build context of each tagged version, the rendered files, the client server answering like
the model, build and push through a recording `docker`, idempotence, the ledger."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from domino_mlops.cli import main
from domino_emulator.local.mlflow_server import free_port
from domino_emulator.local.models import register_diabetes_model
from tests.support.emulator import DIABETES_ROW
from tests.support.exports import FAKE_DIGEST, calls, export_tag, fake_tool, outputs, path_with, write_targets

MODEL, OTHER = "export-churn", "export-other"
TOKEN = "s3cr3t-registry-token-value"


@pytest.fixture(scope="module")
def models(mlflow_server):
    """export-churn v1..v3 and export-other v1; v1 and v3 of export-churn carry the request tags
    of every target these tests use, v2 and export-other carry none."""
    from mlflow import MlflowClient

    versions = [register_diabetes_model(mlflow_server.uri, MODEL, alpha=a) for a in (0.5, 1.0, 2.0)]
    register_diabetes_model(mlflow_server.uri, OTHER)
    client = MlflowClient(mlflow_server.uri, mlflow_server.uri)
    for version in (versions[0], versions[2]):
        for target in ("CTX", "PUSH", "SERVE", "FAILS"):
            client.set_model_version_tag(MODEL, version, f"TARGET_{target}", "true")
    client.set_model_version_tag(MODEL, versions[1], "TARGET_CTX", "false")  # a tag set to false asks nothing
    return client, versions


@pytest.fixture
def workspace(tmp_path, mlflow_server, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "github_output"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    monkeypatch.setenv("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    monkeypatch.setenv("PATH", path_with(tmp_path / "empty-bin"))  # no real container tool is found
    monkeypatch.setenv("CONTAINER_TOOL", "no-such-container-tool")
    return tmp_path


def _docker_on_path(workspace: Path, monkeypatch, **options) -> Path:
    """A recording fake docker first on PATH, with the registry login the targets name; its log."""
    log = workspace / "docker.log"
    fake_tool(workspace / "bin", log, **options)
    monkeypatch.setenv("PATH", path_with(workspace / "bin"))
    monkeypatch.delenv("CONTAINER_TOOL")
    monkeypatch.setenv("FOUNDRY_USER", "robot$foundry")
    monkeypatch.setenv("FOUNDRY_TOKEN", TOKEN)
    return log


def _targets(root: Path, name: str, **extra: str) -> Path:
    more = "".join(f"    {k}: {v}\n" for k, v in extra.items())
    return write_targets(root, f"""
        targets:
          - name: {name}
            mode: build
            registry: registry.example.com/foundry
            credentials: {{username: FOUNDRY_USER, password: FOUNDRY_TOKEN}}
        """ + more)


def test_contexts_are_laid_out_for_tagged_versions_only(workspace, models, capsys):
    client, (v1, v2, v3) = models
    targets = _targets(workspace, "CTX")

    assert main(["export", "--targets", str(targets), "--context-only", "--output", "out"]) == 0

    assert sorted(p.name for p in (workspace / "out" / MODEL).iterdir()) == [f"v{v1}", f"v{v3}"]
    assert not (workspace / "out" / OTHER).exists()
    for version in (v1, v3):
        context = workspace / "out" / MODEL / f"v{version}"
        assert {"Dockerfile", "create_docker_image.sh", "client", "mymodel"} <= {p.name for p in context.iterdir()}
        assert {"MLmodel", "requirements.txt", "python_env.yaml"} <= {p.name for p in (context / "mymodel").iterdir()}
        dockerfile = (context / "Dockerfile").read_text()
        assert "{{" not in dockerfile and f"{MODEL} version {version} as registry.example.com/foundry/{MODEL}:v{version}" \
            in dockerfile and 'ENTRYPOINT ["python", "/app/client/server.py"]' in dockerfile
        script = context / "create_docker_image.sh"
        assert f"image='registry.example.com/foundry/{MODEL}:v{version}'" in script.read_text()
        assert script.stat().st_mode & 0o111 and "{{" not in script.read_text()
        subprocess.run(["bash", "-n", str(script)], check=True)
        assert f'MODEL_VERSION = "{version}"' in (context / "client" / "server.py").read_text()
        hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
        if hadolint:  # the dev extra installs it; a failure names the rule
            for dockerfile in (context / "Dockerfile", context / "agent" / "Dockerfile"):
                done = subprocess.run([hadolint, str(dockerfile)], capture_output=True, text=True)
                assert done.returncode == 0, done.stdout + done.stderr
    # Nothing was pushed, so nothing is marked exported and the next run plans the same again.
    assert export_tag(client, MODEL, v1, "CTX") is None
    assert outputs(workspace / "github_output")["has-changes"] == "true"
    assert "context-only" in capsys.readouterr().out


def test_json_is_one_document_on_stdout(workspace, models, capsys):
    _, (v1, _, v3) = models
    targets = str(_targets(workspace, "CTX"))

    assert main(["export", "--targets", targets, "--plan-only", "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["to_export"] == [f"CTX:{MODEL}:{v1}", f"CTX:{MODEL}:{v3}"]

    assert main(["export", "--targets", targets, "--context-only", "--json", "--output", "out"]) == 0
    both = json.loads(capsys.readouterr().out)
    assert [o["status"] for o in both["result"]["outcomes"]] == ["context-only", "context-only"]
    assert both["plan"]["to_export"] == plan["to_export"]


def test_the_client_server_answers_like_the_model_in_mlflow(workspace, models, mlflow_server):
    import mlflow.pyfunc
    import pandas as pd

    _, (v1, _, _) = models
    assert main(["export", "--targets", str(_targets(workspace, "CTX")), "--context-only", "--output", "out"]) == 0
    context = workspace / "out" / MODEL / f"v{v1}"
    port = free_port()
    server = subprocess.Popen([sys.executable, str(context / "client" / "server.py")],
                              env={"PATH": "/usr/bin:/bin", "HOST": "127.0.0.1", "PORT": str(port),
                                   "MLFLOW_DISABLE_TELEMETRY": "true"},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd="/")
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_for(f"{base}/health", server)
        assert requests.get(f"{base}/health", timeout=5).json() == {"status": "ok", "model": MODEL, "version": v1,
                                                                     "capture": {"mode": "off"}}
        answer = requests.post(f"{base}/predict", json={"data": DIABETES_ROW}, timeout=30)
        assert answer.status_code == 200, answer.text
        bad = requests.post(f"{base}/predict", json={"data": "age"}, timeout=30)
        assert bad.status_code == 400 and "one row" in bad.json()["error"]
    finally:
        server.terminate()
        server.wait(timeout=10)
    mlflow.set_tracking_uri(mlflow_server.uri)
    model = mlflow.pyfunc.load_model(f"models:/{MODEL}/{v1}")
    expected = model.predict(pd.DataFrame([{k: float(v) for k, v in DIABETES_ROW.items()}]))
    assert answer.json()["predictions"] == pytest.approx([float(expected[0])], rel=1e-12)


def _wait_for(url: str, process: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the client server exited: {process.stdout.read().decode()}")
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the client server did not answer within {timeout} s")


def test_build_and_push_with_docker_then_a_second_run_exports_nothing(workspace, models, monkeypatch, capsys):
    client, (v1, _, v3) = models
    log = _docker_on_path(workspace, monkeypatch)
    monkeypatch.setenv("EXPORT_REGISTRY_CREDENTIALS", '{"ANOTHER_TARGETS_TOKEN": "x"}')  # hidden from the tool too
    targets = _targets(workspace, "PUSH")

    assert main(["export", "--targets", str(targets), "--output", "out"]) == 0

    made = calls(log)
    assert [c["argv"][0] for c in made] == ["login", "build", "push", "build", "push"]  # one login per registry
    login = made[0]
    assert login["argv"] == ["login", "--username", "robot$foundry", "--password-stdin", "registry.example.com"]
    assert login["stdin"] == TOKEN
    for call in made:
        assert TOKEN not in json.dumps(call["argv"]) and call["env"] == [] and call["docker_config"]
    for (build, push), version in zip([made[1:3], made[3:5]], (v1, v3)):
        image = f"registry.example.com/foundry/{MODEL}:v{version}"
        assert build["argv"] == ["build", "--tag", image, str(Path("out") / MODEL / f"v{version}")]
        assert {"Dockerfile", "create_docker_image.sh", "client/server.py", "mymodel/MLmodel"} <= set(build["context_files"])
        assert push["argv"] == ["push", image]
        tag = export_tag(client, MODEL, version, "PUSH")
        assert (tag["image"], tag["digest"], tag["mode"]) == (image, FAKE_DIGEST, "build")
    ledger = _ledger(client, "export:PUSH")
    assert [(e["model"], e["to"], e["action"], e["image"]) for e in ledger] == [
        (MODEL, v, "export", f"registry.example.com/foundry/{MODEL}:v{v}@{FAKE_DIGEST}") for v in (v1, v3)]
    result = json.loads(outputs(workspace / "github_output")["result-json"])
    assert [o["status"] for o in result["outcomes"]] == ["exported", "exported"]
    summary = (workspace / "summary.md").read_text()
    assert "### Exported" in summary and TOKEN not in summary and TOKEN not in capsys.readouterr().out

    (workspace / "github_output").unlink()
    assert main(["export", "--targets", str(targets), "--output", "out"]) == 0  # the second run
    assert len(calls(log)) == 5 and len(_ledger(client, "export:PUSH")) == 2
    assert outputs(workspace / "github_output")["has-changes"] == "false"
    assert "Nothing to export" in capsys.readouterr().out


def test_a_failed_push_is_reported_not_tagged_and_retried(workspace, models, monkeypatch, capsys):
    client, (v1, _, v3) = models
    log = workspace / "docker.log"
    fake_tool(workspace / "bin", log, fail_on="push")
    monkeypatch.setenv("PATH", path_with(workspace / "bin"))
    monkeypatch.delenv("CONTAINER_TOOL")
    monkeypatch.setenv("FOUNDRY_USER", "robot")
    monkeypatch.setenv("FOUNDRY_TOKEN", TOKEN)
    targets = _targets(workspace, "FAILS")

    assert main(["export", "--targets", str(targets), "--output", "out"]) == 1

    err = capsys.readouterr().err
    assert "push of registry.example.com/foundry/export-churn:v1 failed" in err and TOKEN not in err
    assert export_tag(client, MODEL, v1, "FAILS") is None and export_tag(client, MODEL, v3, "FAILS") is None
    assert _ledger(client, "export:FAILS") == []
    assert "requested access to the resource is denied" in (workspace / "summary.md").read_text()
    fake_tool(workspace / "bin", log)  # the registry lets it in now: the next run exports both
    assert main(["export", "--targets", str(targets), "--output", "out"]) == 0
    assert export_tag(client, MODEL, v1, "FAILS")["digest"] == FAKE_DIGEST


def test_a_missing_credential_fails_that_export_with_exit_2(workspace, models, monkeypatch, capsys):
    fake_tool(workspace / "bin", workspace / "docker.log")
    monkeypatch.setenv("PATH", path_with(workspace / "bin"))
    monkeypatch.delenv("CONTAINER_TOOL")
    targets = _targets(workspace, "PUSH", models="[export-other, export-churn]")
    write_targets(workspace, targets.read_text().replace("name: PUSH", "name: NOCRED")
                  .replace("PUSH", "NOCRED"), targets.name)
    models[0].set_model_version_tag(MODEL, models[1][0], "TARGET_NOCRED", "1")

    assert main(["export", "--targets", str(targets), "--output", "out"]) == 2

    err = capsys.readouterr().err
    assert "no credential for registry registry.example.com (export target NOCRED)" in err
    assert calls(workspace / "docker.log") == []


def test_the_apply_checks_again_and_skips_what_changed_since_the_plan(workspace, models, mlflow_server):
    from domino_mlops import api
    from domino_mlops.connections import Connections
    from domino_mlops.desired.targets import load_targets

    client, (v1, _, v3) = models
    for version in (v1, v3):
        client.set_model_version_tag(MODEL, version, "TARGET_RACE", "true")
    log = workspace / "docker.log"
    planned = []

    class AnotherRunMeanwhile(api.Reporter):
        def on_export_plan(self, plan):  # after the plan, before the export
            planned.extend(i.version for i in plan.to_export)
            client.set_model_version_tag(MODEL, v1, "domino_mlops.export.RACE", "pushed by another run")
            client.delete_model_version_tag(MODEL, v3, "TARGET_RACE")

    targets = load_targets(_targets(workspace, "RACE"))
    request = api.ExportRequest(output=workspace / "out", tool=str(fake_tool(workspace / "bin", log)),
                                reporter=AnotherRunMeanwhile())
    with Connections({"MLFLOW_TRACKING_URI": mlflow_server.uri}) as connections:
        result = api.export(request, targets, connections).result

    assert planned == [v1, v3]
    assert [(o.status, o.error) for o in result.outcomes] == [
        ("skipped", "exported meanwhile by another run"), ("skipped", "its TARGET_RACE tag was removed")]
    assert calls(log) == [] and result.exit_code == 0 and not (workspace / "out").exists()


def _ledger(client, environment: str) -> list[dict[str, str]]:
    experiment = client.get_experiment_by_name("domino-mlops-ledger")
    if experiment is None:
        return []
    runs = client.search_runs([experiment.experiment_id], filter_string=f"tags.`dmlops.environment` = '{environment}'",
                              order_by=["attributes.start_time ASC"])
    return sorted(({k.split(".", 1)[1]: v for k, v in r.data.tags.items() if k.startswith("dmlops.")} for r in runs),
                  key=lambda e: int(e["to"]))


def test_in_actions_an_export_whose_token_reaches_production_must_be_kept_to_main(workspace, models, monkeypatch,
                                                                                   capsys):
    """The export's MLflow token tags the models production marks (same server, same names): run
    from a GitHub environment that admits any branch, it would be a way around PROD's approval."""
    from tests.support.fake_github import fake_github

    client, (_, _, v3) = models
    log = _docker_on_path(workspace, monkeypatch)
    (workspace / "scripts").mkdir()
    (workspace / "scripts" / "model_version.json").write_text(json.dumps({"p1": [{"name": MODEL, "version": 1}]}))
    client.set_model_version_tag(MODEL, v3, "TARGET_GUARDED", "true")
    targets = _targets(workspace, "GUARDED")
    with fake_github({"ghs_exportToken0123456789": "read"}) as github:
        for name, value in {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/models", "GITHUB_API_URL": github.url,
                            "GITHUB_TOKEN": "ghs_exportToken0123456789", "GITHUB_REF": "refs/heads/main",
                            "GITHUB_RUN_ID": "77"}.items():
            monkeypatch.setenv(name, value)
        github.environment("acme/models", "export", "environment-no-rules")  # the README's old advice: no rules
        capsys.readouterr()

        assert main(["export", "--targets", str(targets), "--output", "out"]) == 3

        err = capsys.readouterr().err
        assert f"export can reach what PROD (Domino project p1 and MLflow registered model {MODEL}" in err
        assert "every branch may deploy to 'export'" in err
        assert calls(log) == [] and export_tag(client, MODEL, v3, "GUARDED") is None

        github.protect("acme/models", "export", reviewers=False)  # only main may use the export secrets
        assert main(["export", "--targets", str(targets), "--output", "out"]) == 0
        assert export_tag(client, MODEL, v3, "GUARDED")["image"] == f"registry.example.com/foundry/{MODEL}:v{v3}"


def test_the_container_tool_sees_only_an_allow_listed_environment(workspace, models, monkeypatch):
    """MLFLOW_TRACKING_URI with its password and the smoke tests' model tokens used to reach the
    tool's environment (only the named credential variables were removed): now nothing but the
    names a container tool reads does."""
    from domino_mlops.apply.export_build import _PASSED, _PASSED_PREFIXES

    client, (v1, _, v3) = models
    client.set_model_version_tag(MODEL, v1, "TARGET_ENVCHECK", "true")
    log = _docker_on_path(workspace, monkeypatch)
    monkeypatch.setenv("DOMINO_MODEL_TOKENS_PROD", '{"churn": "model-token-value"}')
    monkeypatch.setenv("SOME_OTHER_SECRET", "x")
    monkeypatch.setenv("DOCKER_HOST", "unix:///run/user/1000/docker.sock")  # the tool's own setting passes

    assert main(["export", "--targets", str(_targets(workspace, "ENVCHECK")), "--output", "out"]) == 0

    made = calls(log)
    assert made and all("DOCKER_HOST" in c["all_env"] and "PATH" in c["all_env"] for c in made)
    allowed = set(_PASSED) | {"DOCKER_CONFIG", "REGISTRY_AUTH_FILE"}
    for call in made:
        leaked = [n for n in call["all_env"] if n not in allowed and not n.startswith(_PASSED_PREFIXES)]
        assert leaked == [], leaked
        assert not {"MLFLOW_TRACKING_URI", "DOMINO_MODEL_TOKENS_PROD", "SOME_OTHER_SECRET"} & set(call["all_env"])
