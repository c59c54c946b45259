"""rollout.yml through act against a real MLflow server and the Domino emulator: one version
DEV -> STAGE -> PROD, PROD's two data planes in two waves; then a fault in PROD's second wave
(the emulator fails every build on that hardware tier), which puts the first wave's data plane
back, leaves the alias, and fails the run with exit 1."""

from __future__ import annotations

import json

import pytest

from domino_emulator.local.models import register_diabetes_model

pytestmark = pytest.mark.act

WAVES = (("-prod", "medium-k8s"), ("-prod-prod-small", "prod-small"))  # scripts/environments.yaml


def _active(stack, name: str) -> int | None:
    api, versions = stack.serving(name)
    active = next((v for v in versions if api.active_version and v.id == api.active_version.id), None)
    return None if active is None else active.source.registered_model_version


def test_one_version_dev_stage_prod_then_a_failed_second_wave_is_put_back(stack) -> None:
    model = f"act-roll-{stack.project_id[:6]}"
    v1 = register_diabetes_model(stack.mlflow_uri, model)
    stack.manifest(model, v1)

    run = stack.act("workflow_dispatch", "rollout.yml", inputs={}, timeout=900)

    assert run.returncode == 0, run.explain()
    jobs = run.jobs()
    # (act may pad a job name with a space to tell runs apart)
    assert sorted(name.strip() for name, result in jobs.items() if result == "success" and "Roll out" in name) == sorted(
        f"rollout/Roll out {stack.project_id} to {env}" for env in ("DEV", "STAGE", "PROD")), jobs
    assert stack.aliases(model) == {"dev": v1, "staging": v1, "production": v1}
    for suffix, tier in WAVES:
        api, _ = stack.serving(model + suffix)
        assert api.hardware_tier_id == tier and _active(stack, model + suffix) == int(v1)
    assert [(e.environment, e.action) for e in stack.ledger(model)] == [
        ("DEV", "rollout"), ("STAGE", "rollout"), ("PROD", "rollout")]
    prod = run.summary(job="env-3")
    planes = prod[prod.index("#### Data planes"):]
    assert "| 1 | medium-k8s" in planes and "| 2 | prod-small" in planes and planes.count(":white_check_mark: serving") == 2
    assert stack.leaked(run.log() + run.summary()) == []

    # The next version: DEV and STAGE are fine; PROD's second data plane cannot run it.
    v2 = register_diabetes_model(stack.mlflow_uri, model, alpha=2.0)
    stack.manifest(model, v2)
    stack.emu.set_faults({"failing_tiers": ["prod-small"]})

    failed = stack.act("workflow_dispatch", "rollout.yml", inputs={}, timeout=900)

    assert failed.returncode != 0 and 1 in failed.exit_statuses(job="env-3"), failed.explain()
    assert stack.aliases(model) == {"dev": v2, "staging": v2, "production": v1}  # PROD's alias never moved
    assert _active(stack, model + WAVES[0][0]) == int(v1)  # the first wave's data plane put back
    assert _active(stack, model + WAVES[1][0]) == int(v1)  # the second never took over
    assert [e.to_version for e in stack.ledger(model) if e.environment == "PROD"] == [v1]
    result = json.loads(failed.outputs("rollout", job="env-3")["result-json"])
    (outcome,) = result["models"]
    assert outcome["status"] == "failed" and "prod-small" in outcome["message"]
    assert {p["model_api_name"]: p["status"] for p in outcome["data_planes"]} == {
        model + "-prod": "put back", model + "-prod-prod-small": "put back"}
    assert "#### Data planes" in failed.summary(job="env-3")
