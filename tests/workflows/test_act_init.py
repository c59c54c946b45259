"""`domino-mlops init` into an empty repository, then its workflow under act (issue 24, item 2):
what init writes calls the reusable workflows at the pinned commit, passes the read-only secrets
by name, and plans a pull request against the emulator with nothing written."""

from __future__ import annotations

import pytest

from domino_mlops.cli import main
from domino_emulator.local.models import register_diabetes_model
from tests.support.act_runner import TOOLING, TOOLING_REF, ActRepo, pull_request_event
from tests.workflows.conftest import Stack

pytestmark = pytest.mark.act


def test_an_initialised_repository_plans_a_pull_request_through_the_pinned_workflows(stack: Stack, tmp_path) -> None:
    stack.repo = ActRepo(tmp_path / "caller", caller=True)
    (stack.repo.work / "scripts" / "environments.yaml").unlink()  # init starts from an empty folder
    assert {p.name for p in stack.repo.work.iterdir()} == {".git", "scripts"}
    model = f"act-init-{stack.project_id[:6]}"
    version = register_diabetes_model(stack.mlflow_uri, model)

    assert main(["init", "--dir", str(stack.repo.work), "--project", stack.project_id, "--ref", TOOLING_REF,
                 "--repository", TOOLING, "--owner", "@acme/ml-platform", "--model", f"{model}={version}",
                 "--env", "STAGE:small-k8s", "--env", "PROD:medium-k8s/prod-small"]) == 0
    stack.repo.commit("domino-mlops init")
    writes = stack.emu.counters.writes()

    run = stack.act("pull_request", "models.yml", payload=pull_request_event(21))

    assert run.returncode == 0, run.explain()
    assert set(run.jobs().values()) == {"success"} and len(run.jobs()) == 2, run.jobs()  # validate, plan
    assert "Fetch domino-mlops at the commit the caller pinned" in run.log()
    assert stack.emu.counters.writes() == writes  # a pull request plans; it writes nothing
    [comment] = stack.github.thread("acme/models", 21)
    assert "### Plan for STAGE" in comment["body"] and f"`{model}`" in comment["body"]
    assert f"| `{model}` - -> {version} | :arrow_up: small-k8s |" in comment["body"]
    assert stack.leaked(run.log() + run.summary()) == []
