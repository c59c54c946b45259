"""Time as the emulator sees it: the wall clock, or a clock a test moves by hand.

Every status (a deployment's, a job's, an app's, an export's, an async prediction's) is computed
from timestamps and ``Context.now()``; nothing ticks. With a ``ManualClock`` a test moves time
itself, so each state it asserts is there because the test put the clock there, however busy the
machine is. Only the model load runs on its own (a real MLflow download): a test waits for it as
a condition, never for a duration.

.. code-block:: python
    :caption: Example

    from domino_emulator import Emulator
    from domino_emulator.clock import ManualClock

    clock = ManualClock()
    with Emulator(deploy_seconds=10, clock=clock) as emu:
        ...                 # start a job: it is Queued
        clock.advance(3)    # a quarter of its time later it is Running
        clock.advance(10)   # and now Succeeded (or Failed)
"""

from __future__ import annotations

import threading
import time


class ManualClock:
    """Epoch seconds that change only when ``advance`` (or ``set``) is called."""

    def __init__(self, start: float | None = None) -> None:
        self._lock = threading.Lock()
        self._now = time.time() if start is None else float(start)

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError(f"a clock does not go back ({seconds} s)")
        with self._lock:
            self._now += seconds
            return self._now
