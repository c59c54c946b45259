"""Where the executor's workers spend their time: a thread samples every worker's stack.

Each sample names, per worker thread (``apply_*``), the step it is in (the innermost frame of
apply/), the client call (of clients/), and the innermost frame overall (e.g. ``poll.py:poll_until``
asleep, ``lease.py:acquire > mlflow.py:_call`` waiting for MLflow). The counts, as shares of all samples, show what workers wait on: a lock,
MLflow, Domino, or each other (an idle worker sits in ``concurrent/futures/thread.py``).
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from pathlib import Path


def _where(frame) -> str:
    """``step > client call <- innermost frame``: the innermost frame of apply/ (which step), of
    clients/ (which call), and the innermost of all (what it waits in)."""
    inner = _name(frame)
    step = client = None
    while frame is not None:
        path = frame.f_code.co_filename
        if client is None and "domino_mlops/clients/" in path:
            client = _name(frame)
        if "domino_mlops/apply/" in path:
            step = _name(frame)
            break
        frame = frame.f_back
    return f"{step or '(idle)'}{f' > {client}' if client else ''} <- {inner}"


def _name(frame) -> str:
    return f"{Path(frame.f_code.co_filename).name}:{frame.f_code.co_name}"


class ThreadSampler:
    def __init__(self, prefix: str = "apply", every: float = 0.05) -> None:
        self.prefix, self.every = prefix, every
        self.counts: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)

    def __enter__(self) -> ThreadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        names = {}
        while not self._stop.wait(self.every):
            names.update({t.ident: t.name for t in threading.enumerate()})
            for ident, frame in sys._current_frames().items():
                if names.get(ident, "").startswith(self.prefix):
                    self.counts[_where(frame)] += 1

    def top(self, n: int = 15) -> list[tuple[str, float]]:
        total = sum(self.counts.values()) or 1
        return [(where, count / total) for where, count in self.counts.most_common(n)]
