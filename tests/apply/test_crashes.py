"""A run killed (SIGKILL) at a write converges on the re-run, with nothing done twice.

The emulator holds the Nth Domino write (emulator/crash.py) and says so; the test kills the CLI
process while it is held, lets the emulator go on (the write never applied, or applied with its
answer lost), and re-runs the same command: the lease of the dead process does not block it,
production ends where the manifest says, each data plane has one Model API version per registry
version, the ledger has the change once, and a further run writes nothing.

Three cases run in `make test`; `make stress` runs every write of a promotion, a rollback and a
rollout in both kinds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from domino_mlops.local.models import SAMPLE_PATIENT, register_diabetes_model

CLI = str(Path(sys.executable).with_name("domino-mlops"))
SMOKE = {"input": SAMPLE_PATIENT, "expect_shape": [1]}
TIERS = ("prod", "prod-prod-small")  # PROD's two data planes, wave 1 and wave 2


def _prepare(pipeline, command: str) -> tuple[str, list[str], str]:
    """PROD at v1 (v2 too for a rollback), v2 through STAGE: (model, argv, the version PROD must end at)."""
    model = pipeline.unique(f"crash-{command}")
    v1, v2 = (register_diabetes_model(pipeline.mlflow_uri, model, alpha=a) for a in (1.0, 2.0))
    for version in (v1, v2):
        pipeline.manifest({"name": model, "version": int(version), "smoke_test": SMOKE})
        assert pipeline.run("deploy", "--env", "STAGE") == 0
    pipeline.manifest({"name": model, "version": int(v1), "smoke_test": SMOKE})
    assert pipeline.run("promote", "--env", "PROD") == 0
    pipeline.manifest({"name": model, "version": int(v2), "smoke_test": SMOKE})
    if command == "rollback":
        assert pipeline.run("promote", "--env", "PROD") == 0
        return model, ["rollback", "--env", "PROD", "--model", model], v1
    return model, [command, "--env", "PROD"], v2


def _writes_of(pipeline, argv: list[str]) -> int:
    """How many Domino writes the command makes (measured on a twin model, so cases stay exact)."""
    before = pipeline.emu.counters.writes()
    assert pipeline.run(*argv) == 0
    return pipeline.emu.counters.writes() - before


def _kill_at(pipeline, argv: list[str], nth: int, after: bool) -> str:
    with pipeline.emu.crash_at(nth, after=after) as point:
        run = subprocess.Popen([CLI, *argv], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=dict(os.environ), start_new_session=True)
        try:
            reached = point.reached.wait(180)
        finally:
            os.killpg(run.pid, signal.SIGKILL)  # the whole run, at once: no finally, no atexit
            output = run.communicate(timeout=60)[0]
        assert reached, f"write {nth} never came:\n{output}"
        return point.route or ""


def _assert_converged(pipeline, model: str, version: str) -> None:
    assert pipeline.aliases(model)["production"] == version
    for tier in TIERS:
        api, versions = pipeline.serving(f"{model}-{tier}")
        active = next(v for v in versions if v.id == api.active_version.id)
        assert active.source.registered_model_version == int(version), tier
        assert active.status == "Running"
        built = Counter(v.source.registered_model_version for v in versions)
        assert max(built.values()) == 1, f"{tier}: a registry version built twice: {built}"
    entries = [(e["from"], e["to"], e["action"]) for e in pipeline.ledger(model) if e["environment"] == "PROD"]
    assert len(entries) == len(set(entries)), entries  # the change once
    assert entries[-1][1] == version
    writes = pipeline.emu.counters.writes()
    assert pipeline.run("plan", "--env", "PROD") == 0
    assert pipeline.emu.counters.writes() == writes


def _crash_and_rerun(pipeline, command: str, nth: int, after: bool) -> None:
    model, argv, version = _prepare(pipeline, command)
    route = _kill_at(pipeline, argv, nth, after)
    assert pipeline.run(*argv) == 0, f"the re-run after a kill at write {nth} ({route}) failed"
    _assert_converged(pipeline, model, version)


@pytest.mark.parametrize("command, nth, after", [
    ("promote", 1, False),  # killed before the first data plane's new version reached Domino
    ("promote", 2, True),  # the second data plane's version made, the answer lost
    ("rollback", 1, True),  # a rollback killed once it had restarted the first data plane
])
def test_a_run_killed_at_a_write_converges_on_rerun(pipeline, command, nth, after) -> None:
    _crash_and_rerun(pipeline, command, nth, after)


def test_every_write_of_a_promotion_is_counted(pipeline) -> None:
    """The stress cases below cover each of these writes; if a promotion makes more, they follow."""
    model, argv, _ = _prepare(pipeline, "promote")
    assert _writes_of(pipeline, argv) >= 2


def _stress_cases() -> list[tuple[str, int, bool]]:
    return [(command, nth, after) for command in ("promote", "rollback", "rollout")
            for nth in range(1, 6) for after in (False, True)]


@pytest.mark.stress
@pytest.mark.parametrize("command, nth, after", _stress_cases())
def test_stress_every_write_killed(pipeline, command, nth, after) -> None:
    model, argv, version = _prepare(pipeline, command)
    twin, twin_argv, _ = _prepare(pipeline, command)
    if nth > _writes_of(pipeline, twin_argv):
        pytest.skip(f"{command} makes fewer than {nth} Domino writes")
    route = _kill_at(pipeline, argv, nth, after)
    assert pipeline.run(*argv) == 0, f"the re-run after a kill at write {nth} ({route}) failed"
    _assert_converged(pipeline, model, version)
