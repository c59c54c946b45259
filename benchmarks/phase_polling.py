"""Waiting for a deploy: status reads and how late Running is noticed (issue 12, goal 5).

An emulated Model API version goes Preparing to build -> Building -> Starting -> Running on a fake
clock (no real waiting), read by apply/poll.poll_until as a deploy reads it. Compared: the
phase-aware ceilings (30 s while building, 2.5 s while starting) and the former single back-off
to 10 s (`PollSettings(phases=())`).

Run: .venv/bin/python benchmarks/phase_polling.py
"""

from __future__ import annotations

import sys

from domino_mlops.apply.poll import PollSettings, poll_until

CASES = [("10-minute deploy (9 min building, 1 min starting)", 540.0, 60.0),
         ("3-minute deploy (2.5 min building, 30 s starting)", 150.0, 30.0),
         ("emulator deploy (0.6 s building, 0.4 s starting)", 0.6, 0.4)]


def wait(building: float, starting: float, settings: PollSettings) -> tuple[int, float]:
    """(status reads, seconds between Running and noticing it)."""
    now, reads = 0.0, 0

    def status() -> str:
        nonlocal reads
        reads += 1
        if now < building / 10:
            return "Preparing to build"
        if now < building:
            return "Building"
        return "Starting" if now < building + starting else "Running"

    def sleep(seconds: float) -> None:
        nonlocal now
        now += seconds

    poll_until(status, lambda s: s == "Running", settings=settings, sleep=sleep, clock=lambda: now)
    return reads, now - (building + starting)


def measured(building: float, starting: float, settings: PollSettings) -> tuple[int, float]:
    """Reads for exactly this deploy, and the latest Running is noticed over 100 start times a
    little longer (up to 10 s): where Running falls between two reads is luck, the worst case is
    the figure."""
    spread = min(10.0, (building + starting) / 10)
    late = max(wait(building, starting + spread * k / 100, settings)[1] for k in range(100))
    return wait(building, starting, settings)[0], late


def main() -> int:
    print("| deploy | reads, phase-aware (now) | Running noticed after (s) | reads, one back-off (before) "
          "| Running noticed after (s) |\n|---|---|---|---|---|")
    for label, building, starting in CASES:
        new, new_late = measured(building, starting, PollSettings())
        old, old_late = measured(building, starting, PollSettings(phases=()))
        print(f"| {label} | {new} | {new_late:.1f} | {old} | {old_late:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
