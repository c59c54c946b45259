"""Arguments of ``domino-emulator``. Imports argparse only: ``--help`` and a bad argument stay cheap."""

from __future__ import annotations

import argparse

from domino_emulator.defaults import DEFAULT_DEPLOY_SECONDS, DEFAULT_HOST, DEFAULT_PORT


def _non_negative(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, not {text}")
    return value


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {text}")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be 0-65535, not {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT,
                        help="port to listen on; 0 picks a free one and prints it (default: %(default)s)")
    parser.add_argument("--mlflow-uri", default=None,
                        help="MLflow tracking server the emulator loads registered models from "
                             "(default: $MLFLOW_TRACKING_URI)")
    parser.add_argument("--seed-file", default=None,
                        help="YAML or JSON world to start from: projects, credentials, hardware tiers, "
                             "environments, jobs, apps (default: a built-in demo world)")
    parser.add_argument("--state-file", default=None,
                        help="save the world here after every write and load it at start, so a restart "
                             "keeps Model APIs, jobs and apps")
    parser.add_argument("--deploy-seconds", type=_non_negative, default=DEFAULT_DEPLOY_SECONDS,
                        help="how long a Model API version takes from Preparing to build to Running; jobs, "
                             "apps and exports take as long (default: %(default)s)")
    faults = parser.add_argument_group("fault injection (repeatable from --fault-seed)")
    faults.add_argument("--faults", default=None, metavar="JSON|@FILE",
                        help="a fault plan as JSON, or @path to a JSON file; the flags below add one "
                             "more rule for --fault-prefix")
    faults.add_argument("--fault-seed", type=int, default=0, help="seed of the fault sequence (default: 0)")
    faults.add_argument("--fault-prefix", default="/", help="routes the flag rule applies to (default: /)")
    faults.add_argument("--latency-ms", type=_non_negative, default=0.0, help="delay added to each request")
    faults.add_argument("--rate-429", type=_rate, default=0.0, help="share of requests answered 429")
    faults.add_argument("--rate-503", type=_rate, default=0.0, help="share of requests answered 503")
    faults.add_argument("--drop-rate", type=_rate, default=0.0,
                        help="share of connections closed without an answer")
    faults.add_argument("--retry-after", type=int, default=1, help="Retry-After seconds sent with 429")
    faults.add_argument("--slow-deploy-seconds", type=_non_negative, default=0.0,
                        help="extra seconds every new deployment takes")
    parser.add_argument("--record-responses", action="store_true",
                        help="keep each answer's JSON in the request log (GET /_emulator/requests), to check "
                             "recorded traffic against Domino's published schemas")
    parser.add_argument("--quiet", action="store_true",
                        help="print only the URL at start, and no request log")
