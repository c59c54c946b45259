"""The registry loads the built-in kinds on first use (plan/kinds.py): whichever thread asks first,
every thread that asks meanwhile gets the kinds, never an empty registry. In a fresh interpreter,
so nothing has loaded them yet."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

PROBE = """
import threading
from domino_mlops.plan.kinds import kind_named, kinds

start = threading.Barrier(16)
found, errors = [], []

def ask():
    start.wait()
    try:
        found.append(tuple(kind_named(name).name for name in ("model", "job", "scheduled_job", "app", "export")))
    except Exception as exc:
        errors.append(repr(exc))

threads = [threading.Thread(target=ask) for _ in range(16)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(len(found), len(set(found)), errors, [kind.name for kind in kinds()])
"""


def test_threads_asking_at_first_use_all_find_the_built_in_kinds() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(SRC)}).stdout.split("\n")[0]
    assert out == "16 1 [] ['model', 'job', 'scheduled_job', 'app', 'export']", out
