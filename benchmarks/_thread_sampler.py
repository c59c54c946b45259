"""Where the executor's workers spend their time: a thread samples every worker's stack.

Each sample names, per worker thread (``apply_*``), the step it is in (the innermost frame of
apply/), the client call (of clients/), and the innermost frame overall (e.g. ``poll.py:poll_until``
asleep, ``lease.py:acquire > mlflow.py:_call`` waiting for MLflow). The counts, as shares of all samples, show what workers wait on: a lock,
MLflow, Domino, or each other (an idle worker sits in ``concurrent/futures/thread.py``).
"""

from __future__ import annotations

import os
import sys
import threading
import time
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
        self.counts: Counter[str] = Counter()  # where -> worker-seconds
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
        last = time.perf_counter()
        while not self._stop.wait(self.every):
            # Weighted by the time since the last look: a busy process (the GIL held elsewhere)
            # wakes the sampler late, and unweighted counts would favour the idle moments.
            now = time.perf_counter()
            weight, last = now - last, now
            names.update({t.ident: t.name for t in threading.enumerate()})
            for ident, frame in sys._current_frames().items():
                if names.get(ident, "").startswith(self.prefix):
                    self.counts[_where(frame)] += weight

    def top(self, n: int = 15) -> list[tuple[str, float]]:
        total = sum(self.counts.values()) or 1
        return [(where, count / total) for where, count in self.counts.most_common(n)]


class PhaseSpans:
    """When each ModelRun phase ran, first start to last end over all models (the executor's
    phases are barriers, so these spans add up to the apply's model part). Patches ModelRun's
    methods for the duration of the ``with`` block: a benchmark's measurement, nothing else."""

    PHASES = ("begin", "deploy_wave", "last_wave", "smoke_again", "finish", "put_back", "release")

    def __init__(self) -> None:
        self.spans: dict[str, list[float]] = {}  # phase -> [first start, last end, calls, seconds]
        self._lock = threading.Lock()
        self._saved: dict[str, object] = {}

    def __enter__(self) -> PhaseSpans:
        from domino_mlops.apply.model_run import ModelRun

        for phase in self.PHASES:
            original = self._saved[phase] = getattr(ModelRun, phase)
            setattr(ModelRun, phase, self._timed(phase, original))
        return self

    def __exit__(self, *exc: object) -> None:
        from domino_mlops.apply.model_run import ModelRun

        for phase, original in self._saved.items():
            setattr(ModelRun, phase, original)

    def _timed(self, phase: str, original):
        def timed(run, *args):
            started = time.perf_counter()
            try:
                return original(run, *args)
            finally:
                ended = time.perf_counter()
                with self._lock:
                    span = self.spans.setdefault(phase, [started, ended, 0, 0.0])
                    span[0], span[1] = min(span[0], started), max(span[1], ended)
                    span[2] += 1
                    span[3] += ended - started
        return timed

    def table(self, origin: float) -> list[str]:
        rows = ["| phase | from s | to s | calls | mean s per call |", "|---|---|---|---|---|"]
        for phase, (start, end, calls, seconds) in sorted(self.spans.items(), key=lambda item: item[1][0]):
            rows.append(f"| {phase} | {start - origin:.1f} | {end - origin:.1f} | {calls} | {seconds / calls:.2f} |")
        return rows


def _kind(name: str) -> str:
    """Whose work a thread of the benchmark's one process does, by its name."""
    if name.startswith("apply") or name == "MainThread":
        return "client (the CLI and its workers)"
    if name.startswith("emulator-build") or name.startswith("ThreadPoolExecutor"):
        return "emulator builds (MLflow fetch and load)"  # MLflow downloads in a pool of its own
    if "process_request_thread" in name:
        return "emulator HTTP (answering Domino calls)"
    return "other (sampler, deadlines, ...)"


def _task_cpu(native_id: int | None) -> float:
    """CPU seconds (user + system) of one thread of this process, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/self/task/{native_id}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, TypeError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


_TICKS = os.sysconf("SC_CLK_TCK")


class ThreadCpu:
    """CPU seconds spent in the ``with`` block, split by kind of thread (``_kind``): the client's,
    the emulator's answers, the emulator's builds. Threads alive at both ends are read from /proc;
    a thread that ends inside the block reports its own ``time.thread_time`` as it ends (patched
    ``Thread.run``), since /proc forgets it."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._before: dict[int, float] = {}
        self._run = threading.Thread.run

    def __enter__(self) -> ThreadCpu:
        self._before = {t.native_id: _task_cpu(t.native_id) for t in threading.enumerate() if t.native_id}
        original, counts, lock, before = self._run, self.seconds, self._lock, self._before

        def run(thread: threading.Thread) -> None:
            try:
                original(thread)
            finally:
                with lock:
                    counts[_kind(thread.name)] += time.thread_time() - before.get(thread.native_id or 0, 0.0)
                    before[thread.native_id or 0] = float("inf")  # counted: not again at the end
        threading.Thread.run = run  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        threading.Thread.run = self._run  # type: ignore[method-assign]
        with self._lock:
            for thread in threading.enumerate():
                start = self._before.get(thread.native_id or 0, 0.0)
                if start != float("inf"):
                    self.seconds[_kind(thread.name)] += _task_cpu(thread.native_id) - start
