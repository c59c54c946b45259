"""Waiting follows the deployment's phase (issue 12, goal 5): an emulated 10-minute deploy on a
fake clock, no real waiting."""

from __future__ import annotations

import pytest

from domino_mlops.apply.poll import PollSettings, phase_intervals, poll_until


class Deploy:
    """A version that is Preparing to build, Building for `building` seconds, Starting for
    `starting`, then Running; its status is computed from the fake clock."""

    def __init__(self, building: float, starting: float) -> None:
        self.now, self.reads, self.sleeps = 0.0, 0, []
        self.building, self.starting = building, starting

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def status(self) -> str:
        self.reads += 1
        if self.now < self.building / 10:
            return "Preparing to build"
        if self.now < self.building:
            return "Building"
        return "Starting" if self.now < self.building + self.starting else "Running"

    def wait(self, settings: PollSettings) -> str:
        return poll_until(self.status, lambda s: s == "Running", settings=settings, sleep=self.sleep,
                          clock=lambda: self.now)


@pytest.mark.parametrize("later", [0.0, 0.7, 1.9, 2.4, 3.3, 5.1, 7.7, 9.9])
def test_a_ten_minute_deploy_costs_at_most_60_looks_and_running_is_seen_within_3_s(later: float) -> None:
    """9 minutes building, 1 minute starting (and a little more: where Running falls between two
    looks must not matter)."""
    deploy = Deploy(building=540, starting=60 + later)
    assert deploy.wait(PollSettings()) == "Running"

    assert deploy.reads <= 60
    assert deploy.now - (600 + later) <= 3  # Running noticed this long after it happened
    assert max(deploy.sleeps) == 30  # slow while building
    assert all(s <= 2.5 for s in deploy.sleeps[-10:])  # quick while starting


def test_the_old_backoff_took_more_looks_and_noticed_later() -> None:
    deploy = Deploy(building=540, starting=60)
    deploy.wait(PollSettings(phases=()))  # one ceiling for every phase: 10 s
    assert deploy.reads > 60 or deploy.now - 600 > 3


def test_a_quick_deploy_is_still_looked_at_quickly() -> None:
    """The emulator's deploys take a second: the first looks come fast, whatever the phase."""
    deploy = Deploy(building=0.6, starting=0.4)
    deploy.wait(PollSettings())
    assert deploy.now < 2 and deploy.sleeps == pytest.approx([0.5, 0.8])


@pytest.mark.parametrize(("building", "starting"), [(60, 1), (10, 3)])
def test_the_ceilings_come_from_the_settings(building: float, starting: float) -> None:
    deploy = Deploy(building=540, starting=60)
    deploy.wait(PollSettings(phases=phase_intervals(building, starting)))
    assert max(deploy.sleeps) == building
    assert deploy.now - 600 <= starting
