"""`domino-mlops history --model X` (or ``--job X``, ``--app X``): every applied change, from the ledger.

A job's entries are its runs (``to``: the digest of its definition and the commit it ran for;
Domino ids: the job's id); an app's are its changes (``to``: the digest of what the manifest
asked; Domino ids: the app and its instance).

``--format``: ``table`` (Markdown, the default), ``timeline`` (text, one line per change with the
versions serving at the end, for a person), ``json`` and ``csv`` (every ledger field, for tooling;
``--json`` stays as the alias of ``--format json``).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from dataclasses import asdict, fields
from datetime import datetime, timezone

from domino_mlops import api
from domino_mlops.state.ledger import LedgerEntry
from domino_mlops.commands.runtime import adopt_project_token, connect
from domino_mlops.errors import ConfigError


def run(args: argparse.Namespace) -> int:
    adopt_project_token(args.project)
    kind, name = subject_of(args)
    if args.json and args.format not in (None, "json"):
        raise ConfigError(f"--json and --format {args.format} disagree",
                          hint="--json is the same as --format json; give one of them.")
    request = api.HistoryRequest(name, kind=kind, env=args.env, at=args.at, project=args.project,
                                 environments=args.environments)
    with connect() as connections:
        outcome = api.history(request, connections)
    _show(args, kind, name, outcome)
    return 0


def subject_of(args: argparse.Namespace) -> tuple[str, str]:
    """(kind, name) the command is asked about."""
    for kind in ("job", "app"):
        if getattr(args, kind, None):
            return kind, getattr(args, kind)
    return "model", args.model


FORMATS = ("table", "timeline", "json", "csv")


def _show(args: argparse.Namespace, kind: str, name: str, outcome: api.HistoryOutcome) -> None:
    fmt = args.format or ("json" if args.json else "table")
    what = name if kind == "model" else f"{kind} {name}"
    entries = outcome.entries
    if outcome.at_ms is not None:
        entry = entries[0] if entries else None
        if fmt == "json":
            print(json.dumps(asdict(entry) if entry else None, indent=2))
        elif fmt == "csv":
            print(to_csv(entries), end="")
        elif entry is None:
            print(f"{args.env} served no recorded version of {what} at {args.at}.")
        else:
            print(f"{args.env} served {what} version {entry.to_version} at {args.at} "
                  f"(since {iso(entry.time_ms)}, {entry.action} by {entry.actor or 'unknown'}).")
    elif fmt == "json":
        print(json.dumps([asdict(e) for e in entries], indent=2))
    elif fmt == "csv":
        print(to_csv(entries), end="")
    elif fmt == "timeline":
        print(timeline(what, entries))
    else:
        print(render(what, entries, ids="Model API ids" if kind == "model" else "Domino ids"))


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


def to_csv(entries: tuple[LedgerEntry, ...]) -> str:
    """Every ledger field, one row per entry, a header even when there is none (tools expect one)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[f.name for f in fields(LedgerEntry)], lineterminator="\n")
    writer.writeheader()
    writer.writerows(asdict(e) for e in entries)
    return buffer.getvalue()


_MARK = {"rollback": "<", "export": "^"}  # anything else moved the environment forward: "*"


def timeline(what: str, entries: tuple[LedgerEntry, ...]) -> str:
    """Oldest first, one line per change, then what each environment serves after the last:

        Timeline of churn (3 changes; * forward, < rollback, ^ export)
          2026-11-23T10:00:00Z  * STAGE  deploy    - -> 3  octocat  0123456789ab
          2026-11-23T10:05:00Z  * PROD   promote   - -> 3  alice    0123456789ab
          2026-11-24T08:00:00Z  < PROD   rollback  4 -> 3  bob      89abcdef0123
        Now: PROD 3, STAGE 3
    """
    if not entries:
        return f"No recorded changes for {what}."
    ordered = sorted(entries, key=lambda e: e.time_ms)
    env_width = max(len(e.environment) for e in ordered)
    action_width = max(len(e.action) for e in ordered)
    move_width = max(len(f"{e.from_version or '-'} -> {e.to_version}") for e in ordered)
    lines = [f"Timeline of {what} ({len(ordered)} change{'s' if len(ordered) != 1 else ''}; "
             "* forward, < rollback, ^ export)"]
    now: dict[str, str] = {}
    for e in ordered:
        move = f"{e.from_version or '-'} -> {e.to_version}"
        lines.append(f"  {iso(e.time_ms)}  {_MARK.get(e.action, '*')} {e.environment:<{env_width}}  "
                     f"{e.action:<{action_width}}  {move:<{move_width}}  {e.actor or '-'}  "
                     f"{e.commit_sha[:12] or '-'}".rstrip())
        now[e.environment] = e.to_version
    lines.append("Now: " + ", ".join(f"{env} {version}" for env, version in sorted(now.items())))
    return "\n".join(lines)


def iso(time_ms: int) -> str:
    return datetime.fromtimestamp(time_ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
