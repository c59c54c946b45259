"""What a route handler can reach: the world, the model store, faults, the log and timing."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from domino_emulator.async_queue import AsyncQueue
from domino_emulator.crash import CrashPoint
from domino_emulator.faults import FaultInjector
from domino_emulator.predictor import ModelStore
from domino_emulator.recorder import RequestLog
from domino_emulator.world import World, save_state

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Context:
    world: World
    models: ModelStore
    faults: FaultInjector
    log: RequestLog
    deploy_seconds: float  # a version's build + start; jobs, apps and exports take as long
    state_file: Path | None = None
    async_queue: AsyncQueue = field(default_factory=lambda: AsyncQueue(0.0))
    clock: Callable[[], float] = time.time  # or a clock.ManualClock a test moves
    closed: bool = False  # set at stop: a late build thread must not write a successor's state file
    crash_point: CrashPoint | None = None  # a crash test's hold on the Nth write (emulator/crash.py)

    def __post_init__(self) -> None:
        # A prediction is Pending, then Processing, a tenth of a deploy each: visible, not slow.
        self.async_queue.step = 0.1 * self.deploy_seconds

    def now(self) -> float:
        return self.clock()

    def sleep_until(self, when: float) -> None:
        """Block until the emulator's clock reaches ``when`` (polled: a manual clock moves by hand)."""
        while not self.closed:
            remaining = when - self.now()
            if remaining <= 0:
                return
            time.sleep(min(remaining, 0.02))

    def run_seconds(self) -> float:
        return self.deploy_seconds

    def version_seconds(self) -> float:
        return self.deploy_seconds + self.faults.plan.slow_deploy_seconds

    def persist(self) -> None:
        """Save the world when a state file is configured; called after every write."""
        if self.state_file is None or self.closed:
            return
        try:
            save_state(self.world, self.state_file)
        except OSError:
            # A full disk must not turn a successful write into a 500; the next write retries.
            logger.exception("cannot save the emulator state to %s", self.state_file)
