"""`domino-mlops init` (issue 24, item 2), in-process: the files a consumer repository needs, valid
as written, never over existing files without --force, and the GitHub settings still to make."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from domino_mlops.cli import main

REF = "0d15ea5e0123456789abcdef0123456789abcdef"
PROJECT = "65f0c0ffee00000000000001"
FILES = {"scripts/model_version.json", "scripts/environments.yaml", ".github/workflows/models.yml",
         ".github/CODEOWNERS", ".github/dependabot.yml"}
TOOLS = Path(sys.executable).parent


def init(root: Path, *extra: str) -> int:
    return main(["init", "--dir", str(root), "--project", PROJECT, "--ref", REF, "--release", "v1.4.0",
                 "--owner", "@acme/ml-platform", *extra])


def written(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_init_writes_a_repository_that_validates_and_says_what_is_left(tmp_path: Path, capsys, monkeypatch) -> None:
    assert init(tmp_path, "--env", "STAGE:small-k8s", "--env", "PROD:medium-k8s/prod-small,prod-gpu",
                "--model", "churn=3") == 0
    out = capsys.readouterr().out

    assert written(tmp_path) == FILES
    monkeypatch.chdir(tmp_path)
    assert main(["validate"]) == 0  # the two files as the workflows will read them
    assert "STAGE -> PROD" in capsys.readouterr().out
    environments = yaml.safe_load((tmp_path / "scripts/environments.yaml").read_text())["environments"]
    prod = environments[1]
    assert (prod["name"], prod["requires"], prod["protected"], prod["domino"]["waves"]) == (
        "PROD", "STAGE", True, [["medium-k8s"], ["prod-small", "prod-gpu"]])
    manifest = yaml.safe_load((tmp_path / "scripts/model_version.json").read_text())
    assert manifest["$schema"].endswith(f"/{REF}/src/domino_mlops/desired/schemas/manifest.schema.json")
    assert manifest[PROJECT] == [{"name": "churn", "version": 3}]

    workflow_text = (tmp_path / ".github/workflows/models.yml").read_text()
    workflow = yaml.safe_load(workflow_text)
    for job, called in (("staging", "deploy-staging.yml"), ("production", "promote-production.yml")):
        spec = workflow["jobs"][job]
        # Pinned to the release's commit, the tag beside it for dependabot, and the ref named once more.
        assert spec["uses"] == f"domino-mlops/domino-mlops/.github/workflows/{called}@{REF}"
        assert spec["with"] == {"domino-mlops-repository": "domino-mlops/domino-mlops", "domino-mlops-ref": REF}
        assert set(spec["secrets"]) == {"DOMINO_READONLY_API_KEY", "MLFLOW_READONLY_TOKEN"}  # by name
    assert f"@{REF} # v1.4.0" in workflow_text and "inherit" not in workflow_text.replace("`secrets: inherit`", "")
    assert workflow["permissions"] == {}
    assert (tmp_path / ".github/CODEOWNERS").read_text().splitlines()[-2:] == [
        "/scripts/   @acme/ml-platform", "/.github/   @acme/ml-platform"]
    dependabot = yaml.safe_load((tmp_path / ".github/dependabot.yml").read_text())
    assert dependabot["updates"] == [{"package-ecosystem": "github-actions", "directory": "/",
                                      "schedule": {"interval": "weekly"}}]
    for schema, path in (("vendor.github-workflows", ".github/workflows/models.yml"),
                         ("vendor.dependabot", ".github/dependabot.yml")):
        done = subprocess.run([str(TOOLS / "check-jsonschema"), "--builtin-schema", schema, path], cwd=tmp_path,
                              capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run([str(TOOLS / "zizmor"), "--offline", "--no-progress", ".github/workflows"], cwd=tmp_path,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0 and "No findings to report" in done.stdout + done.stderr, done.stdout + done.stderr

    # What init cannot do, in GitHub's words, and the check to run afterwards.
    assert "MLFLOW_TRACKING_URI, DOMINO_API_HOST" in out
    assert "DOMINO_READONLY_API_KEY, MLFLOW_READONLY_TOKEN" in out
    assert "GitHub environment 'production' (for PROD): required reviewers" in out
    assert f"PROJECT_ID_{PROJECT}" in out
    assert out.rstrip().splitlines()[-1].strip().endswith("domino-mlops doctor --repository OWNER/NAME")


def test_init_never_overwrites_without_force_and_writes_nothing_then(tmp_path: Path, capsys) -> None:
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github/CODEOWNERS").write_text("* @someone\n")

    assert init(tmp_path) == 2

    err = capsys.readouterr().err
    assert "init would overwrite .github/CODEOWNERS" in err and "--force" in err
    assert written(tmp_path) == {".github/CODEOWNERS"}  # nothing half-done
    assert (tmp_path / ".github/CODEOWNERS").read_text() == "* @someone\n"

    assert init(tmp_path, "--force") == 0
    assert written(tmp_path) == FILES and "@acme/ml-platform" in (tmp_path / ".github/CODEOWNERS").read_text()
    assert "replaced " in capsys.readouterr().out


@pytest.mark.parametrize("extra, says", [
    (("--ref", "v1.4.0"), "--ref must be the full 40-character commit SHA of a release, not 'v1.4.0'"),
    (("--env", "PROD:medium-k8s"), "missing STAGE"),
    (("--env", "STAGE:small k8s", "--env", "PROD"), "is not a hardware tier"),
    (("--owner", "acme"), "CODEOWNERS needs @user, @org/team or an e-mail"),
    (("--model", "churn=latest"), "give NAME=VERSION"),
], ids=["tag-not-sha", "no-stage", "bad-tier", "bad-owner", "bad-version"])
def test_bad_answers_are_exit_2_with_a_hint_and_nothing_written(tmp_path: Path, capsys, extra, says) -> None:
    argv = ["init", "--dir", str(tmp_path), "--project", PROJECT, "--ref", REF, "--owner", "@acme/ml-platform"]
    assert main(argv + list(extra)) == 2
    err = capsys.readouterr().err
    assert says in err and "hint:" in err
    assert written(tmp_path) == set()


def test_without_a_terminal_a_missing_answer_is_exit_2_naming_the_flag(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", open("/dev/null"))
    assert main(["init", "--dir", str(tmp_path), "--project", PROJECT, "--owner", "@acme/ml"]) == 2
    assert "init needs --ref" in capsys.readouterr().err and written(tmp_path) == set()
