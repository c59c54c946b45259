"""`domino-mlops plan` on a large manifest: requests, wall time and peak memory (issue 12, goals 1-2).

One run, one real `mlflow server` (SQLite) and one emulated Domino, each behind a counting proxy
(benchmarks/_counting_proxy.py: requests are counted where they arrive, not by our client). The
manifest has --entries models spread over --projects Domino projects, one version each (every
fourth named by the alias @candidate), plus one model with --big-versions versions. Every
project has its own token (secret PROJECT_ID_<id>), as on Domino, so MLflow reads are batched per
project: a request never asks about another project's models.

Measured:
- `domino-mlops plan --env STAGE --json` as a child process: wall time, peak RSS (wait4), MLflow
  requests per entry and Domino requests per project, and that the plan covers every entry;
- the same MLflow reads in-process with the batched reader and with the one-model-at-a-time
  reader it replaced (requests and seconds, same server, same moment: the ratios are what a
  noisy machine can measure). With --old-sample N the old reader reads only N entries (it costs
  two requests per entry) and its figures are scaled up, which the table says.

Setup is timed too: the registry is filled through MLflow's own store before the server starts
(benchmarks/_registry_fill.py), since 20,000 REST creates take many minutes.

Run: .venv/bin/python benchmarks/plan_scale.py [--entries 1000] [--projects 50] [--big-versions 2000]
     .venv/bin/python benchmarks/plan_scale.py --entries 10000 --projects 500 --old-sample 1000
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
# No job runner processes beside the server: a registry is all the benchmark needs.
os.environ.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _counting_proxy import counting_proxy  # noqa: E402
from _registry_fill import fill  # noqa: E402
from _process_cpu import process_cpu  # noqa: E402

from domino_mlops.clients.mlflow.registry import MlflowRegistry  # noqa: E402
from domino_mlops.clients.mlflow.auth import MlflowCredentials  # noqa: E402
from domino_mlops.connections import Connections  # noqa: E402
from domino_mlops.desired.manifest import ManifestEntry, VersionRef  # noqa: E402
from domino_emulator import Emulator  # noqa: E402
from domino_emulator.seed import default_seed  # noqa: E402
from domino_emulator.local.mlflow_server import start_mlflow_server  # noqa: E402
from domino_mlops.observed import registry as registry_module  # noqa: E402
from domino_mlops.observed.registry import OneModelAtATime, observe_registry  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).with_name("domino-mlops"))


def project_ids(count: int) -> list[str]:
    return [f"65f0be7c{i:016x}" for i in range(count)]  # 24 hex digits, as Domino's are


def manifest(projects: list[str], entries: int, big_versions: int) -> dict[str, list[dict]]:
    """{project: [entries]} plus the models to register: (name, versions, aliases)."""
    per = {p: [] for p in projects}
    for i in range(entries):
        per[projects[i % len(projects)]].append(
            {"name": f"bench-{i:05d}", "version": "@candidate" if i % 4 == 0 else 1})
    if big_versions:
        per[projects[0]].append({"name": "bench-big", "version": big_versions})
    return per


def registry_rows(per: dict[str, list[dict]], big_versions: int) -> list[tuple[str, int, dict[str, int]]]:
    rows = []
    for items in per.values():
        for item in items:
            versions = big_versions if item["name"] == "bench-big" else 1
            rows.append((item["name"], versions, {"candidate": versions}))
    return rows


def world(projects: list[str]) -> dict:
    seed = default_seed()
    seed["projects"] = [{"id": p, "owner": "bench-user", "name": f"bench-project-{i}"} for i, p in enumerate(projects)]
    seed["default_project"] = projects[0]
    seed["credentials"] = [{"token": token_of(p), "user": "bench-user", "projects": [p]} for p in projects]
    return seed


def token_of(project: str) -> str:
    return f"LOCAL-BENCH-TOKEN-{project}-not-a-secret"


# A child forked from this process (MLflow, the emulator: hundreds of MB) counts the pages it
# shares with us until it execs, so its peak RSS would be ours. A small launcher forks instead and
# reports its child's own peak (wait4), and the seconds from fork to exit.
LAUNCHER = """import os, sys, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
open(sys.argv[1], "w").write(f"{usage.ru_maxrss} {time.perf_counter() - started} {usage.ru_utime + usage.ru_stime}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_plan(workspace: Path, env: dict[str, str]) -> tuple[float, float, float, dict]:
    """(seconds, peak RSS in MB, CPU seconds, plan JSON) of `domino-mlops plan --env STAGE --json`."""
    measured = workspace / "plan.rusage"
    with open(workspace / "plan.out", "wb") as out, open(workspace / "plan.err", "wb") as err:
        code = subprocess.call([sys.executable, "-c", LAUNCHER, str(measured), CLI, "plan", "--env", "STAGE",
                                "--json"], cwd=workspace, env=env, stdout=out, stderr=err)
    if code != 0:
        raise SystemExit(f"plan exited {code}:\n{(workspace / 'plan.err').read_text()[-3000:]}")
    rss_kb, seconds, cpu = measured.read_text().split()
    return float(seconds), int(rss_kb) / 1024, float(cpu), json.loads((workspace / "plan.out").read_text())


def timed_reads(entries: list[ManifestEntry], reader_for) -> float:
    started = time.perf_counter()
    observed = observe_registry(entries, reader_for)
    assert len(observed) == len(entries)
    return time.perf_counter() - started


def variant(entries: int, projects: int, big_versions: int, old_sample: int | None, mlflow_workers: int) -> dict:
    parallelism = registry_module.READ_PARALLELISM
    root = Path(tempfile.mkdtemp(prefix="dmlops-plan-scale-"))
    ids = project_ids(projects)
    per = manifest(ids, entries, big_versions)
    total = sum(len(items) for items in per.values())
    result: dict = {"entries": total, "projects": projects, "big_versions": big_versions}
    result["fill_s"] = fill(_db(root), registry_rows(per, big_versions))
    started = time.perf_counter()
    server = start_mlflow_server(root / "mlflow", workers=mlflow_workers)
    result["server_start_s"] = time.perf_counter() - started
    try:
        with Emulator(mlflow_uri=server.uri, world=world(ids)) as emu, \
                counting_proxy(server.uri) as mlflow, counting_proxy(emu.url) as domino:
            workspace = root / "repo"
            (workspace / "scripts").mkdir(parents=True)
            shutil.copy(REPO / "scripts" / "environments.yaml", workspace / "scripts" / "environments.yaml")
            (workspace / "scripts" / "model_version.json").write_text(json.dumps(per))
            env = {k: v for k, v in os.environ.items()
                   if not k.startswith(("MLFLOW_TRACKING_", "DOMINO_", "PROJECT_ID_", "GITHUB_"))}
            env.update({"MLFLOW_TRACKING_URI": mlflow.url, "DOMINO_API_HOST": domino.url})
            env.update({f"PROJECT_ID_{p}": token_of(p) for p in ids})

            mlflow.counts.reset()
            domino.counts.reset()
            server_cpu = process_cpu(server.process.pid)
            seconds, rss, cpu, plan = run_plan(workspace, env)
            result["server_cpu_s"] = process_cpu(server.process.pid) - server_cpu
            if len(plan["changes"]) != total:
                raise SystemExit(f"the plan covers {len(plan['changes'])} of {total} entries")
            result.update(plan_s=seconds, plan_cpu_s=cpu, rss_mb=rss, mlflow_requests=mlflow.counts.total(),
                          mlflow_paths=dict(sorted((f"{m} {p}", n) for (m, p), n in mlflow.counts.snapshot().items())),
                          domino_requests=domino.counts.total())

            all_entries = [ManifestEntry(p, item["name"], VersionRef.parse(item["version"]))
                           for p, items in per.items() for item in items]
            with Connections(env) as connections:
                mlflow.counts.reset()
                result["new_reader_s"] = timed_reads(all_entries, connections.mlflow_reader)
                result["new_reader_requests"] = mlflow.counts.total()
            # Projects without their own token share the general credential, and so its batches.
            with Connections({"MLFLOW_TRACKING_URI": mlflow.url, "MLFLOW_TRACKING_TOKEN": "shared"}) as connections:
                mlflow.counts.reset()
                result["shared_reader_s"] = timed_reads(all_entries, connections.mlflow_reader)
                result["shared_reader_requests"] = mlflow.counts.total()

            sample = all_entries if old_sample is None else _spread(all_entries, old_sample)
            readers = {p: OneModelAtATime(MlflowRegistry(MlflowCredentials.from_env(env, project_id=p))) for p in ids}
            mlflow.counts.reset()
            registry_module.READ_PARALLELISM = 1  # the old reader went project by project
            try:
                old_seconds = timed_reads(sample, readers.__getitem__)
            finally:
                registry_module.READ_PARALLELISM = parallelism
            scale = len(all_entries) / len(sample)
            result.update(old_reader_s=old_seconds * scale, old_reader_requests=round(mlflow.counts.total() * scale),
                          old_sampled=len(sample) if old_sample is not None else None)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
    return result


def _db(root: Path) -> Path:
    (root / "mlflow" / "artifacts").mkdir(parents=True)
    return root / "mlflow" / "mlflow.db"


def _spread(entries: list[ManifestEntry], count: int) -> list[ManifestEntry]:
    """``count`` entries taken evenly from the list (every project, the big model included)."""
    step = max(1, len(entries) // count)
    chosen = entries[::step][:count]
    big = [e for e in entries if e.name == "bench-big"]
    return chosen + [e for e in big if e not in chosen]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--projects", type=int, default=50)
    parser.add_argument("--big-versions", type=int, default=2000, help="versions of the one big model (0: none)")
    parser.add_argument("--old-sample", type=int, default=None,
                        help="read only this many entries with the old reader, and scale its figures")
    parser.add_argument("--mlflow-workers", type=int, default=2,
                        help="the MLflow server's worker processes (2: one per core here)")
    args = parser.parse_args()
    r = variant(args.entries, args.projects, args.big_versions, args.old_sample, args.mlflow_workers)

    per_entry = r["mlflow_requests"] / r["entries"]
    print(f"Manifest: {r['entries']} entries ({args.entries} models with one version, every fourth named "
          f"@candidate, plus one with {args.big_versions} versions) in {r['projects']} projects, each with its "
          f"own token. Setup: registry filled in {r['fill_s']:.1f} s, MLflow server up in "
          f"{r['server_start_s']:.1f} s; the server has {args.mlflow_workers} worker process(es).\n")
    print("| measure | value | goal |\n|---|---|---|")
    print(f"| `plan --env STAGE --json` wall time | {r['plan_s']:.1f} s | < 5 s (10,000 entries; issue 23) |")
    print(f"| CPU during the plan: the plan's own / the MLflow server's | {r['plan_cpu_s']:.1f} s / "
          f"{r['server_cpu_s']:.1f} s | |")
    print(f"| plan peak RSS | {r['rss_mb']:.0f} MB | < 120 MB (10,000 entries) |")
    print(f"| plan MLflow requests | {r['mlflow_requests']} ({per_entry:.3f} per entry) | <= 0.05 per entry |")
    print(f"| plan Domino requests | {r['domino_requests']} ({r['domino_requests'] / r['projects']:.2f} per project) "
          "| <= 2 per project |")
    sampled = f", measured on {r['old_sampled']} entries and scaled" if r["old_sampled"] else ""
    print(f"| registry reads, one model at a time (before) | {r['old_reader_requests']} requests, "
          f"{r['old_reader_s']:.1f} s{sampled} | |")
    print(f"| registry reads, batched (now) | {r['new_reader_requests']} requests, {r['new_reader_s']:.1f} s | |")
    print(f"| registry reads, batched, one credential shared by every project | {r['shared_reader_requests']} "
          f"requests, {r['shared_reader_s']:.1f} s | |")
    print(f"| fewer requests / faster reads | {r['old_reader_requests'] / r['new_reader_requests']:.1f}x / "
          f"{r['old_reader_s'] / r['new_reader_s']:.1f}x | >= 10x fewer |")
    print("\nMLflow requests of the plan, by endpoint: " + ", ".join(f"{k}: {v}" for k, v in r["mlflow_paths"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
