"""How an expected error reaches the person reading the run: one line, a hint, an annotation."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any, TextIO

from domino_mlops.errors import DominoMlopsError, ValidationFailed
from domino_mlops.report import github


def report_error(exc: DominoMlopsError, *, stream: TextIO | None = None) -> None:
    """Print the error (every issue of a ValidationFailed), annotate it, and summarise it."""
    out = stream if stream is not None else sys.stderr
    if isinstance(exc, ValidationFailed) and exc.issues:
        for issue in exc.issues:
            github.annotate("error", f"{issue.path}: {issue.message}", file=issue.file,
                            line=issue.line, title="domino-mlops validate", stream=out)
        print(f"{len(exc.issues)} problem(s) found.", file=out)
    elif exc.places:
        for file, line, what in exc.places:
            github.annotate("error", what, file=file, line=line, title=type(exc).__name__, stream=out)
    else:
        github.annotate("error", exc.message, title=type(exc).__name__, stream=out)
    if exc.hint:
        print(f"hint: {exc.hint}", file=out)
    github.append_summary(_summary(exc))


def _summary(exc: DominoMlopsError) -> str:
    lines = [f"### :x: {type(exc).__name__} (exit code {exc.exit_code})", ""]
    if isinstance(exc, ValidationFailed):
        lines += [f"- `{issue}`" for issue in exc.issues]
    else:
        lines.append(exc.message)
    if exc.hint:
        lines += ["", f"**What to do:** {exc.hint}"]
    return "\n".join(lines)


def run_guarded(handler: Callable[[Any], int], args: Any) -> int:
    """Run a command's handler and turn what it raises into the exit-code table: an expected error
    (DominoMlopsError) is one line and a hint with its own code, Ctrl-C 130, anything else a bug
    report and 1. ``args.traceback`` adds the traceback. Shared by domino-mlops and domino-emulator."""
    # MLflow's telemetry thread, when it cannot reach its endpoint (any network without
    # internet access), unsets an environment variable while our worker threads read
    # os.environ (requests does, for proxies): a KeyError at random. A deploy tool has no
    # business phoning home anyway; MLFLOW_DISABLE_TELEMETRY=false still turns it back on.
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

    try:
        return handler(args)
    except DominoMlopsError as exc:
        if args.traceback:  # only adds the traceback: workflows branch on the exit code
            import traceback

            traceback.print_exc(file=sys.stderr)
        report_error(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place that catches everything
        if args.traceback:
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc}", file=sys.stderr)
        print("hint: this is a bug; please report it with the output of the same command run with "
              "--traceback", file=sys.stderr)
        return 1
