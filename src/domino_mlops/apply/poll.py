"""Polling that follows the phase of what it waits for, with an overall deadline.

A Model API version spends minutes building (nothing to see: look rarely) and seconds starting
(look often, so Running is noticed at once). Looks start quick (a deploy may be nearly done, and
the emulator's take a second) and back off, each phase to its own ceiling:
``PollSettings.phases`` maps a status to its ceiling; any other status (unknown, or about to
change: Stopped right after a start) backs off to ``cap``. Reports each change.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TypeVar

T = TypeVar("T")

# Domino's deployment statuses by phase (docs/DOMINO_API.md), lower case.
BUILDING = ("preparing to build", "building")
STARTING = ("starting", "deploying")
# A 9-minute build and a 1-minute start take about 26 + 25 looks (issue 12: at most 60), and
# Running is seen within 2.5 s of happening (at most 3).
DEFAULT_BUILDING_SECONDS = 30.0
DEFAULT_STARTING_SECONDS = 2.5


def phase_intervals(building: float = DEFAULT_BUILDING_SECONDS,
                    starting: float = DEFAULT_STARTING_SECONDS) -> tuple[tuple[str, float], ...]:
    """``PollSettings.phases`` for Domino's deployment statuses."""
    return tuple((status, building) for status in BUILDING) + tuple((status, starting) for status in STARTING)


@dataclass(frozen=True, slots=True)
class PollSettings:
    first: float = 0.5  # seconds before the second look, in a phase without its own interval
    factor: float = 1.6
    cap: float = 10.0
    timeout: float = 900.0  # Domino builds an image and starts pods: minutes, not seconds
    phases: tuple[tuple[str, float], ...] = phase_intervals()  # (status, most seconds between looks)

    def interval(self, phase: object) -> float | None:
        """The most seconds between looks while in ``phase`` (a status); None: ``cap``."""
        wanted = str(phase).lower()
        return next((seconds for status, seconds in self.phases if status == wanted), None)


def for_environment(settings: PollSettings, poll_seconds: tuple[tuple[str, float], ...]) -> PollSettings:
    """``settings`` with an environment's ceilings (environments.yaml ``domino.poll_seconds``,
    phase -> seconds); a phase it leaves out keeps the default."""
    if not poll_seconds:
        return settings
    chosen = dict(poll_seconds)
    return replace(settings, phases=phase_intervals(chosen.get("building", DEFAULT_BUILDING_SECONDS),
                                                    chosen.get("starting", DEFAULT_STARTING_SECONDS)))


class PollTimeout(Exception):
    def __init__(self, last: object, waited: float) -> None:
        super().__init__(f"still {last} after {waited:.0f} s")
        self.last, self.waited = last, waited


def poll_until(read: Callable[[], T], done: Callable[[T], bool], *, settings: PollSettings,
               on_change: Callable[[T], None] | None = None, key: Callable[[T], object] = lambda x: x,
               sleep: Callable[[float], None] = time.sleep,
               clock: Callable[[], float] = time.monotonic) -> T:
    """Call `read` until `done(value)`; `on_change` hears each new `key(value)`, which is also the
    phase that sets the wait before the next look. Raises PollTimeout."""
    start = clock()
    ceiling = max([settings.cap, *(seconds for _, seconds in settings.phases)])
    delay, last_key = settings.first, object()
    while True:
        value = read()
        phase = key(value)
        if phase != last_key:
            last_key = phase
            if on_change is not None:
                on_change(value)
        if done(value):
            return value
        waited = clock() - start
        if waited >= settings.timeout:
            raise PollTimeout(phase, waited)
        own = settings.interval(phase)
        sleep(min(delay, settings.cap if own is None else own, max(0.0, settings.timeout - waited)))
        delay = min(ceiling, delay * settings.factor)
