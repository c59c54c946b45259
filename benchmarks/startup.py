"""How long `domino-mlops --version` / `--help` take, against bare Python and `import mlflow`.

Every workflow step pays CLI start-up, so it must stay close to bare interpreter start-up.
Ratios are measured in one run (noisy machines): median of N runs each.
Run: .venv/bin/python benchmarks/startup.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

CLI = str(Path(sys.executable).with_name("domino-mlops"))


def median_seconds(argv: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    bare = median_seconds([sys.executable, "-c", "pass"], runs)
    rows = [
        ("python -c pass", bare),
        ("domino-mlops --version", median_seconds([CLI, "--version"], runs)),
        ("domino-mlops --help", median_seconds([CLI, "--help"], runs)),
        ("python -c 'import mlflow'", median_seconds([sys.executable, "-c", "import mlflow"], max(3, runs // 5))),
    ]
    print("| command | median (s) | x bare python |\n|---|---|---|")
    for name, seconds in rows:
        print(f"| `{name}` | {seconds:.3f} | {seconds / bare:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
