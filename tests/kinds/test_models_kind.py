"""The models are a whole kind in one module (kinds/models.py): select, then observe (one frozen
value of what MLflow, Domino and the ledger show), then plan from that value alone (pure), as
api.plan asks them. Against a real MLflow server and the Domino emulator over HTTP."""

from __future__ import annotations

import dataclasses
import socket
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from domino_emulator.local.models import SAMPLE_PATIENT, register_diabetes_model
from domino_mlops import api
from domino_mlops.connections import Connections
from domino_mlops.desired.load import read_desired
from domino_mlops.errors import NotFound
from domino_mlops.kinds import models as models_kind
from domino_mlops.kinds.models import MODELS, ModelAsk
from domino_mlops.plan.kinds import Kind
from domino_mlops.plan.planner import plan_environment
from tests.support.emulator import wait_until
from tests.support.fault_proxy import fault_proxy

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


def _one_model(pipeline, prefix: str):
    model = pipeline.unique(prefix)
    version = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest({"name": model, "version": int(version), "smoke_test": SMOKE})
    desired = read_desired("scripts/model_version.json", "scripts/environments.yaml")
    stage = desired.environments.get("STAGE")
    return model, stage, MODELS.select(desired, stage), ModelAsk(desired.environments, desired.manifest.file)


def test_domino_is_listed_while_mlflow_answers_and_the_engine_plans_once(pipeline, monkeypatch) -> None:
    """Domino's project lists need nothing from MLflow, so they are read while MLflow's search is
    held unanswered (without the overlap the wait below gives up); the engine's plan is the one
    observe made, not a second planning of the same question."""
    model, stage, entries, ask = _one_model(pipeline, "overlap")
    listed = lambda: pipeline.emu.counters.get("GET", "/api/modelServing/v1/modelApis")  # noqa: E731
    before = listed()
    with fault_proxy(pipeline.mlflow_uri) as gateway:
        monkeypatch.setenv("MLFLOW_TRACKING_URI", gateway.url)
        with Connections() as connections, ThreadPoolExecutor(max_workers=1) as pool:
            with gateway.hold_at("registered-models/search") as point:
                observing = pool.submit(MODELS.observe, entries, stage, connections, commit=COMMIT,
                                        action="deploy", ask=ask)
                assert point.reached.wait(60)
                wait_until(listed, lambda n: n > before, timeout=60)
            observed = observing.result(timeout=120)

            calls = []
            monkeypatch.setattr(models_kind, "plan_environment",
                                lambda *args, **kwargs: calls.append(1) or plan_environment(*args, **kwargs))
            planned = MODELS.plan(entries, observed, stage, commit=COMMIT, action="deploy", ask=ask)
            again = MODELS.plan(entries, replace(observed, failed={}), stage, commit=COMMIT, action="deploy", ask=ask)
    assert [item.model.name for item in observed.models] == [model]
    assert calls == [1]  # the same question is answered from observe's plan; a changed value is planned anew
    assert planned.changes == again.changes and planned.changes[0].steps


def test_a_model_mlflow_lacks_is_reported_before_an_unreachable_domino(pipeline, monkeypatch) -> None:
    """MLflow and Domino are read side by side, but what the plan reports first is what it always
    did: the manifest's model MLflow does not have, pointed at its line."""
    _, stage, entries, ask = _one_model(pipeline, "present")
    missing = replace(entries[0], name=pipeline.unique("absent"))
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        monkeypatch.setenv("DOMINO_API_HOST", f"http://127.0.0.1:{unused.getsockname()[1]}")
        with Connections() as connections, pytest.raises(NotFound) as raised:
            MODELS.observe([missing], stage, connections, commit=COMMIT, action="deploy", ask=ask)
    assert missing.name in raised.value.message
