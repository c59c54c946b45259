"""promote-production.yml and rollback.yml through act against a real MLflow server and the
Domino emulator: the gate, the project matrix, waves, the alias, the ledger, a rollback."""

from __future__ import annotations

import json
import re

import pytest

from domino_mlops.local.models import register_diabetes_model
from tests.support.act_runner import dispatch_event


pytestmark = pytest.mark.act

PROD_APIS = (("-prod", "medium-k8s"), ("-prod-prod-small", "prod-small"))  # scripts/environments.yaml waves


def test_merge_promotes_after_staging_and_the_gate_refuses_before(stack) -> None:
    model = f"act-prod-{stack.project_id[:6]}"
    version = register_diabetes_model(stack.mlflow_uri, model)
    stack.manifest(model, version)

    # deploy-staging starts it with workflow_dispatch after the staging deploy of a push.
    refused = stack.act("workflow_dispatch", "promote-production.yml", payload=dispatch_event())

    assert refused.returncode != 0 and 3 in refused.exit_statuses(job="promote"), refused.explain()
    assert any(f"{model} version {version} may not enter PROD" in e["arg"] for e in refused.commands("error"))
    assert "production" not in stack.aliases(model)
    assert ":no_entry:" in refused.summary(job="plan")  # the plan showed the gate before any approval

    assert stack.cli("deploy", "--env", "STAGE") == 0  # what deploy-staging did on the merge
    run = stack.act("workflow_dispatch", "promote-production.yml", payload=dispatch_event())

    assert run.returncode == 0, run.explain()
    assert json.loads(run.outputs("projects", job="plan")["projects"]) == [stack.project_id]
    assert run.outputs("environment", job="plan")["github-environment"] == "production"  # the promote job's
    assert "### Plan for PROD" in run.summary(job="plan")  # what the reviewer approved
    plan = run.outputs("plan", job="plan")
    assert json.loads(plan["plan-json"])["changed_models"] == [model]
    assert re.fullmatch(r"[0-9a-f]{64}", json.loads(plan["plan-digests"])[stack.project_id])  # and the promote job matched it
    assert stack.aliases(model) == {"staging": version, "production": version}
    ids = []
    for suffix, tier in PROD_APIS:
        api, (deployed,) = stack.serving(model + suffix)
        assert api.hardware_tier_id == tier and deployed.status == "Running"
        ids.append(api.id)
    out = run.outputs("promote", job="promote")
    assert out["model-api-id"] == ids[0] and out["endpoint-url"].endswith(f"/models/{ids[0]}/latest/model")
    assert [m["status"] for m in json.loads(out["result-json"])["models"]] == ["done"]
    assert "### Promoted: PROD" in run.summary(job="promote")
    assert [e.action for e in stack.ledger(model)] == ["deploy", "promote"]
    assert stack.leaked(run.log() + run.summary() + json.dumps(out)) == []
    assert json.loads(plan["work-projects"]) == [stack.project_id]

    # Nothing left to promote: no promote job starts, so nobody is asked to approve a no-op.
    again = stack.act("workflow_dispatch", "promote-production.yml", payload=dispatch_event())

    assert again.returncode == 0, again.explain()
    assert {r.get("jobID") for r in again.records if "jobResult" in r} == {"plan"}
    assert json.loads(again.outputs("plan", job="plan")["work-projects"]) == []
    assert "Nothing to approve: PROD has nothing to promote" in again.summary(job="plan")


def test_rollback_dispatch_puts_the_previous_version_back(stack) -> None:
    model = f"act-back-{stack.project_id[:6]}"
    first = register_diabetes_model(stack.mlflow_uri, model)
    second = register_diabetes_model(stack.mlflow_uri, model, alpha=3.0)
    for version in (first, second):
        stack.manifest(model, version)
        assert stack.cli("deploy", "--env", "STAGE") == 0 and stack.cli("promote", "--env", "PROD") == 0
    assert stack.aliases(model)["production"] == second

    run = stack.act("workflow_dispatch", "rollback.yml",
                    inputs={"model": model, "project": stack.project_id, "to-version": ""})

    assert run.returncode == 0, run.explain()
    assert stack.aliases(model)["production"] == first
    api, versions = stack.serving(model + PROD_APIS[0][0])
    running = [v for v in versions if v.status == "Running"]
    assert [v.source.registered_model_version for v in running] == [int(first)]
    assert stack.ledger(model)[-1].action == "rollback" and stack.ledger(model)[-1].to_version == first
    assert "Rolled back" in run.summary(job="rollback")
    assert run.outputs("rollback", job="rollback")["model-api-id"] == api.id
    # The manifest still names the newer version: the run says so, on the file and line.
    assert any("still says" in w["arg"] for w in run.commands("warning"))
