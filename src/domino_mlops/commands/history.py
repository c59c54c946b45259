"""`domino-mlops history --model X` (or ``--job X``, ``--app X``): every applied change, from the ledger.

A job's entries are its runs (``to``: the digest of its definition and the commit it ran for;
Domino ids: the job's id); an app's are its changes (``to``: the digest of what the manifest
asked; Domino ids: the app and its instance).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from datetime import datetime, timezone

from domino_mlops.apply.ledger import Ledger, LedgerEntry
from domino_mlops.commands.runtime import adopt_project_token, connect
from domino_mlops.errors import ConfigError


def run(args: argparse.Namespace) -> int:
    adopt_project_token(args.project)
    if args.env:
        check_environment(args.env, args.environments)
    with connect() as connections:
        ledger = connections.ledger_reader(args.project or "")
        return _show(args, ledger)


def check_environment(name: str, path: str | None) -> None:
    """An unknown --env is a typo, not an environment that served nothing (exit 2). The ledger's
    export entries are per target (export:<TARGET>), not environments of the file."""
    if name.startswith("export:"):
        return
    from pathlib import Path

    from domino_mlops.desired.environments import default_environments, load_environments
    from domino_mlops.desired.paths import DEFAULT_ENVIRONMENTS

    found = (default_environments() if path is None and not Path(DEFAULT_ENVIRONMENTS).exists()
             else load_environments(path or DEFAULT_ENVIRONMENTS))
    found.get(name)  # NotFound names the environments there are


def subject_of(args: argparse.Namespace) -> tuple[str, str]:
    """(kind, name) the command is asked about."""
    for kind in ("job", "app"):
        if getattr(args, kind, None):
            return kind, getattr(args, kind)
    return "model", args.model


def _show(args: argparse.Namespace, ledger: Ledger) -> int:
    kind, name = subject_of(args)
    what = name if kind == "model" else f"{kind} {name}"
    if args.at:
        if not args.env:
            raise ConfigError("--at needs --env", hint="Say which environment: --env PROD --at 2026-11-23T10:00Z.")
        when = parse_time(args.at)
        entry = ledger.at(args.env, name, when, kind=kind)
        if args.json:
            print(json.dumps(asdict(entry) if entry else None, indent=2))
        elif entry is None:
            print(f"{args.env} served no recorded version of {what} at {args.at}.")
        else:
            print(f"{args.env} served {what} version {entry.to_version} at {args.at} "
                  f"(since {iso(entry.time_ms)}, {entry.action} by {entry.actor or 'unknown'}).")
        return 0
    entries = ledger.entries(model=name, environment=args.env, kind=kind)
    if args.json:
        print(json.dumps([asdict(e) for e in entries], indent=2))
    else:
        print(render(what, entries, ids="Model API ids" if kind == "model" else "Domino ids"))
    return 0


def render(model: str, entries: tuple[LedgerEntry, ...], *, ids: str = "Model API ids") -> str:
    if not entries:
        return f"No recorded changes for {model}."
    lines = [f"Ledger of {model}:", "",
             f"| time (UTC) | environment | action | from | to | {ids} | commit | actor | run |",
             "|---|---|---|---|---|---|---|---|---|"]
    for e in entries:
        lines.append(f"| {iso(e.time_ms)} | {e.environment} | {e.action} | {e.from_version or '-'} | "
                     f"{e.to_version} | {e.model_api_ids or '-'} | {e.commit_sha[:12] or '-'} | "
                     f"{e.actor or '-'} | {e.run_url or '-'} |")
    return "\n".join(lines)


def iso(time_ms: int) -> str:
    return datetime.fromtimestamp(time_ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> int:
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"--at {text!r} is not an ISO 8601 time", hint="For example 2026-11-23T10:00Z.") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return int(when.timestamp() * 1000)
