"""A crash point: the emulator stops at the Nth write request and waits for the test.

Crash tests kill the CLI at a chosen write. Killing it "after about N seconds" would be a race;
instead the emulator holds the Nth write (counted from when the point is armed) and says so, the
test kills the client while it is held, then lets the emulator go on. Two kinds:

- ``after=False``: the write is never applied (the client died before it reached Domino);
- ``after=True``: the write is applied, the answer is held (the client died before it heard back).

Either way the re-run must converge on what the manifest says, with nothing done twice.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class CrashPoint:
    nth: int
    after: bool = False  # apply the write, then hold its answer (else hold it unapplied)
    reached: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    route: str | None = None  # the route of the held write, for the test's message
    _seen: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def arrive(self, route: str) -> bool:
        """A write is about to be handled: True when it is the one to hold."""
        with self._lock:
            self._seen += 1
            if self._seen != self.nth:
                return False
            self.route = route
            return True

    def hold(self, timeout: float = 300.0) -> None:
        """Say the point is reached, then wait for the test to let go."""
        self.reached.set()
        self.released.wait(timeout)

    def release(self) -> None:
        self.released.set()
