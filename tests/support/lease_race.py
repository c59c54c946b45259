"""Two lease takers, A and B, whose registry calls wait for named events, so a test sets the
interleaving of the lease's own race step by step (the worst ones happen every run) rather than
hoping for it. The points are ``A.read1`` (the first read), ``A.write`` (the claim), ``A.read2``
(the read back), and the same for B; an ``order`` says which points each point waits for."""

from __future__ import annotations

import threading
from collections.abc import Callable

from domino_mlops.state.lease import Leases, LeaseSettings
from domino_mlops.clients.mlflow.registry import MlflowRegistry
from domino_mlops.errors import LeaseHeld

POINTS = ("A.read1", "A.read2", "A.write", "B.read1", "B.read2", "B.write")


class Scripted:
    """A registry whose lease calls (one model's reads, batch reads, claims) wait for events."""

    def __init__(self, registry: MlflowRegistry, name: str, script: dict[str, tuple[threading.Event, ...]],
                 done: dict[str, threading.Event]) -> None:
        self._registry, self.name, self._script, self._done = registry, name, script, done
        self._reads = 0
        self.reader = self  # Leases.acquire_all reads through registry.reader.heads

    def model_tags(self, model: str) -> dict[str, str]:
        self._reads += 1
        return self._at(f"{self.name}.read{self._reads}", lambda: self._registry.model_tags(model))

    def heads(self, names):
        self._reads += 1
        return self._at(f"{self.name}.read{self._reads}", lambda: self._registry.reader.heads(names))

    def set_model_tag(self, model: str, key: str, value: str) -> None:
        self._at(f"{self.name}.write", lambda: self._registry.set_model_tag(model, key, value))

    def delete_model_tag(self, model: str, key: str) -> None:
        self._registry.delete_model_tag(model, key)

    def _at(self, point: str, work: Callable[[], object]):
        for event in self._script.get(point, ()):
            assert event.wait(30), f"{point} waited for a step that never came"
        try:
            return work()
        finally:
            self._done.setdefault(point, threading.Event()).set()


def race(registry: MlflowRegistry, model: str, order: dict[str, tuple[str, ...]], *,
         batch: bool = False) -> dict[str, object]:
    """Run takers A and B on ``model`` (``Leases.acquire``, or ``acquire_all`` with ``batch``);
    each outcome is its Lease or the LeaseHeld that stopped it."""
    done = {p: threading.Event() for p in POINTS}
    script = {p: tuple(done[w] for w in waits) for p, waits in order.items()}
    outcome: dict[str, object] = {}

    def take(name: str) -> None:
        leases = Leases(LeaseSettings(settle=0.0, holder=f"taker {name}"), sleep=lambda _: None)
        scripted = Scripted(registry, name, script, done)
        try:
            if batch:
                outcome[name] = leases.acquire_all(scripted, [model], "PROD")[model]  # type: ignore[arg-type]
            else:
                outcome[name] = leases.acquire(scripted, model, "PROD")  # type: ignore[arg-type]
        except LeaseHeld as exc:
            outcome[name] = exc
        finally:
            for point in POINTS:  # a taker that stopped early releases whoever waits on its steps
                if point.startswith(name):
                    done[point].set()

    threads = [threading.Thread(target=take, args=(name,)) for name in "AB"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcome
