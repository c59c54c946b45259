"""Another team's repository calls the reusable workflows (workflow_call) at a pinned commit.

The caller holds only its own files (the manifest, the environments, one small workflow); the
reusable workflow comes from domino-mlops at that commit, and its `uses: ./...` would look in the
caller's checkout, where no action is. These runs prove the workflow fetches its own actions from
the repository and commit the caller names, and that forgetting to name them, or naming a tag
instead of a commit, is one clear error before anything is fetched, not a deploy.
"""

from __future__ import annotations

import json

import pytest

from domino_emulator.local.models import register_diabetes_model
from tests.support.act_runner import TOOLING, TOOLING_REF, ActRepo, pull_request_event, push_event
from tests.workflows.conftest import Stack

pytestmark = pytest.mark.act

CALLER = """\
name: models
on:
  pull_request:
    paths: [scripts/model_version.json]
  push:
    branches: [main]
permissions: {{}}
jobs:
  staging:
    uses: {tooling}/.github/workflows/deploy-staging.yml@{ref}
    permissions:
      contents: read
      pull-requests: write
    with:
{with_block}
    # act has no environment secrets (on GitHub the deploy job gets PROJECT_ID_<id> and the other
    # write secrets from the GitHub environment it enters), so this stand-in hands over all of
    # them; the README's callers pass the read-only secrets by name.
    secrets: inherit
"""


@pytest.fixture
def caller_stack(stack: Stack, tmp_path) -> Stack:
    """The same MLflow, emulator and fake GitHub, seen from a repository that only calls us."""
    stack.repo = ActRepo(tmp_path / "caller", caller=True)
    return stack


def write_caller(stack: Stack, **inputs: str) -> None:
    # `with:` needs one entry at least; `model: ''` is the workflow's own default (every model).
    with_block = "\n".join(f"      {name}: {value}" for name, value in {"model": "''", **inputs}.items())
    stack.repo.write(".github/workflows/models.yml",
                     CALLER.format(tooling=TOOLING, ref=TOOLING_REF, with_block=with_block))


def test_another_repository_deploys_through_the_reusable_workflow(caller_stack: Stack) -> None:
    stack = caller_stack
    assert not (stack.repo.work / "action.yml").exists() and not (stack.repo.work / "actions").exists()
    model = f"act-reuse-{stack.project_id[:6]}"
    version = register_diabetes_model(stack.mlflow_uri, model)
    write_caller(stack, **{"domino-mlops-repository": TOOLING, "domino-mlops-ref": TOOLING_REF})
    stack.manifest(model, version)

    planned = stack.act("pull_request", "models.yml", payload=pull_request_event(11))

    assert planned.returncode == 0, planned.explain()
    assert len(planned.jobs()) == 2 and set(planned.jobs().values()) == {"success"}, planned.jobs()  # plan only
    assert stack.emu.counters.writes() == 0

    run = stack.act("push", "models.yml", payload=push_event())  # the merge deploys

    assert run.returncode == 0, run.explain()
    assert len(run.jobs()) == 3 and set(run.jobs().values()) == {"success"}, run.jobs()
    # A caller chains its own production job (README): the promotion is not started from here.
    assert [c for c in stack.github.calls("POST") if c.path.endswith("/dispatches")] == []
    log = run.log()
    assert "Run Main Fetch domino-mlops at the commit the caller pinned" in log
    assert ".domino-mlops/actions/deploy-to-staging" in log
    out = run.outputs("deploy", job="deploy")
    api, (deployed,) = stack.serving(f"{model}-stage")
    assert deployed.status == "Running" and out["model-api-version-id"] == deployed.id
    assert stack.aliases(model) == {"staging": version}
    assert [m["status"] for m in json.loads(out["result-json"])["models"]] == ["done"]
    assert stack.leaked(log + run.summary() + json.dumps(out)) == []


def test_a_caller_that_does_not_name_the_ref_gets_one_clear_error_and_no_deploy(caller_stack: Stack,
                                                                                  diabetes_model) -> None:
    stack = caller_stack
    model, version = diabetes_model
    write_caller(stack)
    stack.manifest(model, version)
    writes = stack.emu.counters.writes()

    run = stack.act("pull_request", "models.yml", payload=pull_request_event(12))

    assert run.returncode != 0
    (error,) = [e for e in run.commands("error") if "domino-mlops-ref" in e.get("arg", "")]
    assert "called from another repository" in error["arg"] and "the full commit SHA you pinned" in error["arg"]
    assert "deploy" not in {r.get("jobID") for r in run.records if r.get("jobResult") == "success"}
    assert stack.emu.counters.writes() == writes


@pytest.mark.parametrize("inputs, says", [
    ({"domino-mlops-repository": TOOLING, "domino-mlops-ref": "v1.2.0"},
     "domino-mlops-ref must be a full 40-character commit SHA, not 'v1.2.0'"),
    ({"domino-mlops-repository": TOOLING, "domino-mlops-ref": TOOLING_REF[:12]},
     "domino-mlops-ref must be a full 40-character commit SHA"),
    ({"domino-mlops-ref": TOOLING_REF}, "domino-mlops-repository and domino-mlops-ref go together"),
    ({"domino-mlops-repository": TOOLING}, "domino-mlops-repository and domino-mlops-ref go together"),
    ({"domino-mlops-repository": "'not a repository'", "domino-mlops-ref": TOOLING_REF},
     "domino-mlops-repository must be owner/name"),
], ids=["tag", "short-sha", "ref-without-repository", "repository-without-ref", "malformed-repository"])
def test_a_ref_that_is_not_a_commit_is_refused_before_anything_is_fetched(tmp_path, inputs: dict, says: str) -> None:
    repo = ActRepo(tmp_path / "caller", caller=True)
    with_block = "\n".join(f"      {name}: {value}" for name, value in inputs.items())
    repo.write(".github/workflows/models.yml", CALLER.format(tooling=TOOLING, ref=TOOLING_REF, with_block=with_block))
    repo.write("scripts/model_version.json", "{}\n")
    repo.commit()

    run = repo.run("pull_request", workflow="models.yml", payload=pull_request_event(13))

    assert run.returncode != 0 and 2 in run.exit_statuses(), run.explain()
    (error,) = run.commands("error")
    assert says in error["arg"] and "Hint:" in error["arg"], error
    # act resolves each action when the job starts (the "Pre" stage: a local stub, nothing fetched);
    # what ran is the "Main" stage: the check alone, no checkout of anything.
    ran = [(r["step"], r["stepResult"]) for r in run.records
           if r.get("stage") == "Main" and r.get("stepResult") not in (None, "skipped")]
    assert ran == [("Check the domino-mlops repository and commit the caller pinned", "failure")], ran
    assert set(run.jobs().values()) == {"failure"}, run.jobs()  # validate; plan and deploy never start


def test_a_caller_whose_uses_line_and_ref_disagree_is_refused_before_anything_is_fetched(caller_stack: Stack,
                                                                                        diabetes_model) -> None:
    """Dependabot bumps the SHA in `uses:` and leaves `domino-mlops-ref`: the jobs would then run
    another commit's actions than the workflow's. One clear error, nothing fetched or written."""
    stack = caller_stack
    model, version = diabetes_model
    stale = "f" * 40
    write_caller(stack, **{"domino-mlops-repository": TOOLING, "domino-mlops-ref": stale})
    stack.manifest(model, version)
    writes = stack.emu.counters.writes()

    run = stack.act("pull_request", "models.yml", payload=pull_request_event(13))

    assert run.returncode != 0 and 2 in run.exit_statuses(job="validate"), run.explain()
    (error,) = [e for e in run.commands("error") if "pin" in e.get("arg", "")]
    assert f"pin {TOOLING} at {TOOLING_REF} but pass domino-mlops-ref {stale}" in error["arg"]
    assert "Run Main Fetch domino-mlops at the commit the caller pinned" not in run.log()  # act runs its Pre at job start
    assert stack.emu.counters.writes() == writes
