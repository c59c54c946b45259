"""A deploy into a one-wave environment takes its leases batch by batch, just before each batch's
work (apply/executor.py ``_last_wave_in_batches``), not all up front: a model's lease is held for
its own work. Against the real MLflow server and the emulator; what the apply writes is seen at
MLflow's REST edge, and what MLflow holds is read at the moment of each lease write."""

from __future__ import annotations

import threading
from collections import Counter

from domino_mlops import api
from domino_mlops.clients.mlflow.auth import MlflowCredentials
from domino_mlops.clients.mlflow.registry import MlflowRegistry
from domino_mlops.clients.mlflow.rest import MlflowRest
from domino_mlops.state.lease import Leases, LeaseSettings
from domino_emulator.local.models import register_diabetes_model
from tests.apply.conftest import events_to

LEASE = "domino_mlops.lease.STAGE"
PARALLEL = 2


class LeaseWrites:
    """Every lease write of the apply (set-tag, delete-tag of the STAGE lease), the most leases
    held at once, and, at the first write of a chosen model's lease, what MLflow then holds."""

    def __init__(self, pipeline, watch: str, look_at: list[str]) -> None:
        self.writes: Counter = Counter()  # (endpoint, model) -> requests
        self.held: set[str] = set()
        self.most_held = 0
        self.seen: dict[str, tuple] = {}  # model of look_at -> (aliases, its lease tag, ledger entries)
        self._pipeline, self._watch, self._look_at = pipeline, watch, look_at
        self._lock = threading.Lock()

    def install(self, monkeypatch) -> None:
        original = MlflowRest.write

        def write(rest, method, endpoint, body, **kwargs):
            lease = endpoint.startswith("registered-models/") and body.get("key") == LEASE
            if lease and endpoint.endswith("set-tag"):
                with self._lock:
                    self.held.add(body["name"])
                    self.most_held = max(self.most_held, len(self.held))
                if body["name"] == self._watch and not self.seen:
                    self.seen = {m: self._state(m) for m in self._look_at}
            reply = original(rest, method, endpoint, body, **kwargs)
            if lease:
                with self._lock:
                    self.writes[(endpoint, body["name"])] += 1
                    if endpoint.endswith("delete-tag"):
                        self.held.discard(body["name"])
            return reply

        monkeypatch.setattr(MlflowRest, "write", write)

    def _state(self, model: str) -> tuple:
        tags = self._pipeline.mlflow.get_registered_model(model).tags
        recorded = self._pipeline.mlflow.get_experiment_by_name("domino-mlops-ledger") is not None
        return (self._pipeline.aliases(model).get("staging"), tags.get(LEASE),
                len(self._pipeline.ledger(model)) if recorded else 0)


def _models(pipeline, count: int) -> dict[str, str]:
    versions = {}
    for _ in range(count):
        model = pipeline.unique("batched")
        versions[model] = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest(*({"name": m, "version": int(v)} for m, v in versions.items()))
    return versions


def test_a_one_wave_deploy_takes_each_batchs_leases_just_before_its_work(pipeline, monkeypatch) -> None:
    versions = _models(pipeline, 6)
    models = list(versions)
    first, last = models[:PARALLEL], models[-PARALLEL:]
    seen = LeaseWrites(pipeline, watch=last[0], look_at=first)
    seen.install(monkeypatch)

    outcome = pipeline.deploy(max_parallel=PARALLEL)

    assert outcome.result.exit_code == 0 and [m.status for m in outcome.result.models] == ["done"] * 6
    # Taken and given back: two lease writes per model, none renewed, none left behind.
    assert seen.writes == Counter({(endpoint, m): 1 for m in models
                                   for endpoint in ("registered-models/set-tag", "registered-models/delete-tag")})
    assert all(LEASE not in pipeline.mlflow.get_registered_model(m).tags for m in models)
    # When the last batch's first lease was written, the first batch was marked, recorded and had
    # given its leases back (all taken up front, none of them would have been).
    assert seen.seen == {m: (versions[m], None, 1) for m in first}
    # One batch at work, the next taken meanwhile: never more than two batches' leases held.
    assert seen.most_held <= 2 * PARALLEL


def test_a_lease_is_asked_for_at_its_batchs_turn_and_a_held_one_still_fails_as_held(pipeline) -> None:
    """One model a batch: the third model's lease, held by another run until the first model is
    done, is free by its turn (taken up front, it was refused); the fourth's, held throughout,
    still fails that model alone, as a conflict, with MLflow untouched."""
    versions = _models(pipeline, 4)
    models = list(versions)
    registry = MlflowRegistry(MlflowCredentials.from_env({"MLFLOW_TRACKING_URI": pipeline.mlflow_uri}))
    others = Leases(LeaseSettings(settle=0.0, holder="the running promotion"))
    brief, held = (others.acquire(registry, m, "STAGE") for m in models[2:])

    def on_event(model: str, message: str) -> None:
        if model == models[0] and message.startswith("done: "):
            brief.release()  # the other run ends while this apply's first batch is marked

    try:
        outcome = pipeline.call("deploy", api.DeployRequest("STAGE", max_parallel=1), events_to(on_event))
    finally:
        claim = registry.model_tags(models[3])[LEASE]
        brief.release()
        held.release()

    result = outcome.result
    assert {m.model: m.status for m in result.models} == {**{m: "done" for m in models[:3]}, models[3]: "conflict"}
    assert result.exit_code == 4 and "the running promotion" in result.models[3].message
    assert held.claim.owner in claim  # never taken from the other run
    assert pipeline.aliases(models[2]) == {"staging": versions[models[2]]}
    assert "staging" not in pipeline.aliases(models[3]) and pipeline.ledger(models[3]) == []
