"""Run every benchmark and print its Markdown table (paste into README's Benchmarks section)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    for script in sorted(HERE.glob("*.py")):
        if script.name in ("run_all.py",) or script.name.startswith("_"):
            continue
        print(f"\n### {script.stem}\n", flush=True)
        subprocess.run([sys.executable, str(script)], check=True)
