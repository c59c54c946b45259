"""Run every benchmark and print its Markdown table (paste into docs/DEVELOPMENT.md's
Benchmarks and docs/PERFORMANCE.md). `--large` adds the 10,000-entry, 500-project plan (several more minutes)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# A benchmark that cannot run here (cold_start.py offline) exits 3 after saying why: the rest go on.
SKIPPED = 3
# Extra runs of a script with other arguments, only with --large.
LARGE = {"plan_scale.py": [["--entries", "10000", "--projects", "500", "--old-sample", "1000"]]}

if __name__ == "__main__":
    large = "--large" in sys.argv[1:]
    for script in sorted(HERE.glob("*.py")):
        if script.name in ("run_all.py",) or script.name.startswith("_"):
            continue
        for args in [[], *(LARGE.get(script.name, []) if large else [])]:
            print(f"\n### {script.stem} {' '.join(args)}\n", flush=True)
            done = subprocess.run([sys.executable, str(script), *args], check=False)
            if done.returncode == SKIPPED:  # it printed why (cold_start.py: PyPI not reachable)
                continue
            if done.returncode != 0:
                sys.exit(f"{script.name} failed (exit {done.returncode})")
