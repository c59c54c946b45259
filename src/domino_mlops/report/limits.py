"""GitHub's size limits, and how a large plan stays inside them (10,000 entries, 500 projects).

What does not fit goes to a file the workflow uploads as an artifact; outputs carry its digest,
its count and its path, the summary and the PR comment show the changes first and say where the
rest is, and a job matrix that GitHub would refuse is refused here first, with the limit named.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from domino_mlops.errors import MatrixTooLarge
from domino_mlops.report import github

# GitHub's documented limits.
# "Job outputs ... a maximum of 1 MB per job. The total of all outputs in a workflow run can be a
# maximum of 50 MB." https://docs.github.com/actions/writing-workflows/workflow-syntax-for-github-actions#jobsjob_idoutputs
OUTPUTS_BYTES = 1_000_000
# "$GITHUB_STEP_SUMMARY is ... limited to 1MiB per step"; a larger one is not shown at all.
# https://docs.github.com/actions/writing-workflows/choosing-what-your-workflow-does/workflow-commands-for-github-actions#step-isolation-and-limits
SUMMARY_BYTES = 1024 * 1024
# An issue or pull-request comment body: at most 65,536 characters (GitHub answers 422 beyond).
# https://docs.github.com/rest/issues/comments#create-an-issue-comment
COMMENT_CHARS = 65_536
# "A matrix will generate a maximum of 256 jobs per workflow run."
# https://docs.github.com/actions/writing-workflows/choosing-what-your-workflow-does/running-variations-of-jobs-in-a-workflow
MATRIX_JOBS = 256
# plan-json and result-json carry the document itself only below this: a job's outputs share
# 1 MB (a plan of 10,000 models is about 19 MB), and 64 KiB (some 30 models) is still a value a
# caller's next step can read from an expression; above it the file (plan-file) is the source.
INLINE_JSON_BYTES = 64 * 1024

_FENCE = re.compile(r"^\s*(```|~~~)")


def utf8_size(text: str) -> int:
    return len(text.encode("utf-8"))


def inline_json(text: str) -> str:
    """The JSON itself when small enough for an output, else "" (the file holds it)."""
    return text if utf8_size(text) <= INLINE_JSON_BYTES else ""


def artifact_name(kind: str, environment: str, projects: Sequence[str] = ()) -> str:
    """The artifact a workflow uploads a run's file under, unique per job of a run: a matrix job
    of one project names it. Artifact names refuse characters such as / and :."""
    parts = ["domino-mlops", kind, environment, *(projects if len(set(projects)) == 1 else ())][:4]
    return re.sub(r"[^A-Za-z0-9._-]", "_", "-".join(parts))


def check_matrix(projects: Sequence[str], what: str) -> None:
    """Refuse a job matrix GitHub would refuse (more than 256 jobs), before any job starts.

    Why not chunks of several projects per job: each job holds exactly one project's token
    (secret PROJECT_ID_<id>, never toJson(secrets)) and one concurrency group, and is approved
    against that project's plan digest; a job serving several projects would need them all."""
    if len(projects) > MATRIX_JOBS:
        raise MatrixTooLarge(what, len(projects), MATRIX_JOBS)


@dataclass(frozen=True, slots=True)
class Fitted:
    """Markdown cut to a limit: the text, whether anything was cut, and how many table rows."""

    text: str
    rows_left_out: int
    cut: bool = False


def fit(markdown: str, limit: int, *, size: Callable[[str], int] = utf8_size, tail: str = "") -> Fitted:
    """``markdown`` whole when it and ``tail`` fit in ``limit`` (measured by ``size``); else its
    first lines that fit, cut between lines (a table keeps its header, a code fence and a
    <details> are closed), and the count of table rows left out. ``tail`` is not added: the
    caller builds it from the count and appends it (its room is kept)."""
    room = limit - size(tail) - 64  # the closing fence, </details> and blank lines
    if size(markdown) <= room:
        return Fitted(markdown, 0)
    kept: list[str] = []
    used = 0
    lines = markdown.split("\n")
    for index, line in enumerate(lines):
        cost = size(line) + 1
        if used + cost > room:
            return Fitted(_closed(kept), sum(1 for rest in lines[index:] if _is_row(rest)), cut=True)
        kept.append(line)
        used += cost
    return Fitted(markdown, 0)


def _is_row(line: str) -> bool:
    return line.startswith("|") and not line.startswith("|---")


def _closed(lines: list[str]) -> str:
    """Valid Markdown after a cut: an open code fence closed, then any open <details>."""
    text = "\n".join(lines).rstrip("\n")
    if sum(1 for line in lines if _FENCE.match(line)) % 2:
        text += "\n```"
    opened = sum(line.count("<details>") for line in lines) - sum(line.count("</details>") for line in lines)
    text += "\n\n</details>" * max(0, opened)
    return text + "\n"


def pointer(left_out: int, unchanged: int, artifact: str, what: str = "plan") -> str:
    """The line under a cut: how much is not shown, and where the whole is."""
    if left_out and unchanged:
        shown = f"{left_out} more rows not shown here, and {unchanged} more unchanged"
    elif left_out:
        shown = f"{left_out} more rows not shown here"
    elif unchanged:
        shown = f"{unchanged} more rows unchanged"
    else:
        shown = "the rest is not shown here"
    return f"_{shown}; the whole {what} is in the artifact `{artifact}`._\n"


def within_summary(markdown: str, artifact: str, what: str) -> str:
    """A step summary within GitHub's 1 MiB, with a line naming the artifact when cut."""
    cut = fit(markdown, SUMMARY_BYTES, tail=pointer(10 ** 9, 0, artifact, what))
    if not cut.cut:
        return cut.text
    return f"{cut.text.rstrip()}\n\n{pointer(cut.rows_left_out, 0, artifact, what)}"


def set_json(kind: str, text: str, path: str | None, artifact: str, *, size: int | None = None) -> None:
    """``<kind>-json`` (only when small), ``<kind>-file`` and ``<kind>-artifact``; a notice says
    where a document too large for an output is. ``size``: the document's bytes when ``text`` is
    not all of it (a large plan streamed to its file is never read back whole)."""
    size = utf8_size(text) if size is None else size
    small = text if size <= INLINE_JSON_BYTES else ""
    github.set_output(f"{kind}-json", small)
    github.set_output(f"{kind}-file", path or "")
    github.set_output(f"{kind}-artifact", artifact)
    if not small and path:
        github.annotate("notice", f"{kind}-json is empty: the {kind} is {size:,} bytes, over the "
                        f"{INLINE_JSON_BYTES:,} an output carries; it is in {kind}-file ({path}), uploaded "
                        f"as the artifact {artifact}", title="domino-mlops", stream=sys.stderr)
