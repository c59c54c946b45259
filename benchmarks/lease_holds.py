"""How long an apply holds its leases, how many lease writes each model costs, and how often the
renewer searches.

N models to STAGE (one wave) with --max-parallel K against one real MLflow server and the
emulator. One version is registered for real; the other N-1 are written straight into MLflow's
store sharing its files (benchmarks/_registry_fill.py), so 1,000 models are set up in seconds.
Every write of a STAGE lease (set-tag, delete-tag on the registered model) is seen at the
client's REST edge, with when it was made: a set-tag on a lease not held is a take, one on a
lease already held a renewal, a delete-tag a release. The renewer's rounds (``_Renewer.renew_once``)
and the registered-models searches its thread sends are counted too. Reported: lease writes per
model (takes, renewals, releases), the most leases held at once, how long a lease was held (taken
to given back), mean and longest, and the renewal searches per renewal period of the apply
(searches / (apply seconds / renew_every); issue 23's goal: at most 2 writes per model, one
search per period per credential).

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
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")

from domino_mlops.clients.mlflow.rest import MlflowRest  # noqa: E402
from domino_mlops.state.lease import _Renewer  # noqa: E402
from domino_emulator import Emulator  # noqa: E402
from domino_emulator.local.mlflow_server import start_mlflow_server  # noqa: E402
from domino_emulator.local.models import register_diabetes_model  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _registry_fill import fill  # noqa: E402
from parallel_apply import REPO, deploy_seconds, public_world  # noqa: E402

LEASE = "domino_mlops.lease.STAGE"
RENEWER = "lease-renewer"  # the renewer thread's name (state/lease.py)


@dataclass
class Seen:
    writes: list[tuple[float, str, str]] = field(default_factory=list)  # (when, set-tag | delete-tag, model)
    rounds: int = 0  # renewal rounds run
    searches: int = 0  # registered-models searches sent from the renewer's thread
    # Renewer threads started: one ends when no lease is held, the next lease held starts another.
    threads: set[threading.Thread] = field(default_factory=set)
    renew_every: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


def watch_leases() -> Seen:
    """Every STAGE lease write, every renewal round and every search a round sends, from now on."""
    seen = Seen()
    write, get = MlflowRest.write, MlflowRest.get
    start, hold, renew_once = _Renewer.__init__, _Renewer.hold, _Renewer.renew_once

    def counted_write(rest, method, endpoint, body, **kwargs):
        reply = write(rest, method, endpoint, body, **kwargs)
        if endpoint.startswith("registered-models/") and body.get("key") == LEASE:
            with seen.lock:
                seen.writes.append((time.perf_counter(), endpoint.rsplit("/", 1)[1], body["name"]))
        return reply

    def counted_get(rest, endpoint, params, **kwargs):
        if endpoint == "registered-models/search" and threading.current_thread().name == RENEWER:
            with seen.lock:
                seen.searches += 1
        return get(rest, endpoint, params, **kwargs)

    def started(renewer, settings, clock):
        seen.renew_every = settings.renew_every  # the apply's own (DMLOPS_LEASE_TTL_SECONDS may shorten it)
        start(renewer, settings, clock)

    def held(renewer, lease):
        hold(renewer, lease)
        with seen.lock:
            if renewer._thread is not None:
                seen.threads.add(renewer._thread)

    def counted_round(renewer):
        with seen.lock:
            seen.rounds += 1
        return renew_once(renewer)

    MlflowRest.write = counted_write  # type: ignore[method-assign]
    MlflowRest.get = counted_get  # type: ignore[method-assign]
    _Renewer.__init__ = started  # type: ignore[method-assign]
    _Renewer.hold = held  # type: ignore[method-assign]
    _Renewer.renew_once = counted_round  # type: ignore[method-assign]
    return seen


def register(uri: str, root: Path, count: int) -> list[tuple[str, str]]:
    """``count`` models of one version each: the first registered, the rest sharing its files."""
    from mlflow import MlflowClient

    names = [f"lease-{i}" for i in range(count)]
    with contextlib.redirect_stdout(io.StringIO()):  # MLflow prints a link per run
        version = register_diabetes_model(uri, names[0], experiment="bench")
    shared = MlflowClient(uri).get_model_version(names[0], version)
    fill(root / "mlflow.db", [(name, 1, {}) for name in names[1:]], source=shared.source,
         storage_location=getattr(shared, "storage_location", None) or None, run_id=shared.run_id)
    return [(names[0], version)] + [(name, "1") for name in names[1:]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--deploy-seconds", type=float, default=2.0)
    args = parser.parse_args()
    if args.models < 1 or args.workers < 1 or args.deploy_seconds < 0:
        parser.error("--models and --workers must be at least 1, --deploy-seconds not negative "
                     "(e.g. --models 1000 --workers 8 --deploy-seconds 2)")

    root = Path(tempfile.mkdtemp(prefix="dmlops-bench-"))
    server = start_mlflow_server(root / "mlflow")
    try:
        with Emulator(mlflow_uri=server.uri, world=public_world(), deploy_seconds=args.deploy_seconds) as emu:
            workspace = root / "repo"
            (workspace / "scripts").mkdir(parents=True)
            shipped = (REPO / "scripts" / "environments.yaml").read_text()
            # Latency bounds are not what this measures; a loaded machine must not fail a smoke test.
            (workspace / "scripts" / "environments.yaml").write_text(
                shipped.replace("max_latency_ms: 2000", "max_latency_ms: 120000"))
            os.chdir(workspace)
            os.environ.update({"MLFLOW_TRACKING_URI": server.uri, "DOMINO_API_HOST": emu.url,
                               f"PROJECT_ID_{emu.project_id}": emu.token})
            models = register(server.uri, root / "mlflow", args.models)
            seen = watch_leases()
            seconds = deploy_seconds(workspace, emu.project_id, models, args.workers)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)

    taken: dict[str, float] = {}
    holds: list[float] = []
    held, most, takes, renewals, releases = 0, 0, 0, 0, 0
    for when, what, model in sorted(seen.writes):
        if what == "set-tag" and model in taken:
            renewals += 1
        elif what == "set-tag":
            taken[model], held, takes = when, held + 1, takes + 1
            most = max(most, held)
        elif what == "delete-tag" and model in taken:
            holds.append(when - taken.pop(model))
            held, releases = held - 1, releases + 1
    periods = seconds / seen.renew_every if seen.renew_every else 0.0
    per_period = f"{seen.searches / periods:.2f}" if periods else "-"
    print(f"{args.models} models to STAGE with --max-parallel {args.workers}, each version "
          f"{args.deploy_seconds:g} s to build, renewal every {seen.renew_every:g} s: {seconds:.1f} s\n")
    print("| models | apply seconds | lease writes per model | takes / renewals / releases | most held at once "
          "| held, mean s | held, longest s | renewer threads | renewal rounds | renewal searches "
          "| searches per period |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print(f"| {args.models} | {seconds:.1f} | {len(seen.writes) / args.models:.2f} | {takes} / {renewals} / "
          f"{releases} | {most} | {sum(holds) / len(holds):.1f} | {max(holds):.1f} | {len(seen.threads)} "
          f"| {seen.rounds} | {seen.searches} | {per_period} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
