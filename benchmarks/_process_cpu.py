"""CPU seconds of another process and its children, for benchmarks that say where time went."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and its children, from /proc (Linux): how busy
    the MLflow server was, which `time.process_time` of this process does not show."""
    pids, ticks = {pid}, 0
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                stats[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))  # ppid, utime + stime
    while True:  # the server's workers are its children (uvicorn, gunicorn)
        more = {p for p, (parent, _) in stats.items() if parent in pids} - pids
        if not more:
            break
        pids |= more
    ticks = sum(stats[p][1] for p in pids if p in stats)
    return ticks / os.sysconf("SC_CLK_TCK")
