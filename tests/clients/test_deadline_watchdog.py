"""One watchdog thread expires every HTTP deadline of the process (clients/deadline.py), in the
order they fall due, and never one whose exchange has finished. The drip-feeding servers of
tests/clients/test_http_hostile.py show a deadline stopping a real read."""

from __future__ import annotations

import threading
import time

from domino_mlops.clients.deadline import Deadline


def _until(condition, seconds: float = 10.0) -> bool:
    """Wait for a condition (not for a time): True as soon as it holds."""
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            return False
        time.sleep(0.01)
    return True


def test_one_thread_serves_every_deadline(monkeypatch) -> None:
    starts: list[str] = []
    start, here = threading.Thread.start, threading.current_thread()

    def counted(thread: threading.Thread) -> None:
        if threading.current_thread() is here:  # only this test's starts: other threads may start theirs
            starts.append(thread.name)
        start(thread)

    monkeypatch.setattr(threading.Thread, "start", counted)
    for _ in range(200):
        with Deadline(30.0):
            pass
    assert starts in ([], ["http-deadlines"]), starts[:5]  # no timer thread per exchange
    assert len([t for t in threading.enumerate() if t.name == "http-deadlines"]) == 1


def test_a_later_deadline_due_first_expires_first_and_a_finished_one_never() -> None:
    long, short, finished = Deadline(30.0), Deadline(0.2), Deadline(0.1)
    entered, leave = threading.Event(), threading.Event()

    def hold(deadline: Deadline) -> None:
        with deadline:
            entered.set()
            leave.wait(30)

    holder = threading.Thread(target=hold, args=(long,))
    holder.start()
    assert entered.wait(10)
    with finished:
        pass  # its exchange ended before its time
    with short:
        assert _until(lambda: short.expired)  # the watchdog woke for it, though `long` was first in
    assert not long.expired and not finished.expired
    leave.set()
    holder.join(10)
    assert not long.expired
