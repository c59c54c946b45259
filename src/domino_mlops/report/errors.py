"""How an expected error reaches the person reading the run: one line, a hint, an annotation."""

from __future__ import annotations

import sys
from typing import TextIO

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
