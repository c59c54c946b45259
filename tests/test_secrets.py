"""No credential ever leaves the process in clear, and each is masked the moment it is read.

Full flows (plan with a PR comment, deploy, promote, rollback, history, failures with
--traceback) run in Actions mode against a real MLflow server behind a bearer-token proxy, the
Domino emulator and a fake GitHub, with a distinctive value for every credential: the project
token, the Domino API key, the general MLflow token, the model access token, the GitHub token.
Then every place a value could land is searched: stdout, stderr, the step summary, the outputs
file, MLflow's model and version tags, the ledger, the PR comment bodies.
"""

from __future__ import annotations

import json
import traceback
from pathlib import Path

import pytest

from domino_mlops.cli import main
from domino_emulator import Emulator
from domino_emulator.seed import default_seed
from domino_emulator.local.models import SAMPLE_PATIENT, register_diabetes_model
from tests.apply.conftest import REPO
from tests.support.auth_proxy import auth_proxy
from tests.support.fake_github import fake_github

MODEL = "secret-flow"
SECRETS = {
    "project token": "PROJECT-TOKEN-SECRET-4f1d9a",
    "api key": "DOMINO-API-KEY-SECRET-77c2e0",
    "mlflow token": "MLFLOW-TOKEN-SECRET-0b8e3c",
    "model token": "MODEL-ACCESS-TOKEN-SECRET-5a6b7c",
    "github token": "GITHUB-TOKEN-SECRET-9d0e1f",
}


@pytest.fixture
def world(tmp_path: Path, mlflow_server, monkeypatch: pytest.MonkeyPatch):
    seed = default_seed()
    project = seed["default_project"]
    seed["credentials"] += [{"token": SECRETS["project token"], "user": "demo-user", "projects": [project]},
                            {"api_key": SECRETS["api key"], "user": "demo-user", "projects": [project]}]
    seed["model_api_access"] = [{"project": project, "model_api": "*", "public": False,
                                 "tokens": [{"name": "ci", "token": SECRETS["model token"]}]}]
    ledger = "domino-mlops-ledger"  # the proxy reads an experiment's name as a model's
    grants = {SECRETS["project token"]: {MODEL, ledger}, SECRETS["mlflow token"]: {MODEL, ledger}}
    with Emulator(mlflow_uri=mlflow_server.uri, world=seed, deploy_seconds=0.2) as emu, \
            auth_proxy(mlflow_server.uri, grants) as mlflow, fake_github({SECRETS["github token"]: "write"}) as github:
        github.protect("acme/models", "production")  # the promotions ask GitHub, with the GitHub token
        github.protect("acme/models", "staging", reviewers=False)  # STAGE shares production's reach
        github.approve("acme/models", "production", "second-reviewer")  # someone other than the actor
        (tmp_path / "scripts").mkdir()
        (tmp_path / "scripts" / "environments.yaml").write_text((REPO / "scripts" / "environments.yaml").read_text())
        v1 = register_diabetes_model(mlflow_server.uri, MODEL)
        v2 = register_diabetes_model(mlflow_server.uri, MODEL, alpha=2.0)
        event = tmp_path / "event.json"
        event.write_text(json.dumps({"pull_request": {"number": 7}}))
        monkeypatch.chdir(tmp_path)
        for key, value in {
            "MLFLOW_TRACKING_URI": mlflow.url, "MLFLOW_TRACKING_TOKEN": SECRETS["mlflow token"],
            "DOMINO_API_HOST": emu.url, "DOMINO_USER_API_KEY": SECRETS["api key"],
            f"PROJECT_ID_{emu.project_id}": SECRETS["project token"],
            "DOMINO_MODEL_TOKENS": SECRETS["model token"], "GITHUB_TOKEN": SECRETS["github token"],
            "GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(tmp_path / "output"),
            "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"), "GITHUB_EVENT_PATH": str(event),
            "GITHUB_EVENT_NAME": "pull_request", "GITHUB_REPOSITORY": "acme/models", "GITHUB_API_URL": github.url,
            # Writes happen only on the default branch (api.guard_writes): the run is main's.
            "GITHUB_REF": "refs/heads/main", "GITHUB_RUN_ID": "99", "GITHUB_ACTOR": "octocat",
        }.items():
            monkeypatch.setenv(key, value)
        yield {"emu": emu, "github": github, "mlflow_uri": mlflow_server.uri, "root": tmp_path,
               "project": emu.project_id, "versions": (v1, v2)}


def manifest(world, version: str) -> None:
    body = {world["project"]: [{"name": MODEL, "version": int(version),
                                "smoke_test": {"input": SAMPLE_PATIENT, "expect_shape": [1]}}]}
    (world["root"] / "scripts" / "model_version.json").write_text(json.dumps(body))


def test_no_credential_appears_anywhere_and_each_is_masked_when_read(world, capsys, monkeypatch) -> None:
    v1, v2 = world["versions"]
    outputs: list[str] = []

    def run(*argv: str) -> int:
        dump = ""
        try:
            code = main(list(argv))
        except Exception:  # --traceback lets the error out: its dump is a place to search too
            dump, code = traceback.format_exc(), 99
        captured = capsys.readouterr()
        outputs.append(captured.out + captured.err + dump)
        return code

    manifest(world, v1)
    assert run("plan", "--env", "STAGE", "--pr-comment") == 0
    assert run("deploy", "--env", "STAGE", "--pr-comment") == 0  # smoke-tested with the model token
    assert run("promote", "--env", "PROD") == 0
    manifest(world, v2)
    assert run("deploy", "--env", "STAGE", "--pr-comment") == 0
    assert run("promote", "--env", "PROD") == 0
    assert run("rollback", "--env", "PROD", "--model", MODEL) == 0
    assert run("history", "--model", MODEL, "--json") == 0
    # Failures, with the full traceback asked for: a refused model token, then a refused Domino key.
    monkeypatch.setenv("DOMINO_MODEL_TOKENS", "{\"secret-flow\": \"" + SECRETS["model token"] + "-WRONG\"}")
    manifest(world, v1)
    assert run("--traceback", "deploy", "--env", "STAGE") != 0
    monkeypatch.delenv(f"PROJECT_ID_{world['project']}")
    monkeypatch.setenv("DOMINO_MODEL_TOKENS", SECRETS["model token"])
    assert run("plan", "--env", "PROD") == 0  # no project token: the API key and the general MLflow token
    monkeypatch.setenv("DOMINO_USER_API_KEY", SECRETS["api key"] + "-REVOKED")
    assert run("--traceback", "plan", "--env", "PROD") != 0

    places = {"stdout and stderr": "\n".join(outputs),
              "step summary": (world["root"] / "summary.md").read_text(),
              "outputs": (world["root"] / "output").read_text(),
              "PR comments": json.dumps(world["github"].thread("acme/models", 7)),
              "MLflow tags and ledger": _mlflow_text(world["mlflow_uri"])}
    assert world["github"].thread("acme/models", 7)  # the comment was posted: the GitHub token was used
    for what, value in SECRETS.items():
        for place, text in places.items():
            # A mask command names the value, for the runner only: the runner never shows it.
            shown = "\n".join(line for line in text.splitlines() if not line.startswith("::add-mask::"))
            assert value not in shown, f"the {what} appears in the {place}"

    # Each was masked the moment it was read: before the first line of output that follows its use.
    def masked_before(run_output: str, what: str, marker: str) -> bool:
        lines = run_output.splitlines()
        line = f"::add-mask::{SECRETS[what]}"
        return line in lines and lines.index(line) < next(i for i, text in enumerate(lines) if marker in text)

    plan_with_comment, plan_with_general_credentials = outputs[0], outputs[-2]
    assert masked_before(plan_with_comment, "project token", "### Plan")
    assert masked_before(plan_with_comment, "model token", "### Plan")
    assert masked_before(plan_with_comment, "github token", "Plan posted to the pull request")
    assert masked_before(plan_with_general_credentials, "api key", "### Plan")
    assert masked_before(plan_with_general_credentials, "mlflow token", "### Plan")


def _mlflow_text(uri: str) -> str:
    """Every tag MLflow holds about the model and every ledger run, as one text."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    parts = [json.dumps(client.get_registered_model(MODEL).tags)]
    parts += [json.dumps(v.tags) for v in client.search_model_versions(f"name='{MODEL}'")]
    ledger = client.get_experiment_by_name("domino-mlops-ledger")
    for run in client.search_runs([ledger.experiment_id]):
        parts += [json.dumps(run.data.tags), json.dumps(run.data.params)]
    return "\n".join(parts)
