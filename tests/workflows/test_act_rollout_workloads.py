"""rollout.yml through act carries a job and an app with the model, DEV -> STAGE -> PROD (issue 11):
in each environment the validation job runs first (with DOMINO_ENV set to the environment's
name), then the model, then the dashboard app on the environment's tier; against a real MLflow
server and the Domino emulator."""

from __future__ import annotations

import json
import uuid

import pytest

from domino_emulator.local.models import SAMPLE_PATIENT, register_diabetes_model

pytestmark = pytest.mark.act

ENVIRONMENTS = (("DEV", "small-k8s"), ("STAGE", "small-k8s"), ("PROD", "medium-k8s"))  # scripts/environments.yaml


def test_rollout_carries_a_job_and_an_app_from_dev_to_prod(stack) -> None:
    model = f"act-work-{stack.project_id[:6]}"
    # Names of their own: the MLflow server (and its ledger) is shared with the other tests.
    tag = uuid.uuid4().hex[:6]
    job, app_name = f"validate-{tag}", f"dashboard-{tag}"
    version = register_diabetes_model(stack.mlflow_uri, model)
    manifest = {stack.project_id: {
        "models": [{"name": model, "version": int(version),
                    "smoke_test": {"input": SAMPLE_PATIENT, "expect_shape": [1]}}],
        "jobs": [{"name": job, "command": "python validate.py"}],
        "apps": [{"name": app_name}],
    }}
    stack.repo.write("scripts/model_version.json", json.dumps(manifest, indent=2) + "\n")
    stack.repo.commit("a model with its validation job and dashboard")

    run = stack.act("workflow_dispatch", "rollout.yml", inputs={}, timeout=900)

    assert run.returncode == 0, run.explain()
    assert stack.aliases(model) == {"dev": version, "staging": version, "production": version}
    jobs = list(stack.domino.jobs.newest(stack.project_id))
    for env, tier in ENVIRONMENTS:
        (ran,) = [j for j in jobs if (j.title or "").startswith(f"{job} {env} [domino-mlops job")]
        assert ran.succeeded and ran.command.startswith(f"env DOMINO_ENV={env} python validate.py")
        (app,) = [a for a in stack.domino.apps.list(stack.project_id) if a.name == f"{app_name}-{env.lower()}"]
        assert app.is_running and app.hardware_tier_id == tier
    kinds = [(e.kind, e.environment) for e in stack.ledger(job)] + [
        (e.kind, e.environment) for e in stack.ledger(app_name)]
    assert kinds == [("job", "DEV"), ("job", "STAGE"), ("job", "PROD"), ("app", "DEV"), ("app", "STAGE"),
                     ("app", "PROD")]
    prod = run.summary(job="env-3")
    assert "#### Jobs and apps" in prod and f"`{job}`" in prod and f"`{app_name}`" in prod
    result = json.loads(run.outputs("rollout", job="env-3")["result-json"])
    assert [(w["kind"], w["name"], w["status"]) for w in result["workloads"]] == [
        ("job", job, "done"), ("app", app_name, "done")]
    log = run.log()
    # Within an environment (the first one to log each line: DEV), the job ran before the model, the app after.
    assert log.index(f"[job {job}] started job") < log.index(f"[{model}]") < log.index(f"[app {app_name}] created app")
    assert stack.leaked(log + run.summary()) == []
