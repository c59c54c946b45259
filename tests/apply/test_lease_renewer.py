"""One renewer per apply (issue 23): a round is one search for every lease the apply holds, and a
lease is written only when it is close to expiry, against the real MLflow server. The rounds
are driven by hand with a clock of the test's own: nothing waits on time."""

from __future__ import annotations

import threading

import pytest

from domino_mlops.clients.mlflow.auth import MlflowCredentials
from domino_mlops.clients.mlflow.registry import MlflowRegistry
from domino_mlops.state.lease import Claim, Lease, Leases, LeaseSettings
from tests.apply.test_lease_batch import _counted

TAG = "domino_mlops.lease.PROD"
SETTINGS = LeaseSettings(ttl=90.0, settle=0.0, renew_every=30.0, holder="the renewer test")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def registry(mlflow_server) -> MlflowRegistry:
    return MlflowRegistry(MlflowCredentials.from_env({"MLFLOW_TRACKING_URI": mlflow_server.uri}))


@pytest.fixture
def models(registry, request) -> list[str]:
    names = [f"renewer-{request.node.name[:40]}-{i}" for i in range(5)]
    for name in names:
        registry.rest.write("POST", "registered-models/create", {"name": name}, what=name)
    return names


def _take(registry, models, clock) -> tuple[Leases, dict[str, Lease]]:
    leases = Leases(SETTINGS, clock=clock, sleep=lambda seconds: None)
    taken = leases.acquire_all(registry, models, "PROD")
    assert all(isinstance(lease, Lease) for lease in taken.values()), taken
    return leases, taken  # type: ignore[return-value]


def test_a_round_is_one_search_and_writes_only_leases_near_expiry(registry, models) -> None:
    clock = Clock()
    leases, taken = _take(registry, models, clock)
    try:
        counts = _counted(registry)
        clock.now += 30  # the first round: 60 s of life left, more than a round and a half
        leases.renewer.renew_once()
        assert dict(counts) == {"registered-models/search": 1}, "a round reads all five leases in one search"
        clock.now += 30  # the second round: 30 s left, so each is written anew, once
        leases.renewer.renew_once()
        assert dict(counts) == {"registered-models/search": 2, "registered-models/set-tag": 5}
        expiries = {Claim.parse(registry.model_tags(m)[TAG]).expires for m in models}  # type: ignore[union-attr]
        assert sorted(expiries) == [pytest.approx(clock.now + SETTINGS.ttl)]
        assert all(lease.still_held() for lease in taken.values())
    finally:
        for lease in taken.values():
            lease.release()


def test_a_lease_another_run_took_over_is_lost_at_the_next_round(registry, models) -> None:
    clock = Clock()
    leases, taken = _take(registry, models, clock)
    try:
        thief = Claim("someone-else", "another run", "elsewhere", 1, clock.now + 90)
        registry.set_model_tag(models[0], TAG, thief.to_json())
        clock.now += 60
        leases.renewer.renew_once()
        assert taken[models[0]].lost_to is not None and "another run" in taken[models[0]].lost_to
        # The other run's claim stands: the renewer never writes over a lease it lost.
        assert Claim.parse(registry.model_tags(models[0])[TAG]).owner == "someone-else"  # type: ignore[union-attr]
        assert all(lease.lost_to is None for lease in list(taken.values())[1:])
    finally:
        for lease in taken.values():
            lease.release()


def test_one_renewer_thread_for_all_leases_and_it_ends_with_the_last(registry, models) -> None:
    clock = Clock()
    before = {t.name for t in threading.enumerate()}
    leases, taken = _take(registry, models, clock)
    renewers = [t for t in threading.enumerate() if t.name == "lease-renewer" and t.name not in before]
    assert len(renewers) == 1, [t.name for t in threading.enumerate()]
    for lease in taken.values():
        lease.release()
    renewers[0].join(timeout=60)  # woken by the last release, not by its period
    assert not renewers[0].is_alive()
    assert not any(TAG in registry.model_tags(m) for m in models)
