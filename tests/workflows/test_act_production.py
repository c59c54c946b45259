"""promote-production.yml and rollback.yml through act against a real MLflow server and the
Domino emulator: the gate, the project matrix, waves, the alias, the ledger, a rollback."""

from __future__ import annotations

import json
import re

from pathlib import Path

import pytest
import yaml

from domino_emulator.local.models import register_diabetes_model
from tests.support.act_runner import dispatch_event


pytestmark = pytest.mark.act

REPO = Path(__file__).resolve().parents[2]
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
    # What the reviewer approved: from -> to per data plane, in the plan job's summary; the
    # rollback job matched its digest.
    planned = run.summary(job="plan")
    for wave, (suffix, tier) in enumerate(PROD_APIS, start=1):
        assert f"| {model} | {wave} | {model}{suffix} | {tier} | {second} | {first} | to change |" in planned
    out = run.outputs("plan", job="plan")
    assert (out["from-version"], out["to-version"]) == (second, first) and re.fullmatch(r"[0-9a-f]{64}",
                                                                                        out["plan-digest"])
    assert "The plan is the approved one" in run.log(job="rollback")
    assert stack.aliases(model)["production"] == first
    api, versions = stack.serving(model + PROD_APIS[0][0])
    running = [v for v in versions if v.status == "Running"]
    assert [v.source.registered_model_version for v in running] == [int(first)]
    assert stack.ledger(model)[-1].action == "rollback" and stack.ledger(model)[-1].to_version == first
    assert "Rolled back" in run.summary(job="rollback")
    assert run.outputs("rollback", job="rollback")["model-api-id"] == api.id
    # The manifest still names the newer version: the run says so, on the file and line.
    assert any("still says" in w["arg"] for w in run.commands("warning"))


def old_rollback_job() -> str:
    """rollback.yml's rollback job alone, handed an earlier plan job's outputs as inputs: what
    GitHub's "Re-run this job" does with an old run (act cannot re-run one job of an earlier run)."""
    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "rollback.yml").read_text())
    dispatch = workflow.pop(True)["workflow_dispatch"]  # YAML 1.1 reads a bare `on` as true
    for name in ("plan-digest", "from-version", "github-environment"):
        dispatch["inputs"][name] = {"type": "string", "required": True}
    job = workflow["jobs"]["rollback"]
    del job["needs"]
    text = yaml.safe_dump({"name": "old-rollback", "on": {"workflow_dispatch": dispatch}, "permissions": {},
                           "jobs": {"rollback": job}}, sort_keys=False, width=1000)
    assert text.count("needs.plan.outputs.") == 3  # environment, digest, from: nothing else comes from the plan
    return text.replace("needs.plan.outputs.", "inputs.")


def test_an_old_rollback_rerun_after_a_newer_promotion_is_refused(stack) -> None:
    model = f"act-stale-{stack.project_id[:6]}"
    v1, v2, v3 = (register_diabetes_model(stack.mlflow_uri, model, alpha=a) for a in (1.0, 3.0, 9.0))
    for version in (v1, v2):
        stack.manifest(model, version)
        assert stack.cli("deploy", "--env", "STAGE") == 0 and stack.cli("promote", "--env", "PROD") == 0
    dispatch = {"model": model, "project": stack.project_id, "to-version": ""}
    writes = stack.emu.counters.writes()

    plan = stack.act("workflow_dispatch", "rollback.yml", inputs=dispatch, job="plan")

    assert plan.returncode == 0, plan.explain()
    assert stack.emu.counters.writes() == writes and stack.aliases(model)["production"] == v2  # read-only
    approved = {**plan.outputs("plan", job="plan"),
                "github-environment": plan.outputs("environment", job="plan")["github-environment"]}
    assert (approved["from-version"], approved["to-version"]) == (v2, v1)
    # The rollback waits for its approval; meanwhile a newer version is promoted.
    stack.manifest(model, v3)
    assert stack.cli("deploy", "--env", "STAGE") == 0 and stack.cli("promote", "--env", "PROD") == 0
    entries, writes = len(stack.ledger(model)), stack.emu.counters.writes()
    stack.repo.write(".github/workflows/old-rollback.yml", old_rollback_job())
    stack.repo.commit("the rollback job of the earlier run")

    run = stack.act("workflow_dispatch", "old-rollback.yml", inputs={
        **dispatch, "plan-digest": approved["plan-digest"], "from-version": approved["from-version"],
        "github-environment": approved["github-environment"]})

    assert run.returncode != 0 and 4 in run.exit_statuses(job="rollback"), run.explain()
    assert any(f"goes back from version {v2}, but PROD is now at version {v3}" in e["arg"]
               for e in run.commands("error"))
    assert stack.aliases(model)["production"] == v3
    for suffix, _ in PROD_APIS:
        _, versions = stack.serving(model + suffix)
        assert [v.source.registered_model_version for v in versions if v.status == "Running"] == [int(v3)]
    assert len(stack.ledger(model)) == entries and stack.emu.counters.writes() == writes


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

    run = stack.act("workflow_dispatch", "promote-production.yml", inputs={"project": ""})

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

    again = stack.act("workflow_dispatch", "promote-production.yml", inputs={"project": ""})

    assert again.returncode == 0, again.explain()
    assert [(v.version, v.last_updated_timestamp, sorted(v.tags.items()))
            for v in stack.mlflow.search_model_versions(f"name='{model}-prod'")] == before
    assert len(stack.ledger(f"{model}-prod")) == 1
