"""How long an apply holds its leases, and how many lease writes each model costs.

N models to STAGE (one wave) with --max-parallel K against one real MLflow server and the
emulator; every write of a STAGE lease (set-tag, delete-tag on the registered model) is seen at
the client's REST edge, with when it was made. Reported: lease writes per model, the most leases
held at once, and how long a lease was held (taken to given back), mean and longest.

Run: .venv/bin/python benchmarks/lease_holds.py [--models N] [--workers K] [--deploy-seconds S]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

from domino_mlops.clients.mlflow.rest import MlflowRest  # noqa: E402
from domino_emulator import Emulator  # noqa: E402
from domino_emulator.seed import default_seed  # noqa: E402
from domino_emulator.local.mlflow_server import start_mlflow_server  # noqa: E402
from domino_emulator.local.models import register_diabetes_model  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from parallel_apply import REPO, deploy_seconds  # noqa: E402

LEASE = "domino_mlops.lease.STAGE"


def watch_leases() -> list[tuple[float, str, str]]:
    """(when, set-tag | delete-tag, model) for every STAGE lease write from now on."""
    seen: list[tuple[float, str, str]] = []
    lock, original = threading.Lock(), MlflowRest.write

    def write(rest, method, endpoint, body, **kwargs):
        reply = original(rest, method, endpoint, body, **kwargs)
        if endpoint.startswith("registered-models/") and body.get("key") == LEASE:
            with lock:
                seen.append((time.perf_counter(), endpoint.rsplit("/", 1)[1], body["name"]))
        return reply

    MlflowRest.write = write  # type: ignore[method-assign]
    return seen


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--deploy-seconds", type=float, default=2.0)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="dmlops-bench-"))
    server = start_mlflow_server(root / "mlflow")
    try:
        world = {**default_seed(), "model_api_access": [{"project": "demo-user/demo-project", "model_api": "*",
                                                          "public": True}]}
        with Emulator(mlflow_uri=server.uri, world=world, deploy_seconds=args.deploy_seconds) as emu:
            workspace = root / "repo"
            (workspace / "scripts").mkdir(parents=True)
            shutil.copy(REPO / "scripts" / "environments.yaml", workspace / "scripts" / "environments.yaml")
            os.chdir(workspace)
            os.environ.update({"MLFLOW_TRACKING_URI": server.uri, "DOMINO_API_HOST": emu.url,
                               f"PROJECT_ID_{emu.project_id}": emu.token})
            with contextlib.redirect_stdout(io.StringIO()):
                models = [(name, register_diabetes_model(server.uri, name, experiment="bench"))
                          for name in (f"lease-{i}" for i in range(args.models))]
            seen = watch_leases()
            seconds = deploy_seconds(workspace, emu.project_id, models, args.workers)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)

    taken: dict[str, float] = {}
    holds: list[float] = []
    held, most = 0, 0
    for when, what, model in sorted(seen):
        if what == "set-tag" and model not in taken:
            taken[model], held = when, held + 1
            most = max(most, held)
        elif what == "delete-tag":
            holds.append(when - taken[model])
            held -= 1
    print(f"{args.models} models to STAGE with --max-parallel {args.workers}, each version "
          f"{args.deploy_seconds:g} s to build: {seconds:.1f} s\n")
    print("| lease writes per model | most held at once | held, mean s | held, longest s |\n|---|---|---|---|")
    print(f"| {len(seen) / args.models:.2f} | {most} | {sum(holds) / len(holds):.1f} | {max(holds):.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
