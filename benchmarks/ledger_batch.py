"""Recording many models in the ledger: requests per model, before and after batching (issue 12, goal 6).

Before, each model that finished opened its own ledger: an experiment lookup, a search for its own
history, then the two writes (create the run, mark it finished). Now the executor
(apply/executor._read_ledger) opens one ledger per credential and reads every history in one
search, so each model costs only its two writes. A re-run where nothing changed writes nothing.
Requests are counted by a proxy in front of a real `mlflow server`; both ways run in one process
against one server (ratios, not absolute times, are what a noisy machine can measure).

Run: .venv/bin/python benchmarks/ledger_batch.py [--models 200]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _counting_proxy import counting_proxy  # noqa: E402

from domino_mlops.state.ledger import Ledger, LedgerEntry  # noqa: E402
from domino_mlops.clients.mlflow.registry import MlflowRegistry  # noqa: E402
from domino_mlops.clients.mlflow.auth import MlflowCredentials  # noqa: E402
from domino_emulator.local.mlflow_server import start_mlflow_server  # noqa: E402


def per_model(uri: str, environment: str, models: list[str]) -> int:
    """The old way: a ledger per model (what ModelRun did before)."""
    registry = MlflowRegistry(MlflowCredentials.from_env({}, tracking_uri=uri))
    return sum(Ledger(registry).record(LedgerEntry(environment, m, None, "1", "deploy"))[1] for m in models)


def batched(uri: str, environment: str, models: list[str]) -> int:
    """The executor's way now: one ledger, every history in one search."""
    ledger = Ledger(MlflowRegistry(MlflowCredentials.from_env({}, tracking_uri=uri)))
    histories = ledger.histories(environment, models)
    return sum(ledger.record(LedgerEntry(environment, m, None, "1", "deploy"), history=histories[m])[1]
               for m in models)


def measure(proxy, record, environment: str, models: list[str]) -> tuple[int, int, int, float]:
    """(written entries, read requests, write requests, seconds)."""
    proxy.counts.reset()
    started = time.perf_counter()
    written = record(proxy.url, environment, models)
    seconds = time.perf_counter() - started
    counts: Counter = proxy.counts.snapshot()
    if os.environ.get("BENCH_DEBUG"):
        print(dict(counts))
    writes = sum(n for (method, path), n in counts.items() if method == "POST" and not path.endswith("/search"))
    return written, sum(counts.values()) - writes, writes, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=200)
    n = parser.parse_args().models
    root = Path(tempfile.mkdtemp(prefix="dmlops-ledger-batch-"))
    server = start_mlflow_server(root / "mlflow")
    rows = []
    try:
        Ledger(MlflowRegistry(MlflowCredentials.from_env({}, tracking_uri=server.uri))).record(
            LedgerEntry("SETUP", "setup", None, "1", "deploy"))  # the experiment exists, as after a first run
        with counting_proxy(server.uri) as proxy:
            for label, record, environment in (("one ledger per model (before)", per_model, "OLD"),
                                               ("one ledger, histories in one search (now)", batched, "NEW")):
                models = [f"{environment.lower()}-model-{i:04d}" for i in range(n)]
                rows.append((label, "first run", *measure(proxy, record, environment, models)))
                rows.append((label, "re-run, nothing changed", *measure(proxy, record, environment, models)))
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)

    print(f"{n} models finishing in one environment, each recorded in the ledger (real MLflow server):\n")
    print("| ledger | run | entries written | read requests | write requests | requests per model | seconds |")
    print("|---|---|---|---|---|---|---|")
    for label, run, written, reads, writes, seconds in rows:
        print(f"| {label} | {run} | {written} | {reads} | {writes} | {(reads + writes) / n:.2f} | {seconds:.1f} |")
    old_reads, new_reads = rows[0][3], rows[2][3]
    print(f"\nReads on a first run: {old_reads} -> {new_reads} ({old_reads / max(1, new_reads):.0f}x fewer); "
          f"a re-run where nothing changed writes {rows[3][4]} (before: {rows[1][4]}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
