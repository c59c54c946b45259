"""`domino-mlops monitor-agent`: forward an exported image's prediction records to Domino as
custom metrics of the target's monitored model (docs/MONITORING.md).

Settings come from flags, else DMLOPS_* variables (the agent image sets them); the RabbitMQ URL
carries a password, so it is read from DMLOPS_RABBITMQ_URL only, never from argv, and never shown.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from domino_mlops.desired.targets import Monitoring, load_targets
from domino_mlops.errors import NotMonitored, Unreachable
from domino_mlops.monitor.agent import Agent, AgentSettings, PassResult
from domino_mlops.monitor.aggregate import reference_stats, rows_of_example


def run(args: argparse.Namespace) -> int:
    if not args.target:
        raise NotMonitored("no export target named to monitor",
                           hint="Pass --target NAME (or set DMLOPS_TARGET): a target of the targets file "
                                "with a monitoring block.")
    (target,) = load_targets(args.targets).select(args.target)
    if target.monitoring is None:
        raise NotMonitored(f"export target {target.name!r} has no monitoring block in {args.targets}",
                           hint="Add monitoring: {model_monitoring_id: <id from Domino's Model Monitor>} to it "
                                "(docs/MONITORING.md).")
    settings = AgentSettings(target.monitoring.model_monitoring_id, Path(args.state), target.monitoring.interval,
                             target.monitoring.alerts, _reference(target.monitoring, args.model_dir))
    from domino_mlops.clients.domino.client import DominoClient

    spool = _open_spool(args)
    try:
        with DominoClient.from_env() as domino:
            agent = Agent(settings, spool, domino.custom_metrics)
            if args.once:
                _report(agent.run_once(time.time(), flush_open=args.flush_open))
                return 0
            stop = threading.Event()
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: stop.set())
            print(f"monitor-agent: {target.name} -> monitored model {settings.model_monitoring_id}, "
                  f"{settings.interval} s intervals", flush=True)
            agent.run(stop, time.time, args.poll)
            return 0
    finally:
        spool.close()


def _open_spool(args: argparse.Namespace) -> Any:
    from domino_mlops.monitor.spool import spool_module

    module = spool_module()
    if args.spool == "sqlite":
        return module.SqliteSpool(args.spool_path)
    url = os.environ.get("DMLOPS_RABBITMQ_URL", "")
    if not url:
        raise NotMonitored("--spool rabbitmq needs DMLOPS_RABBITMQ_URL",
                           hint="Set DMLOPS_RABBITMQ_URL=amqp://user:password@host:5672/vhost in the environment "
                                "(a secret: never on the command line).")
    try:
        import pika  # noqa: F401 - the monitor extra
    except ImportError:
        raise NotMonitored("the RabbitMQ spool needs pika, which is not installed",
                           hint="pip install 'domino-mlops[monitor]'") from None
    try:
        return module.RabbitSpool(url, args.rabbitmq_queue)
    except Exception as exc:  # noqa: BLE001 - pika's errors, translated once; the URL is not repeated
        raise Unreachable("RabbitMQ", "the broker in DMLOPS_RABBITMQ_URL", type(exc).__name__,
                          hint="Check that the broker runs and that the URL's host, port, user and vhost "
                               "are right.") from exc


def _reference(monitoring: Monitoring, model_dir: str | None) -> dict[str, tuple[float, float]] | None:
    """Reference statistics for drift: the configured file, else the model's input example."""
    if not monitoring.capture_inputs:
        return None
    candidates = [Path(monitoring.reference)] if monitoring.reference else [
        Path(model_dir) / name for name in ("input_example.json", "serving_input_example.json")] if model_dir else []
    for path in candidates:
        if path.is_file():
            stats = reference_stats(rows_of_example(json.loads(path.read_text(encoding="utf-8"))))
            if stats:
                return stats
    raise NotMonitored("capture_inputs is on but there are no reference rows for drift",
                       hint="Set monitoring.reference to a JSON file of rows, or pass --model-dir with the "
                            "model's folder (its input_example.json).")


def _report(result: PassResult) -> None:
    for item in result.flushed:
        figures = ", ".join(f"{name}={value:g}" for name, value in item.values)
        print(f"{item.model} v{item.version} @ {int(item.start)}: {figures}", flush=True)
    for alert in result.alerts:
        print(f"alert sent: {alert.metric} = {alert.value:g} ({alert.target_range.condition})", flush=True)
    print(f"monitor-agent: {result.read} record(s) read, {len(result.flushed)} interval(s) flushed, "
          f"{result.held} held for open intervals, {result.recounted} already counted, "
          f"{result.unreadable} unreadable", flush=True)
