"""deploy-staging.yml through act: the plan on the pull request, then the deploy, against a real
MLflow server, the Domino emulator and a fake GitHub API."""

from __future__ import annotations

import json

import pytest

from domino_emulator.local.models import register_diabetes_model
from tests.support.act_runner import dispatch_event, pull_request_event, push_event
from tests.workflows.conftest import GITHUB_TOKEN

pytestmark = pytest.mark.act

REPO = "acme/models"
MARKER = "<!-- domino-mlops:plan:STAGE -->"


def test_plan_job_comments_the_plan_and_updates_it_in_place(stack) -> None:
    model = f"act-plan-{stack.project_id[:6]}"
    version = register_diabetes_model(stack.mlflow_uri, model)
    stack.manifest(model, version)
    variables = {"MLFLOW_TRACKING_URI": stack.mlflow_uri}  # MLflow only: the plan of the registry

    run = stack.repo.run("pull_request", workflow="deploy-staging.yml", job="plan", payload=pull_request_event(7),
                         env=stack.env(), secrets={"GITHUB_TOKEN": GITHUB_TOKEN}, variables=variables)

    assert run.returncode == 0, run.explain()
    assert set(run.jobs().values()) == {"success"} and len(run.jobs()) == 2  # validate, then plan
    assert json.loads(run.outputs("projects", job="validate")["projects"]) == [stack.project_id]
    out = run.outputs("plan", job="plan")
    plan = json.loads(out["plan-json"])
    assert plan["environment"] == "STAGE" and plan["changed_models"] == [model]
    assert out["has-changes"] == "true" and out["changed-models"] == model
    summary = run.summary(job="plan")
    assert "### Plan for STAGE" in summary and f"`{model}`" in summary
    (comment,) = stack.github.thread(REPO, 7)
    assert comment["body"].startswith(MARKER) and "### Plan for STAGE" in comment["body"]
    assert GITHUB_TOKEN not in run.log()

    again = stack.repo.run("pull_request", workflow="deploy-staging.yml", job="plan", payload=pull_request_event(7),
                           env=stack.env(), secrets={"GITHUB_TOKEN": GITHUB_TOKEN}, variables=variables)

    assert again.returncode == 0, again.explain()
    assert len(stack.github.thread(REPO, 7)) == 1 and len(stack.github.calls("PATCH")) == 1


def test_the_plan_job_plans_domino_and_mlflow_with_the_read_only_secrets_alone(stack) -> None:
    """No write secret in the run at all: the plan job still reads Domino (with the reader's key)
    and MLflow, and writes nothing."""
    model = f"act-read-{stack.project_id[:6]}"
    version = register_diabetes_model(stack.mlflow_uri, model)
    stack.manifest(model, version)
    writes = stack.emu.counters.writes()

    run = stack.repo.run("pull_request", workflow="deploy-staging.yml", job="plan", payload=pull_request_event(9),
                         env=stack.env(), secrets=stack.read_only_secrets(), variables=stack.variables())

    assert run.returncode == 0, run.explain()
    assert run.outputs("environment", job="validate")["github-environment"] == "staging"
    steps = json.loads(run.outputs("plan", job="plan")["plan-json"])["changes"][0]["steps"]
    assert any("small-k8s" in json.dumps(step) for step in steps), steps  # a Domino step: Domino was read
    assert stack.emu.counters.writes() == writes
    assert stack.leaked(run.log() + run.summary()) == []


def test_a_pull_request_only_plans_and_the_merge_deploys_then_starts_the_promotion(stack) -> None:
    """A pull request (the manifest is data: it may name any version) enters no GitHub environment
    and writes nothing; the push to main deploys to staging and then starts promote-production."""
    model = f"act-stage-{stack.project_id[:6]}"
    version = register_diabetes_model(stack.mlflow_uri, model)
    stack.manifest(model, version)
    writes = stack.emu.counters.writes()

    planned = stack.act("pull_request", "deploy-staging.yml", payload=pull_request_event(7))

    assert planned.returncode == 0, planned.explain()
    assert set(planned.jobs().values()) == {"success"}
    assert {r.get("jobID") for r in planned.records if "jobResult" in r} == {"validate", "plan"}
    assert stack.emu.counters.writes() == writes and "staging" not in stack.aliases(model)
    assert stack.ledger(model) == ()
    assert [c.path for c in stack.github.calls("POST") if c.path.endswith("/dispatches")] == []
    (comment,) = stack.github.thread(REPO, 7)
    assert comment["body"].startswith(MARKER) and f"`{model}`" in comment["body"]

    run = stack.act("push", "deploy-staging.yml", payload=push_event(), actor="merger")

    assert run.returncode == 0, run.explain()
    assert len(run.jobs()) == 4 and set(run.jobs().values()) == {"success"}
    out = run.outputs("deploy", job="deploy")
    api, (deployed,) = stack.serving(f"{model}-stage")
    assert deployed.status == "Running" and deployed.source.registered_model_version == int(version)
    assert out["model-api-id"] == api.id and out["model-api-version-id"] == deployed.id
    assert out["endpoint-url"] == f"{stack.emu.url}/models/{api.id}/latest/model"
    assert out["model-page-url"] == f"{stack.emu.url}/models/{api.id}/overview"  # environment.url
    assert [m["status"] for m in json.loads(out["result-json"])["models"]] == ["done"]
    assert stack.aliases(model) == {"staging": version}
    tags = stack.tags(model, version)
    assert tags["DOMINO_MODEL_ID"] == api.id and tags["DOMINO_MODEL_VERSION_ID"] == deployed.id
    summary = run.summary(job="deploy")
    assert "### Plan for STAGE" in summary and "### Deployed: STAGE" in summary
    (entry,) = stack.ledger(model)
    assert entry.action == "deploy" and entry.to_version == version and entry.commit_sha == stack.head()
    assert entry.run_url.startswith(f"https://github.com/{REPO}/actions/runs/")
    # The promotion starts after the deploy, on the default branch, with the job's token.
    (dispatch,) = [c for c in stack.github.calls("POST") if c.path.endswith("/dispatches")]
    assert dispatch.path == f"/repos/{REPO}/actions/workflows/promote-production.yml/dispatches"
    # Its actor will be github-actions[bot]: who merged is handed over, so they cannot approve it.
    assert dispatch.body["ref"] == "main" and dispatch.token == GITHUB_TOKEN
    assert dispatch.body["inputs"]["initiated-by"].split(",")[0] == "merger"
    assert stack.leaked(run.log() + run.summary() + json.dumps(out)) == []

    writes = stack.emu.counters.writes()
    rerun = stack.act("workflow_dispatch", "deploy-staging.yml", payload=dispatch_event())

    assert rerun.returncode == 0, rerun.explain()
    assert stack.emu.counters.writes() == writes
    assert json.loads(rerun.outputs("deploy", job="deploy")["plan-json"])["changed_models"] == []
    assert len(stack.ledger(model)) == 1


def test_a_dispatch_from_another_branch_is_refused_before_any_secret(stack, diabetes_model) -> None:
    model, version = diabetes_model
    stack.manifest(model, version)

    run = stack.act("workflow_dispatch", "deploy-staging.yml", payload=dispatch_event("refs/heads/model-update"))

    assert run.returncode != 0 and 2 in run.exit_statuses(job="validate"), run.explain()
    assert any("deploys only from the default branch (main), not from refs/heads/model-update" in e["arg"]
               for e in run.commands("error"))
    assert {r.get("jobID") for r in run.records if "jobResult" in r} == {"validate"}
    assert stack.emu.counters.writes() == 0


def test_a_pull_request_from_a_fork_is_planned_but_never_deployed(stack, diabetes_model) -> None:
    model, version = diabetes_model
    stack.manifest(model, version)

    run = stack.act("pull_request", "deploy-staging.yml", payload=pull_request_event(8, fork="stranger/models"))

    assert run.returncode == 0, run.explain()
    assert {r.get("jobID") for r in run.records if "jobResult" in r} == {"validate", "plan"}
    assert "### Plan for STAGE" in run.summary(job="plan")
    assert stack.emu.counters.writes() == 0


def test_a_pull_request_that_points_staging_at_the_production_alias_writes_nothing(stack) -> None:
    """The data-only attack: STAGE takes the production alias and stage. The pull request's run
    plans it (read-only), and nothing in MLflow or Domino moves: production stays where it was."""
    model = f"act-grab-{stack.project_id[:6]}"
    first = register_diabetes_model(stack.mlflow_uri, model)
    stack.manifest(model, first)
    assert stack.cli("deploy", "--env", "STAGE") == 0 and stack.cli("promote", "--env", "PROD") == 0
    newer = register_diabetes_model(stack.mlflow_uri, model, alpha=2.0)
    environments = stack.repo.work / "scripts" / "environments.yaml"
    text = environments.read_text().replace("alias: staging", "alias: production").replace(
        "stage: Staging", "stage: Production")
    # PROD's own alias renamed, so the file still validates: the plan shows the move it would make.
    text = text.replace("      alias: production\n      stage_mode: both\n      stage: Production\n    smoke_test:\n"
                        "      enabled: true\n      timeout_seconds: 60",
                        "      alias: prod-old\n    smoke_test:\n      enabled: true\n      timeout_seconds: 60")
    stack.repo.write("scripts/environments.yaml", text)
    stack.manifest(model, newer)  # commits both files on the pull request's branch
    writes, versions = stack.emu.counters.writes(), stack.aliases(model)

    run = stack.act("pull_request", "deploy-staging.yml", payload=pull_request_event(9))

    assert run.returncode == 0, run.explain()
    assert {r.get("jobID") for r in run.records if "jobResult" in r} == {"validate", "plan"}
    assert "@production" in run.summary(job="plan")  # the reviewer sees what the change would do
    assert stack.emu.counters.writes() == writes and stack.aliases(model) == versions
    assert stack.aliases(model)["production"] == first


def test_a_big_plan_is_uploaded_and_the_outputs_stay_small(stack) -> None:
    """120 models: the plan's JSON is over the 64 KiB an output carries. The plan job uploads the
    whole file (actions/upload-artifact's inputs, through a stand-in: it cannot run offline here),
    and the job's outputs carry its digest and count, not the plan."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=stack.mlflow_uri, registry_uri=stack.mlflow_uri)
    models = [f"act-big-{stack.project_id[:6]}-{i:03d}" for i in range(120)]
    for name in models:
        client.create_registered_model(name)
        client.create_model_version(name, source="s3://act-bucket/never-loaded")
    stack.repo.write("scripts/model_version.json",
                     json.dumps({stack.project_id: [{"name": name, "version": 1} for name in models]}) + "\n")
    stack.repo.commit("120 models")

    run = stack.repo.run("pull_request", workflow="deploy-staging.yml", job="plan", payload=pull_request_event(7),
                         env=stack.env(), secrets={"GITHUB_TOKEN": GITHUB_TOKEN},
                         variables={"MLFLOW_TRACKING_URI": stack.mlflow_uri})

    assert run.returncode == 0, run.explain()
    out = run.outputs("plan", job="plan")
    assert out["plan-json"] == "" and out["plan-count"] == "120" and out["plan-artifact"] == "domino-mlops-plan-STAGE"
    assert sum(len(value.encode()) for value in out.values()) < 16 * 1024  # the plan itself would be > 64 KiB
    (uploaded,) = (stack.repo.root / "artifacts" / "domino-mlops-plan-STAGE").iterdir()
    plan = json.loads(uploaded.read_text())
    assert uploaded.stat().st_size > 64 * 1024 and sorted(plan["changed_models"]) == models
    assert "plan-json is empty" in run.log()
