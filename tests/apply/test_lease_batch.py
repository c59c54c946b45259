"""An apply takes all its models' leases together (Leases.acquire_all): one search reads them, a
write each, one settle, one search reads them back; the same guarantees as one lease at a time
(tests/apply/test_races.py), forced here on the batch path, against the real MLflow server."""

from __future__ import annotations

from collections import Counter

import pytest

from domino_mlops.state.lease import Claim, Lease, Leases, LeaseSettings
from domino_mlops.clients.mlflow.registry import MlflowRegistry
from domino_mlops.clients.mlflow.auth import MlflowCredentials
from domino_mlops.errors import LeaseHeld
from domino_emulator.local.models import register_diabetes_model
from tests.support.lease_race import race

TAG = "domino_mlops.lease.PROD"


@pytest.fixture
def registry(mlflow_server) -> MlflowRegistry:
    return MlflowRegistry(MlflowCredentials.from_env({"MLFLOW_TRACKING_URI": mlflow_server.uri}))


@pytest.fixture
def models(registry, mlflow_server, request) -> list[str]:
    """Three registered models of this test's own (the server is shared by the session)."""
    names = [f"lease-batch-{request.node.name[:40]}-{i}" for i in range(3)]
    register_diabetes_model(mlflow_server.uri, names[0])
    for name in names[1:]:
        registry.rest.write("POST", "registered-models/create", {"name": name}, what=name)
    return names


def _counted(registry: MlflowRegistry) -> Counter:
    """Count the requests the registry sends, by endpoint (wrapping its REST session's methods)."""
    counts: Counter = Counter()
    rest = registry.rest
    for method in ("get", "write"):
        original = getattr(rest, method)

        def counting(*args, _original=original, **kwargs):
            endpoint = args[1] if args and args[0] in ("POST", "DELETE", "PATCH") else args[0]
            counts[endpoint] += 1
            return _original(*args, **kwargs)

        setattr(rest, method, counting)
    return counts


def test_every_lease_of_an_apply_with_one_write_each_and_two_searches(registry, models) -> None:
    counts = _counted(registry)
    taken = Leases(LeaseSettings(settle=0.0, holder="the batch")).acquire_all(registry, models, "PROD")
    assert dict(counts) == {"registered-models/search": 2, "registered-models/set-tag": 3}
    assert all(isinstance(lease, Lease) for lease in taken.values()), taken
    owners = {Claim.parse(registry.model_tags(m)[TAG]).owner for m in models}  # type: ignore[union-attr]
    assert owners == {taken[models[0]].claim.owner}  # type: ignore[union-attr]
    for lease in taken.values():
        lease.release()  # type: ignore[union-attr]
    assert all(TAG not in registry.model_tags(m) for m in models)


def test_a_model_another_run_holds_is_refused_and_the_others_are_taken(registry, models) -> None:
    other = Leases(LeaseSettings(settle=0.0, holder="the running promotion")).acquire(registry, models[1], "PROD")
    taken = Leases(LeaseSettings(settle=0.0)).acquire_all(registry, models, "PROD")
    refused = taken[models[1]]
    assert isinstance(refused, LeaseHeld) and "the running promotion" in str(refused)
    assert Claim.parse(registry.model_tags(models[1])[TAG]).owner == other.claim.owner  # untouched
    for model in (models[0], models[2]):
        assert isinstance(taken[model], Lease)
        taken[model].release()  # type: ignore[union-attr]
    other.release()


def test_a_held_model_is_waited_for_when_the_run_may_wait(registry, models) -> None:
    other = Leases(LeaseSettings(settle=0.0, holder="the running promotion")).acquire(registry, models[0], "PROD")
    waits: list[str] = []

    def release_on_first_wait(model: str, holder: str) -> None:
        waits.append(model)
        other.release()  # the other run ends while we wait

    leases = Leases(LeaseSettings(settle=0.0, wait=60.0, poll=0.0), on_wait=release_on_first_wait)
    taken = leases.acquire_all(registry, models, "PROD")
    assert waits == [models[0]]
    assert all(isinstance(lease, Lease) for lease in taken.values()), taken
    for lease in taken.values():
        lease.release()  # type: ignore[union-attr]


def test_two_batch_takers_that_both_read_it_free_leave_one_holder(registry, models) -> None:
    # Both read it free, A writes, B writes, then both read back (the settle has passed for both).
    outcome = race(registry, models[0], {"B.read1": ("A.read1",), "A.write": ("B.read1",), "B.write": ("A.write",),
                                         "A.read2": ("B.write",), "B.read2": ("A.read2",)}, batch=True)
    assert isinstance(outcome["A"], LeaseHeld) and "taker B" in str(outcome["A"])
    assert isinstance(outcome["B"], Lease)
    outcome["B"].release()
    assert TAG not in registry.model_tags(models[0])
