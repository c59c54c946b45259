"""The models are a whole kind in one module (kinds/models.py): select, then observe (one frozen
value of what MLflow, Domino and the ledger show), then plan from that value alone (pure), as
api.plan asks them. Against a real MLflow server and the Domino emulator over HTTP."""

from __future__ import annotations

import dataclasses
from dataclasses import replace

import pytest

from domino_emulator.local.models import SAMPLE_PATIENT, register_diabetes_model
from domino_mlops import api
from domino_mlops.connections import Connections
from domino_mlops.desired.load import read_desired
from domino_mlops.kinds.models import MODELS, ModelAsk
from domino_mlops.plan.kinds import Kind

COMMIT = "0123456789abcdef0123456789abcdef01234567"
SMOKE = {"input": SAMPLE_PATIENT, "expect_shape": [1]}


def test_the_models_observe_once_and_plan_from_what_they_observed(pipeline) -> None:
    assert isinstance(MODELS, Kind)  # observe, plan and apply besides select, describe and digest
    model = pipeline.unique("kind")
    version = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest({"name": model, "version": int(version), "smoke_test": SMOKE})
    desired = read_desired("scripts/model_version.json", "scripts/environments.yaml")
    stage = desired.environments.get("STAGE")
    entries = MODELS.select(desired, stage)
    ask = ModelAsk(desired.environments, desired.manifest.file)
    with Connections() as connections:
        observed = MODELS.observe(entries, stage, connections, commit=COMMIT, action="deploy", ask=ask)
        # A new version: the ledger could not change the plan, so it was not read; a promotion's
        # hold-backs need it, so its observation reads it (empty here).
        assert observed.serving is not None and observed.last is None
        assert MODELS.observe(entries, stage, connections, commit=COMMIT, action="promote", ask=ask).last == {}
        facade = api.plan(api.PlanRequest("STAGE", action="deploy", commit=COMMIT), desired, connections).plan

        reads = pipeline.emu.counters.total()
        planned = MODELS.plan(entries, observed, stage, commit=COMMIT, action="deploy", ask=ask)
        assert pipeline.emu.counters.total() == reads  # planning reads nothing
    with pytest.raises(dataclasses.FrozenInstanceError):
        observed.last = {}  # type: ignore[misc]
    assert planned.changes == facade.changes  # the facade's plan is the kind's
    (change,) = planned.changes
    assert (change.model, change.version) == (model, version) and change.steps

    # An analysis that failed the target is part of the observed value: the plan holds it back.
    why = f"version {version} failed its analysis in STAGE"
    held = MODELS.plan(entries, replace(observed, failed={model: why}), stage, commit=COMMIT, action="deploy", ask=ask)
    assert held.changes[0].held_back == why and held.changes[0].steps == ()
