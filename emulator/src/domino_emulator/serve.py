"""``domino-emulator`` (alias ``domino-mlops emulator``): start the emulator, print where it is and how
to reach it, serve until stopped."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from domino_emulator.seed import default_seed
from domino_mlops.errors import ConfigError


def run(args: argparse.Namespace) -> int:
    from domino_emulator.emulator import Emulator
    from domino_emulator.faults import FaultPlan

    plan = _fault_plan(args, FaultPlan)
    mlflow_uri = args.mlflow_uri or os.environ.get("MLFLOW_TRACKING_URI") or None
    emu = Emulator(mlflow_uri=mlflow_uri, world=args.seed_file, deploy_seconds=args.deploy_seconds,
                   faults=plan, state_file=args.state_file, host=args.host, port=args.port,
                   record_responses=args.record_responses)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    if not args.quiet:
        # Before the server starts: a request that arrives as soon as the banner is out is logged
        # too (configured after the banner, the first requests could beat it and go unlogged).
        _log_requests()
    try:
        emu.start()
        _banner(emu, quiet=args.quiet)
        while not stop.wait(0.5):  # a timed wait, so signals are handled promptly everywhere
            pass
    finally:
        emu.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def _banner(emu: Any, *, quiet: bool) -> None:
    if quiet:
        print(emu.url, flush=True)
        return
    restored = f" (state restored from {emu.state_file})" if emu.restored else ""
    # Only the built-in world's keys are known to be throwaway; a seed file's may be anything.
    builtin = emu.api_key in {c.get("api_key") for c in default_seed()["credentials"]}
    key = emu.api_key if builtin else "<the api_key of your seed file>"
    label = "a local test credential, not a secret" if builtin else "from your seed file, not printed"
    lines = [
        f"Domino emulator listening on {emu.url}{restored}",
        f"  project   {emu.owner}/{emu.project_name}   id {emu.project_id}",
        f"  api key   {key}   (header X-Domino-Api-Key; {label})",
    ]
    if builtin:
        # The workflows' deploy jobs take the project's token (PROJECT_ID_<id>) and the plan jobs a
        # read-only key: printed so that a local run (docs/LOCAL_RUNS.md) can pass them as written.
        reader = next(c["api_key"] for c in default_seed()["credentials"] if c.get("read_only"))
        lines += [
            f"  token     {emu.token}   (Authorization: Bearer; PROJECT_ID_{emu.project_id}; {label})",
            f"  read-only {reader}   (header X-Domino-Api-Key; writes refused: DOMINO_READONLY_API_KEY)",
        ]
    lines += [
        f"  mlflow    {emu.mlflow_uri or '(none: deploys will fail; pass --mlflow-uri)'}",
        f"  try       export DOMINO_API_HOST={emu.url} DOMINO_USER_API_KEY={key}",
        "Press Ctrl-C to stop.",
    ]
    print("\n".join(lines), flush=True)


def _log_requests() -> None:
    # The CLI is the one place allowed to configure logging; library code only emits records.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    for name in ("domino_emulator.server", "domino_emulator.deployments"):
        log = logging.getLogger(name)
        log.addHandler(handler)
        log.setLevel(logging.INFO)


def _fault_plan(args: argparse.Namespace, fault_plan: Any) -> Any:
    text = args.faults
    if text and text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read the fault plan {args.faults[1:]}: {exc.strerror or exc}",
                              hint="Pass JSON text or @path to an existing JSON file.") from exc
    plan = fault_plan.parse(text)
    rule = {"prefix": args.fault_prefix, "latency_ms": args.latency_ms, "rate_429": args.rate_429,
            "rate_503": args.rate_503, "drop_rate": args.drop_rate, "retry_after": args.retry_after}
    extra = any(rule[k] for k in ("latency_ms", "rate_429", "rate_503", "drop_rate"))
    return fault_plan.parse({
        "seed": args.fault_seed if args.fault_seed or not text else plan.seed,
        "rules": [*plan.to_dict()["rules"], *([rule] if extra else [])],
        "slow_deploy_seconds": args.slow_deploy_seconds or plan.slow_deploy_seconds,
    })
