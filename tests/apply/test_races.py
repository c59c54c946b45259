"""Two writers at once: the lease on (environment, model) lets one through, the other stops before
it writes; production never ends with the alias naming a version other than the one serving.

The lease's own race is forced here, step by step, rather than hoped for: a registry wrapper
holds each taker at the points that matter (tests/support/lease_race.py), so the worst
interleavings happen every run. The
end-to-end races run two real CLI processes against the real MLflow server and the emulator and
assert only what must hold whoever wins.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from domino_mlops import api
from domino_mlops.state.lease import Claim, Leases, LeaseSettings
from domino_mlops.clients.mlflow.registry import MlflowRegistry
from domino_mlops.clients.mlflow.auth import MlflowCredentials
from domino_mlops.errors import LeaseHeld
from domino_emulator.local.models import SAMPLE_PATIENT, register_diabetes_model
from tests.support.lease_race import race

CLI = str(Path(sys.executable).with_name("domino-mlops"))
SMOKE = {"input": SAMPLE_PATIENT, "expect_shape": [1]}


@pytest.fixture
def registry(mlflow_server) -> MlflowRegistry:
    return MlflowRegistry(MlflowCredentials.from_env({"MLFLOW_TRACKING_URI": mlflow_server.uri}))


def test_two_takers_that_both_read_it_free_leave_one_holder(registry, mlflow_server) -> None:
    model = "lease-race-both-free"
    register_diabetes_model(mlflow_server.uri, model)
    # Both read it free, A writes, B writes, then both confirm (the settle has passed for both).
    outcome = race(registry, model, {"B.read1": ("A.read1",), "A.write": ("B.read1",), "B.write": ("A.write",),
                                      "A.read2": ("B.write",), "B.read2": ("A.read2",)})
    assert isinstance(outcome["A"], LeaseHeld) and not isinstance(outcome["B"], LeaseHeld)
    assert "taker B" in str(outcome["A"])  # the loser is told who holds it
    outcome["B"].release()  # type: ignore[union-attr]
    assert registry.model_tags(model).get("domino_mlops.lease.PROD") is None


def test_the_window_that_remains_is_caught_before_the_next_write(registry, mlflow_server) -> None:
    """What no read-write-read lease can close: B read it free, then stalled past A's confirm."""
    model = "lease-race-window"
    register_diabetes_model(mlflow_server.uri, model)
    outcome = race(registry, model, {"A.write": ("B.read1",), "B.write": ("A.read2",), "B.read2": ("B.write",)})
    a, b = outcome["A"], outcome["B"]
    assert not isinstance(a, LeaseHeld) and not isinstance(b, LeaseHeld)  # both confirmed: the window
    with pytest.raises(LeaseHeld, match="took over"):
        a.check()  # type: ignore[union-attr]  # ...but A stops at its next check, before writing
    b.check()  # type: ignore[union-attr]
    for lease in (a, b):
        lease.release()  # type: ignore[union-attr]
    assert registry.model_tags(model).get("domino_mlops.lease.PROD") is None  # B removed its own only


def test_a_live_lease_refuses_and_a_dead_one_is_taken(registry, mlflow_server) -> None:
    model = "lease-expiry"
    register_diabetes_model(mlflow_server.uri, model)
    held = Leases(LeaseSettings(settle=0.0, holder="the first run")).acquire(registry, model, "STAGE")
    with pytest.raises(LeaseHeld, match="the first run"):
        Leases(LeaseSettings(settle=0.0)).acquire(registry, model, "STAGE")
    held._stop.set()  # the first run dies: no renewal, and its claim names a process that is gone
    dead = Claim(held.claim.owner, "a run that died", held.claim.host, 2**22 + 17, held.claim.expires)
    registry.set_model_tag(model, held.tag, dead.to_json())
    taken = Leases(LeaseSettings(settle=0.0)).acquire(registry, model, "STAGE")
    expired = Claim("someone", "a run elsewhere", "another-host", 1, 0.0)  # expired long ago
    taken.release()
    registry.set_model_tag(model, taken.tag, expired.to_json())
    Leases(LeaseSettings(settle=0.0)).acquire(registry, model, "STAGE").release()


def _serving_version(pipeline, name: str) -> int:
    api, versions = pipeline.serving(name)
    active = next(v for v in versions if v.id == api.active_version.id)
    return active.source.registered_model_version


def _assert_consistent(pipeline, model: str) -> str:
    """The alias names the version every tier serves, and the ledger's last entry says the same."""
    alias = pipeline.aliases(model)["production"]
    assert {_serving_version(pipeline, f"{model}-prod"), _serving_version(pipeline, f"{model}-prod-prod-small")} == {
        int(alias)}
    promotions = [e for e in pipeline.ledger(model) if e["environment"] == "PROD"]
    assert promotions[-1]["to"] == alias
    for before, after in zip(promotions, promotions[1:]):
        assert after["from"] == before["to"]  # a chain: no entry claims a change from a state that never was
    return alias


@pytest.mark.parametrize("second", ["promote", "rollback"])
def test_two_real_applies_at_once_leave_production_consistent(pipeline, second) -> None:
    model = pipeline.unique(f"race-{second}")
    versions = [register_diabetes_model(pipeline.mlflow_uri, model, alpha=a) for a in (1.0, 2.0, 3.0)]
    for version in versions:  # each version passes STAGE, so the gate lets any of them into PROD
        pipeline.manifest({"name": model, "version": int(version), "smoke_test": SMOKE})
        assert pipeline.deploy().exit_code == 0
    for version in versions[:2]:  # production at v1 (then v2, for a rollback to have somewhere to go)
        pipeline.manifest({"name": model, "version": int(version), "smoke_test": SMOKE})
        assert pipeline.deploy("promote").exit_code == 0
        if second == "promote":
            break
    if second == "promote":
        argvs = [["promote", "--env", "PROD", "--model", model, "--version", versions[1]],
                 ["promote", "--env", "PROD", "--model", model, "--version", versions[2]]]
    else:
        argvs = [["promote", "--env", "PROD", "--model", model, "--version", versions[2]],
                 ["rollback", "--env", "PROD", "--model", model]]
    env = {**os.environ, "DMLOPS_LEASE_SETTLE_SECONDS": "0.5"}

    runs = [subprocess.Popen([CLI, *argv], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
            for argv in argvs]
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    codes = [run.returncode for run in runs]

    if sorted(codes) not in ([0, 0], [0, 4]):  # the loser stops, or they ran one after the other
        # pytest.fail, not assert: an assertion's message is cut to a few lines, and the cause with it
        tails = (f"--- {' '.join(argv)} exited {code}:\n{output[-4000:]}"
                 for argv, code, output in zip(argvs, codes, outputs, strict=True))
        pytest.fail(f"exit codes {codes}:\n" + "\n\n".join(tails))
    for code, output in zip(codes, outputs, strict=True):
        if code == 4:
            assert any(reason in output for reason in ("another apply holds", "took over", "is at version")), output
    assert _assert_consistent(pipeline, model) in versions
    pipeline.call("plan", api.PlanRequest("PROD"))  # and a plan afterwards reads a settled state (raises if not)
