"""A deploy's MLflow requests, by route (issue 23, item 1; the table and what sends each: docs/DEVELOPMENT.md).

One real `mlflow server` (SQLite) behind a counting proxy (benchmarks/_counting_proxy.py: requests
are counted where they arrive) and one emulated Domino. --models real registered versions (the
demo model's files, shared through benchmarks/_registry_fill.py) in one Domino project are
deployed to STAGE once (`deploy --env STAGE`: Model APIs built and serving, smoke-tested, tags,
stage, alias, ledger), then once more with nothing to change. Printed: MLflow requests by route
(method and path), in total and per model, for both runs.

Run: .venv/bin/python benchmarks/deploy_requests.py [--models 4]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _counting_proxy import counting_proxy  # noqa: E402
from _registry_fill import fill, stored_location  # noqa: E402
from no_change_apply import run  # noqa: E402
from plan_scale import project_ids, token_of, world  # noqa: E402

from domino_emulator import Emulator  # noqa: E402
from domino_emulator.local.mlflow_server import start_mlflow_server  # noqa: E402
from domino_emulator.local.models import register_diabetes_model  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=4)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="dmlops-deploy-requests-"))
    (project,) = project_ids(1)
    names = [f"counted-{i:02d}" for i in range(args.models)]
    server = start_mlflow_server(root / "mlflow")
    runs: dict[str, Counter] = {}
    try:
        from mlflow import MlflowClient

        shared = MlflowClient(server.uri).get_model_version("bench-source", register_diabetes_model(
            server.uri, "bench-source"))
        # The shared version's storage location too: without it every version's files were found
        # through one more request (logged-models/<id>) than a registered version needs.
        db = root / "mlflow" / "mlflow.db"
        fill(db, [(name, 1, {}) for name in names], source=shared.source,
             storage_location=stored_location(db, shared.name, shared.version), run_id=shared.run_id)
        seed = world([project])
        seed["model_api_access"] = [{"project": project, "model_api": "*", "public": True}]
        with Emulator(mlflow_uri=server.uri, world=seed, deploy_seconds=0.2) as emu, \
                counting_proxy(server.uri) as mlflow:
            workspace = root / "repo"
            (workspace / "scripts").mkdir(parents=True)
            shipped = (REPO / "scripts" / "environments.yaml").read_text()
            # Latency bounds are not what this measures; a loaded machine must not fail a smoke test.
            (workspace / "scripts" / "environments.yaml").write_text(
                shipped.replace("max_latency_ms: 2000", "max_latency_ms: 120000"))
            (workspace / "scripts" / "model_version.json").write_text(
                json.dumps({project: [{"name": name, "version": 1} for name in names]}))
            env = {k: v for k, v in os.environ.items()
                   if not k.startswith(("MLFLOW_TRACKING_", "DOMINO_", "PROJECT_ID_", "GITHUB_"))}
            env.update({"MLFLOW_TRACKING_URI": mlflow.url, "DOMINO_API_HOST": emu.url,
                        f"PROJECT_ID_{project}": token_of(project)})
            for name in ("first deploy", "again, nothing to change"):
                mlflow.counts.reset()
                run(workspace, env, "deploy", "--env", "STAGE")
                runs[name] = mlflow.counts.snapshot()
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)

    print(f"`deploy --env STAGE` of {args.models} models in one project: MLflow requests by route.\n")
    print("| route | " + " | ".join(f"{name} (per model)" for name in runs) + " |")
    print("|---|" + "---|" * len(runs))
    routes = sorted(set().union(*runs.values()), key=lambda r: (-runs["first deploy"].get(r, 0), r))
    for route in routes:
        cells = [f"{c.get(route, 0)} ({c.get(route, 0) / args.models:.2f})" for c in runs.values()]
        print(f"| `{route[0]} {route[1]}` | " + " | ".join(cells) + " |")
    totals = [f"**{sum(c.values())} ({sum(c.values()) / args.models:.2f})**" for c in runs.values()]
    print("| **total** | " + " | ".join(totals) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
