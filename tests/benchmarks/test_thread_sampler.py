"""The rollout benchmark's CPU split by thread kind (benchmarks/_thread_sampler.py): a thread's
CPU lands under its kind, whether the thread ends inside the measurement or is still alive."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from _thread_sampler import ThreadCpu  # noqa: E402

BURN = 0.05  # CPU seconds each thread spends, measured by its own clock (no wall-time waits)


def _burn() -> None:
    start = time.thread_time()
    while time.thread_time() - start < BURN:
        pass


def test_cpu_is_counted_by_kind_for_threads_that_end_and_threads_that_live_on() -> None:
    release = threading.Event()
    burnt = threading.Event()
    original_run = threading.Thread.run

    def lives_on() -> None:
        _burn()
        burnt.set()
        release.wait(60)

    with ThreadCpu() as cpu:
        ended = threading.Thread(target=_burn, name="emulator-build-x")
        ended.start()
        ended.join(60)
        alive = threading.Thread(target=lives_on, name="apply_0")
        alive.start()
        assert burnt.wait(60)
    release.set()
    alive.join(60)

    assert cpu.seconds["emulator builds (MLflow fetch and load)"] >= BURN * 0.9
    # /proc counts in clock ticks (10 ms): a thread alive at the end is read from there
    assert cpu.seconds["client (the CLI and its workers)"] >= BURN - 0.02
    assert threading.Thread.run is original_run  # the patch is gone after the block
