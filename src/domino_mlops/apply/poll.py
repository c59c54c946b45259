"""Adaptive polling: quick at first (deploys that are nearly done), backing off to a cap
(deploys take minutes on a real Domino), with an overall deadline. Reports each change.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PollSettings:
    first: float = 0.5  # seconds before the second look
    factor: float = 1.6
    cap: float = 10.0
    timeout: float = 900.0  # Domino builds an image and starts pods: minutes, not seconds


class PollTimeout(Exception):
    def __init__(self, last: object, waited: float) -> None:
        super().__init__(f"still {last} after {waited:.0f} s")
        self.last, self.waited = last, waited


def poll_until(read: Callable[[], T], done: Callable[[T], bool], *, settings: PollSettings,
               on_change: Callable[[T], None] | None = None, key: Callable[[T], object] = lambda x: x,
               sleep: Callable[[float], None] = time.sleep,
               clock: Callable[[], float] = time.monotonic) -> T:
    """Call `read` until `done(value)`; `on_change` hears each new `key(value)`. Raises PollTimeout."""
    start = clock()
    delay, last_key = settings.first, object()
    while True:
        value = read()
        if key(value) != last_key:
            last_key = key(value)
            if on_change is not None:
                on_change(value)
        if done(value):
            return value
        waited = clock() - start
        if waited >= settings.timeout:
            raise PollTimeout(key(value), waited)
        sleep(min(delay, max(0.0, settings.timeout - waited)))
        delay = min(settings.cap, delay * settings.factor)
