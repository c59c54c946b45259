"""promote-production.yml and rollback.yml through act against a real MLflow server and the
Domino emulator: the gate, the project matrix, waves, the alias, the ledger, a rollback."""

from __future__ import annotations

import json
import re

import pytest

from domino_mlops.local.models import register_diabetes_model
from tests.support.act_runner import push_event


pytestmark = pytest.mark.act

PROD_APIS = (("-prod", "medium-k8s"), ("-prod-prod-small", "prod-small"))  # scripts/environments.yaml waves


def test_merge_promotes_after_staging_and_the_gate_refuses_before(stack) -> None:
    model = f"act-prod-{stack.project_id[:6]}"
    version = register_diabetes_model(stack.mlflow_uri, model)
    stack.manifest(model, version)

    refused = stack.act("push", "promote-production.yml", payload=push_event())

    assert refused.returncode != 0 and 3 in refused.exit_statuses(job="promote"), refused.explain()
    assert any(f"{model} version {version} may not enter PROD" in e["arg"] for e in refused.commands("error"))
    assert "production" not in stack.aliases(model)
    assert ":no_entry:" in refused.summary(job="plan")  # the plan showed the gate before any approval

    assert stack.cli("deploy", "--env", "STAGE") == 0  # what deploy-staging did on the pull request
    run = stack.act("push", "promote-production.yml", payload=push_event())

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


def test_separated_topology_copies_into_productions_own_model_once(stack) -> None:
    """PROD marks and serves its own registered model (environments.yaml mlflow.registered_model):
    the promote job copies the version that passed STAGE into it; a re-run copies nothing."""
    environments = stack.repo.work / "scripts" / "environments.yaml"
    stack.repo.write("scripts/environments.yaml", environments.read_text().replace(
        "      alias: production\n", "      alias: production\n      registered_model: \"{model}-prod\"\n"))
    model = f"act-sep-{stack.project_id[:6]}"
    version = register_diabetes_model(stack.mlflow_uri, model)
    stack.manifest(model, version)  # commits the environments file too
    assert stack.cli("deploy", "--env", "STAGE") == 0

    run = stack.act("push", "promote-production.yml", payload=push_event())

    assert run.returncode == 0, run.explain()
    assert f"copy {model} v{version} (passed STAGE) -> {model}-prod v(new)" in run.summary(job="plan")
    (copy,) = stack.mlflow.search_model_versions(f"name='{model}-prod'")
    assert copy.source == f"models:/{model}/{version}" and copy.tags["domino_mlops.source"] == f"{model}/{version}"
    assert stack.aliases(f"{model}-prod") == {"production": copy.version}
    assert stack.aliases(model) == {"staging": version}
    api, (deployed,) = stack.serving(model + PROD_APIS[0][0])
    assert (deployed.source.registered_model_name, deployed.source.registered_model_version) == (
        f"{model}-prod", int(copy.version))
    assert [e.source for e in stack.ledger(f"{model}-prod")] == [f"{model}/{version}"]
    before = [(v.version, v.last_updated_timestamp, sorted(v.tags.items()))
              for v in stack.mlflow.search_model_versions(f"name='{model}-prod'")]

    again = stack.act("push", "promote-production.yml", payload=push_event())

    assert again.returncode == 0, again.explain()
    assert [(v.version, v.last_updated_timestamp, sorted(v.tags.items()))
            for v in stack.mlflow.search_model_versions(f"name='{model}-prod'")] == before
    assert len(stack.ledger(f"{model}-prod")) == 1
