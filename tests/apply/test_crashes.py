"""A run killed (SIGKILL) at a write converges on the re-run, with nothing done twice.

The emulator holds the Nth Domino write (emulator/crash.py) and says so; the test kills the CLI
process while it is held, lets the emulator go on (the write never applied, or applied with its
answer lost), and re-runs the same command: the lease of the dead process does not block it,
production ends where the manifest says, each data plane has one Model API version per registry
version, the ledger has the change once, and a further run writes nothing.

The same holds when the run dies at an MLflow write (a lease, a tag, the legacy stage, the alias,
the ledger): a fault proxy in front of the real MLflow server holds its Nth write the same way
(tests/support/fault_proxy.py), N drawn from a seeded random generator over the writes the same
command makes on a twin model.

The killed run is the CLI in its own process, as a workflow step runs it (and the twin that
measures its writes); the deploys before it and the re-runs after it go through the facade
(domino_mlops.api), with the outcome and the real state asserted.

A few cases run in `make test`; `make stress` runs every Domino write of a promotion, a rollback
and a rollout in both kinds (12) and 6 seeded MLflow write points (2 per command): 18 kills;
`make soak` adds 12 more seeded MLflow write points (6 per command in all).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from domino_mlops.api import DeployOutcome, DeployRequest, PlanRequest, RollbackRequest
from domino_mlops.errors import LeaseHeld
from domino_mlops.state.lease import LeaseSettings
from domino_emulator.local.models import SAMPLE_PATIENT, register_diabetes_model
from tests.apply.conftest import events_to
from tests.support.fault_proxy import fault_proxy

CLI = str(Path(sys.executable).with_name("domino-mlops"))
SMOKE = {"input": SAMPLE_PATIENT, "expect_shape": [1]}
TIERS = ("prod", "prod-prod-small")  # PROD's two data planes, wave 1 and wave 2


def _prepare(pipeline, command: str) -> tuple[str, list[str], str]:
    """PROD at v1 (v2 too for a rollback), v2 through STAGE: (model, argv, the version PROD must end at)."""
    model = pipeline.unique(f"crash-{command}")
    v1, v2 = (register_diabetes_model(pipeline.mlflow_uri, model, alpha=a) for a in (1.0, 2.0))
    for version in (v1, v2):
        pipeline.manifest({"name": model, "version": int(version), "smoke_test": SMOKE})
        assert pipeline.deploy().exit_code == 0
    pipeline.manifest({"name": model, "version": int(v1), "smoke_test": SMOKE})
    assert pipeline.deploy("promote").exit_code == 0
    pipeline.manifest({"name": model, "version": int(v2), "smoke_test": SMOKE})
    if command == "rollback":
        assert pipeline.deploy("promote").exit_code == 0
        return model, ["rollback", "--env", "PROD", "--model", model], v1
    return model, [command, "--env", "PROD"], v2


def _rerun(pipeline, argv: list[str], reporter=None, **fields) -> DeployOutcome:
    """The killed command again, through the facade (``fields``: more of its request)."""
    if argv[0] == "rollback":
        request = RollbackRequest("PROD", argv[argv.index("--model") + 1], **fields)
    else:
        request = DeployRequest("PROD", **fields)
    return pipeline.call(argv[0], request, reporter)


def _writes_of(pipeline, argv: list[str]) -> int:
    """How many Domino writes the command makes (measured on a twin model, so cases stay exact)."""
    before = pipeline.emu.counters.writes()
    assert pipeline.run(*argv) == 0
    return pipeline.emu.counters.writes() - before


def _kill_at(pipeline, argv: list[str], nth: int, after: bool, proxy=None) -> str:
    """Kill the command at its nth Domino write, or with ``proxy`` at its nth MLflow write."""
    env = dict(os.environ, **({"MLFLOW_TRACKING_URI": proxy.url} if proxy else {}))
    crash = proxy.crash_at_write(nth, after=after) if proxy else pipeline.emu.crash_at(nth, after=after)
    with crash as point:
        run = subprocess.Popen([CLI, *argv], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=env, start_new_session=True)
        try:
            reached = point.reached.wait(180)
        finally:
            os.killpg(run.pid, signal.SIGKILL)  # the whole run, at once: no finally, no atexit
            output = run.communicate(timeout=60)[0]
        assert reached, f"write {nth} never came:\n{output}"
        return point.route or ""


def _mlflow_writes_of(argv: list[str], proxy) -> int:
    """How many MLflow writes the command makes, through the proxy (a twin model, a real run)."""
    before = proxy.counters.writes()
    done = subprocess.run([CLI, *argv], capture_output=True, text=True,
                          env=dict(os.environ, MLFLOW_TRACKING_URI=proxy.url))
    assert done.returncode == 0, done.stdout + done.stderr
    return proxy.counters.writes() - before


def _crash_mlflow_and_rerun(pipeline, mlflow_server, command: str, seed: int) -> None:
    """Kill the command at a seeded random MLflow write (before or after MLflow applied it)."""
    with fault_proxy(mlflow_server.uri) as proxy:
        twin, twin_argv, _ = _prepare(pipeline, command)  # measured first: the manifest then names the model
        writes = _mlflow_writes_of(twin_argv, proxy)
        model, argv, version = _prepare(pipeline, command)
        draw = random.Random(f"{command}-{seed}")
        # The last write (the lease's release) is left out: a run that only renewed its lease less
        # often than the twin would never reach it.
        nth, after = draw.randint(1, max(1, writes - 1)), draw.random() < 0.5
        route = _kill_at(pipeline, argv, nth, after, proxy)
    rerun = _rerun(pipeline, argv)
    assert rerun.exit_code == 0, f"the re-run after a kill at MLflow write {nth}/{writes} ({route}) failed: {rerun}"
    _assert_converged(pipeline, model, version)


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
    pipeline.call("plan", PlanRequest("PROD"))  # a plan reads only
    assert pipeline.emu.counters.writes() == writes


def _crash_and_rerun(pipeline, command: str, nth: int, after: bool) -> None:
    model, argv, version = _prepare(pipeline, command)
    route = _kill_at(pipeline, argv, nth, after)
    rerun = _rerun(pipeline, argv)
    assert rerun.exit_code == 0, f"the re-run after a kill at write {nth} ({route}) failed: {rerun}"
    _assert_converged(pipeline, model, version)


@pytest.mark.parametrize("command, nth, after", [
    ("promote", 1, False),  # killed before the first data plane's new version reached Domino
    ("promote", 2, True),  # the second data plane's version made, the answer lost
    ("rollback", 1, True),  # a rollback killed once it had restarted the first data plane
])
def test_a_run_killed_at_a_write_converges_on_rerun(pipeline, command, nth, after) -> None:
    _crash_and_rerun(pipeline, command, nth, after)


def test_a_promotion_killed_at_a_seeded_mlflow_write_converges_on_rerun(pipeline, mlflow_server) -> None:
    _crash_mlflow_and_rerun(pipeline, mlflow_server, "promote", seed=0)


def test_every_write_of_a_promotion_is_counted(pipeline) -> None:
    """The stress cases below cover each of these writes; if a promotion makes more, they follow."""
    model, argv, _ = _prepare(pipeline, "promote")
    assert _writes_of(pipeline, argv) >= 2


COMMANDS = ("promote", "rollback", "rollout")
DOMINO_WRITES = 2  # each command's Domino writes: one per PROD data plane (measured below)


@pytest.mark.stress
@pytest.mark.parametrize("command, nth, after", [(c, n, a) for c in COMMANDS
                                                 for n in range(1, DOMINO_WRITES + 1) for a in (False, True)])
def test_stress_every_domino_write_killed(pipeline, command, nth, after) -> None:
    twin, twin_argv, _ = _prepare(pipeline, command)  # measured first: the manifest then names the model
    assert _writes_of(pipeline, twin_argv) == DOMINO_WRITES, "the cases no longer cover every Domino write"
    model, argv, version = _prepare(pipeline, command)
    route = _kill_at(pipeline, argv, nth, after)
    rerun = _rerun(pipeline, argv)
    assert rerun.exit_code == 0, f"the re-run after a kill at write {nth} ({route}) failed: {rerun}"
    _assert_converged(pipeline, model, version)


# Two seeds per command under `make stress`; the other four repeat the same shape at other write
# points and run under `make soak` (the stress run must end in a known time on 2 cores).
STRESS_SEEDS = 2


@pytest.mark.stress
@pytest.mark.parametrize("command, seed", [
    pytest.param(c, seed, marks=() if seed <= STRESS_SEEDS else pytest.mark.soak)
    for c in COMMANDS for seed in range(1, 7)])
def test_stress_seeded_mlflow_writes_killed(pipeline, mlflow_server, command, seed) -> None:
    _crash_mlflow_and_rerun(pipeline, mlflow_server, command, seed)


@pytest.mark.parametrize("command", ["promote", "rollout"])
def test_a_run_killed_in_wave_1_then_a_failed_rerun_puts_every_data_plane_back(pipeline, command) -> None:
    """Killed once wave 1's new version reached Domino, then re-run with wave 2's tier failing:
    wave 1 serves v2 by the dead run's hand, which this run never wrote. The failed re-run still
    puts it back, since what the alias names (not what this run wrote) decides; and again on the
    next re-run (issue 19, item 1)."""
    model, argv, v2 = _prepare(pipeline, command)
    v1 = pipeline.aliases(model)["production"]
    pipeline.emu.set_faults({"failing_tiers": ["prod-small"]})  # wave 2's data plane cannot serve
    _kill_at(pipeline, argv, 1, True)  # wave 1's new version made, the run dead before it heard so
    for attempt in (1, 2):
        events: list[str] = []
        rerun = _rerun(pipeline, argv, events_to(lambda _, message: events.append(message)))
        assert rerun.exit_code == 1, f"re-run {attempt}"
        assert any(m.startswith(f"{model}-prod: previous version") and "is serving again" in m
                   for m in events), events  # wave 1 named
        assert pipeline.aliases(model)["production"] == v1
        for tier in TIERS:
            api, versions = pipeline.serving(f"{model}-{tier}")
            active = next(v for v in versions if v.id == api.active_version.id)
            assert (active.source.registered_model_version, active.status) == (int(v1), "Running"), (attempt, tier)
        (result,) = rerun.result.models
        planes = [p.status for p in result.data_planes]
        assert planes == ["put back", "put back"], result.data_planes  # wave 1 too, not "unchanged"


# --- the lease a killed job leaves (issue 19, item 6) ----------------------------------------------

LEASE = "domino_mlops.lease.PROD"
# Claims of runs that may still be alive, whatever a re-run of job 4242/promote finds: never taken.
LIVE_OTHERS = {
    "another run": {"job": "4243/promote", "attempt": 1},
    "a matrix sibling (the same attempt)": {"attempt": 2},
    "a later attempt": {"attempt": 3},
    "another job of this run": {"job": "4242/rollout", "attempt": 1},
}


def _as_attempt(pipeline, attempt: int) -> None:
    """Run as attempt ``attempt`` of job ``promote`` of GitHub run 4242 (a killed CLI inherits it)."""
    for name, value in (("GITHUB_RUN_ID", "4242"), ("GITHUB_JOB", "promote"), ("GITHUB_RUN_ATTEMPT", str(attempt))):
        pipeline.monkeypatch.setenv(name, value)


def _as_lease_of_attempt(attempt: int) -> LeaseSettings:
    """The lease settings the CLI reads from _as_attempt's variables (commands/runtime.py), for the facade."""
    return LeaseSettings(settle=0.05, job="4242/promote", attempt=attempt)


def _lease(pipeline, model: str) -> str | None:
    return pipeline.mlflow.get_registered_model(model).tags.get(LEASE)


def _set_lease(pipeline, model: str, text: str) -> str:
    pipeline.mlflow.set_registered_model_tag(model, LEASE, text)
    return text


def _on_a_runner_gone(text: str | None, **changes: object) -> str:
    """A claim as a GitHub-hosted runner leaves it: written on a machine this one cannot look at
    (no process check can tell it dead) and far from expiring; ``changes`` say who wrote it."""
    assert text, "the killed run left no lease"
    claim = json.loads(text)
    assert (claim.get("job"), claim.get("attempt")) == ("4242/promote", 1), claim  # recorded by the dead run
    claim.update(host="fv-az512-17", pid=4321, expires=time.time() + 3600, **changes)
    return json.dumps(claim, separators=(",", ":"))


def test_a_rerun_of_a_killed_job_takes_over_its_earlier_attempts_lease(pipeline) -> None:
    """GitHub re-runs a job killed mid-promotion on another runner: the dead attempt's lease names
    a machine the re-run cannot look at, but an earlier attempt of this very job is provably
    dead, so the re-run takes it over and converges. A lease that may be a live run's is left
    alone: exit 4, nothing written."""
    _as_attempt(pipeline, 1)
    model, argv, version = _prepare(pipeline, "promote")
    _kill_at(pipeline, argv, 1, False)  # holding the lease, at wave 1's first Domino write
    dead = _on_a_runner_gone(_lease(pipeline, model))
    _as_attempt(pipeline, 2)
    for who, changes in LIVE_OTHERS.items():
        held = _set_lease(pipeline, model, _on_a_runner_gone(dead, **changes))
        writes = pipeline.emu.counters.writes()
        refused = _rerun(pipeline, argv, lease=_as_lease_of_attempt(2))
        assert refused.exit_code == 4, who
        assert [(m.status, type(m.error)) for m in refused.result.models] == [("conflict", LeaseHeld)], who
        assert _lease(pipeline, model) == held and pipeline.emu.counters.writes() == writes, who
    _set_lease(pipeline, model, dead)
    assert _rerun(pipeline, argv, lease=_as_lease_of_attempt(2)).exit_code == 0
    _assert_converged(pipeline, model, version)
    assert _lease(pipeline, model) is None


def test_a_rerun_with_nothing_to_do_removes_the_lease_a_killed_attempt_left(pipeline, mlflow_server, capsys) -> None:
    """Killed after every write but the lease's release (the alias and the ledger done): the
    re-run has nothing to do, and still removes the dead attempt's lease, which would block any
    other runner until it expired. A lease that may be a live run's stays."""
    _as_attempt(pipeline, 1)
    with fault_proxy(mlflow_server.uri) as proxy:
        twin, twin_argv, _ = _prepare(pipeline, "promote")  # measured first: the manifest then names the model
        writes = _mlflow_writes_of(twin_argv, proxy)
        model, argv, version = _prepare(pipeline, "promote")
        route = _kill_at(pipeline, argv, writes - 1, True, proxy)
    dead = _on_a_runner_gone(_lease(pipeline, model))
    _as_attempt(pipeline, 2)
    for who, changes in LIVE_OTHERS.items():
        held = _set_lease(pipeline, model, _on_a_runner_gone(dead, **changes))
        idle = _rerun(pipeline, argv, lease=_as_lease_of_attempt(2))
        assert idle.result is None and idle.cleared_leases == (), who
        assert _lease(pipeline, model) == held, who
    _set_lease(pipeline, model, dead)
    capsys.readouterr()
    assert pipeline.run(*argv) == 0  # the CLI, which reads the attempt from GITHUB_* and says what it removed
    out = capsys.readouterr().out
    assert "Nothing to do" in out, out
    assert _lease(pipeline, model) is None, f"killed after {route}:\n{out}"
    assert f"Removed the stale lease of {model} in PROD" in out, out
    _assert_converged(pipeline, model, version)
