"""What `--max-parallel` buys when several models deploy at once.

On Domino a Model API version takes minutes to build and start; the emulator scales that down to
--deploy-seconds. Models are independent, so N of them should take about N/k rounds with k
workers. Both runs happen in one process, one after the other, against one real MLflow server
and one emulator (ratios, not absolute times, are what a noisy machine can measure): N models to
STAGE with --max-parallel 1, then N other models with --max-parallel K.

Run: .venv/bin/python benchmarks/parallel_apply.py [--models N] [--workers K] [--deploy-seconds S]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

from domino_mlops.cli import main as cli  # noqa: E402
from domino_emulator import Emulator  # noqa: E402
from domino_emulator.seed import default_seed  # noqa: E402
from domino_emulator.local.mlflow_server import start_mlflow_server  # noqa: E402
from domino_emulator.local.models import SAMPLE_PATIENT, register_diabetes_model  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def public_world() -> dict:
    """The emulator's default world with public Model APIs (an admin's choice in Domino), so
    every new one is smoke-tested at once, without a model access token."""
    return {**default_seed(), "model_api_access": [{"project": "demo-user/demo-project", "model_api": "*",
                                                    "public": True}]}


def deploy_seconds(workspace: Path, project: str, models: list[tuple[str, str]], workers: int) -> float:
    entries = [{"name": name, "version": int(version),
                "smoke_test": {"input": SAMPLE_PATIENT, "expect_shape": [1]}} for name, version in models]
    (workspace / "scripts" / "model_version.json").write_text(json.dumps({project: entries}, indent=2))
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        code = cli(["deploy", "--env", "STAGE", "--max-parallel", str(workers)])
    elapsed = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"deploy exited {code}:\n{err.getvalue()}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=6)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--deploy-seconds", type=float, default=3.0)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="dmlops-bench-"))
    server = start_mlflow_server(root / "mlflow")
    try:
        with Emulator(mlflow_uri=server.uri, world=public_world(), deploy_seconds=args.deploy_seconds) as emu:
            workspace = root / "repo"
            (workspace / "scripts").mkdir(parents=True)
            shutil.copy(REPO / "scripts" / "environments.yaml", workspace / "scripts" / "environments.yaml")
            os.chdir(workspace)
            os.environ.update({"MLFLOW_TRACKING_URI": server.uri, "DOMINO_API_HOST": emu.url,
                               f"PROJECT_ID_{emu.project_id}": emu.token})
            rows = []
            for workers in (1, args.workers):
                with contextlib.redirect_stdout(io.StringIO()):  # MLflow prints a link per run
                    models = [(name, register_diabetes_model(server.uri, name, experiment="bench"))
                              for name in (f"bench-w{workers}-{i}" for i in range(args.models))]
                rows.append((workers, deploy_seconds(workspace, emu.project_id, models, workers)))
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)

    sequential = rows[0][1]
    print(f"{args.models} models to STAGE, each version {args.deploy_seconds:g} s to build and start, "
          "then smoke-tested and marked in MLflow:\n")
    print("| --max-parallel | seconds | x faster |\n|---|---|---|")
    for workers, seconds in rows:
        print(f"| {workers} | {seconds:.1f} | {sequential / seconds:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
