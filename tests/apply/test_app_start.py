"""Waiting for an app to start: what Domino reports right after a start is no verdict yet.

Right after `start`, Domino may still report the state the app was in (Stopped); only a stop
after the app was on its way (Pending, Starting...) is a failed start. Statuses come from a
scripted Apps stand-in: the emulator always moves at once, a real Domino may not.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from domino_mlops.apply.app_run import _running
from domino_mlops.apply.poll import PollSettings, PollTimeout
from domino_mlops.clients.domino.app_types import App
from domino_mlops.errors import AppFailed


class ScriptedApps:
    def __init__(self, *statuses: str) -> None:
        self.statuses, self.reads = list(statuses), 0

    def get(self, app_id: str) -> App:
        status = self.statuses[min(self.reads, len(self.statuses) - 1)]
        self.reads += 1
        return App(id=app_id, name="dash-stage", status=status)


def _run(timeout: float = 30.0) -> SimpleNamespace:
    said: list[str] = []
    return SimpleNamespace(ctx=SimpleNamespace(options=SimpleNamespace(poll=PollSettings(first=0.001, cap=0.001,
                                                                                      timeout=timeout))),
                           env=SimpleNamespace(name="STAGE"), say=said.append, said=said)


def test_a_stale_stopped_status_right_after_the_start_is_waited_out() -> None:
    apps = ScriptedApps("Stopped", "Stopped", "Pending", "Running")
    assert _running(apps, "a1", _run()).is_running and apps.reads == 4


def test_a_stop_after_the_app_was_on_its_way_is_a_failed_start() -> None:
    apps = ScriptedApps("Stopped", "Pending", "Stopped")
    with pytest.raises(AppFailed) as failed:
        _running(apps, "a1", _run())
    assert "went Stopped instead of Running" in str(failed.value) and apps.reads == 3


def test_failed_is_a_verdict_at_once() -> None:
    apps = ScriptedApps("Failed", "Running")
    with pytest.raises(AppFailed):
        _running(apps, "a1", _run())
    assert apps.reads == 1


def test_an_app_that_never_leaves_stopped_runs_into_the_timeout() -> None:
    with pytest.raises(PollTimeout):
        _running(ScriptedApps("Stopped"), "a1", _run(timeout=0.05))
