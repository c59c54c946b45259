"""What a route handler can reach: the world, the model store, faults, the log and timing."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from domino_mlops.emulator.faults import FaultInjector
from domino_mlops.emulator.predictor import ModelStore
from domino_mlops.emulator.recorder import RequestLog
from domino_mlops.emulator.world import World, save_state

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Context:
    world: World
    models: ModelStore
    faults: FaultInjector
    log: RequestLog
    deploy_seconds: float  # a version's build + start; jobs, apps and exports take as long
    state_file: Path | None = None
    # asyncPredictionId -> (model API id, ready at, outcome); in memory only, see routes_async
    async_predictions: dict[str, tuple[str, float, dict[str, Any]]] = field(default_factory=dict)
    closed: bool = False  # set at stop: a late build thread must not write a successor's state file

    def now(self) -> float:
        return time.time()

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
