"""An apply where nothing changed, on a large manifest: zero writes, and no more reads than its plan
(issue 12, goal 6).

One real `mlflow server` (SQLite) and one emulated Domino, each behind a counting proxy
(benchmarks/_counting_proxy.py). --entries models over --projects Domino projects, each with its
own token, are first brought to STAGE for real (`deploy --env STAGE`: Model APIs built and
serving, smoke-tested, tags, stage, alias, ledger). Their versions share one real registered
model's files (benchmarks/_registry_fill.py writes the rows), so the emulator builds and serves
each. Then, measured: `plan --env STAGE --json`, and `deploy --env STAGE` again, each as a child
process: requests by service, writes (anything but GET, and MLflow's POST searches), seconds.
Run: .venv/bin/python benchmarks/no_change_apply.py [--entries 1000] [--projects 50]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _counting_proxy import counting_proxy  # noqa: E402
from _registry_fill import fill  # noqa: E402
from plan_scale import project_ids, token_of, world  # noqa: E402

from domino_emulator import Emulator  # noqa: E402
from domino_emulator.local.mlflow_server import start_mlflow_server  # noqa: E402
from domino_emulator.local.models import register_diabetes_model  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).with_name("domino-mlops"))
READ_POSTS = ("/runs/search",)  # MLflow serves this read as a POST


def run(workspace: Path, env: dict[str, str], *argv: str) -> float:
    started = time.perf_counter()
    with open(workspace / "out.txt", "wb") as out, open(workspace / "err.txt", "wb") as err:
        code = subprocess.call([CLI, *argv], cwd=workspace, env=env, stdout=out, stderr=err)
    if code != 0:
        raise SystemExit(f"{' '.join(argv)} exited {code}:\n{(workspace / 'err.txt').read_text()[-3000:]}")
    return time.perf_counter() - started


def split(snapshot) -> tuple[int, int]:
    """(reads, writes) of a proxy's counts."""
    writes = sum(n for (method, path), n in snapshot.items() if method != "GET" and not path.endswith(READ_POSTS))
    return sum(snapshot.values()) - writes, writes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--setup-parallel", type=int, default=16, help="--max-parallel of the set-up deploy")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="dmlops-no-change-"))
    ids = project_ids(args.projects)
    per: dict[str, list[dict]] = {p: [] for p in ids}
    for i in range(args.entries):
        per[ids[i % len(ids)]].append({"name": f"still-{i:05d}", "version": 1})
    server = start_mlflow_server(root / "mlflow")
    try:
        from mlflow import MlflowClient

        shared = MlflowClient(server.uri).get_model_version("bench-source", register_diabetes_model(
            server.uri, "bench-source"))
        fill_s = fill(root / "mlflow" / "mlflow.db", [(e["name"], 1, {}) for items in per.values() for e in items],
                      source=shared.source, storage_location=getattr(shared, "storage_location", None) or None,
                      run_id=shared.run_id)
        seed = world(ids)
        seed["model_api_access"] = [{"project": p, "model_api": "*", "public": True} for p in ids]
        with Emulator(mlflow_uri=server.uri, world=seed, deploy_seconds=0.2) as emu, \
                counting_proxy(server.uri) as mlflow, counting_proxy(emu.url) as domino:
            workspace = root / "repo"
            (workspace / "scripts").mkdir(parents=True)
            shipped = (REPO / "scripts" / "environments.yaml").read_text()
            # Latency bounds are not what this measures; a loaded machine must not fail a smoke test.
            (workspace / "scripts" / "environments.yaml").write_text(
                shipped.replace("max_latency_ms: 2000", "max_latency_ms: 120000"))
            (workspace / "scripts" / "model_version.json").write_text(json.dumps(per))
            env = {k: v for k, v in os.environ.items()
                   if not k.startswith(("MLFLOW_TRACKING_", "DOMINO_", "PROJECT_ID_", "GITHUB_"))}
            env.update({"MLFLOW_TRACKING_URI": mlflow.url, "DOMINO_API_HOST": domino.url})
            env.update({f"PROJECT_ID_{p}": token_of(p) for p in ids})

            setup_s = run(workspace, env, "deploy", "--env", "STAGE", "--max-parallel", str(args.setup_parallel))
            setup_mlflow, setup_domino = split(mlflow.counts.snapshot()), split(domino.counts.snapshot())
            figures = {}
            for name, argv in (("plan", ("plan", "--env", "STAGE", "--json")),
                               ("deploy again", ("deploy", "--env", "STAGE"))):
                mlflow.counts.reset()
                domino.counts.reset()
                seconds = run(workspace, env, *argv)
                figures[name] = (seconds, split(mlflow.counts.snapshot()), split(domino.counts.snapshot()))
                if name == "plan":
                    plan = json.loads((workspace / "out.txt").read_text())
                    changing = [c["model"] for c in plan["changes"] if c["steps"]]
                    if changing:
                        raise SystemExit(f"{len(changing)} model(s) still change after the set-up: {changing[:5]}")
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)

    print(f"{args.entries} entries over {args.projects} projects (one token each), all serving in STAGE.\n")
    print("| command | seconds | MLflow reads | MLflow writes | Domino reads | Domino writes |")
    print("|---|---|---|---|---|---|")
    (s_reads, s_writes), (d_reads, d_writes) = setup_mlflow, setup_domino
    print(f"| set-up: `deploy --env STAGE --max-parallel {args.setup_parallel}` (first) | {setup_s:.1f} | "
          f"{s_reads} | {s_writes} | {d_reads} | {d_writes} |")
    for name, (seconds, (m_reads, m_writes), (dm_reads, dm_writes)) in figures.items():
        command = "`plan --env STAGE --json`" if name == "plan" else "`deploy --env STAGE` (nothing changed)"
        print(f"| {command} | {seconds:.1f} | {m_reads} | {m_writes} | {dm_reads} | {dm_writes} |")
    (_, plan_m, plan_d), (_, again_m, again_d) = figures["plan"], figures["deploy again"]
    writes = again_m[1] + again_d[1]
    print(f"\nwrites of the apply that changed nothing: {writes} (goal 0); its reads / the plan's: "
          f"MLflow {again_m[0]}/{plan_m[0]}, Domino {again_d[0]}/{plan_d[0]} (goal <= 1 each); "
          f"registry filled in {fill_s:.1f} s")
    ok = writes == 0 and again_m[0] <= plan_m[0] and again_d[0] <= plan_d[0]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
