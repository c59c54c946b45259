"""GitHub Actions workflow commands and files, in one tested place.

Outside Actions (no GITHUB_ACTIONS=true) outputs and summaries go nowhere and annotations fall
back to plain `error: ...` lines, so the CLI behaves well in a terminal.
Docs: https://docs.github.com/actions/reference/workflow-commands-for-github-actions
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import IO, TextIO


def in_actions(environ: Mapping[str, str] | None = None) -> bool:
    return (environ if environ is not None else os.environ).get("GITHUB_ACTIONS") == "true"


def escape_data(value: str) -> str:
    """Escape a command's message, as actions/toolkit escapeData does (% first)."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """Escape a command property (file=, title=): also ':' and ','."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def _stream(stream: TextIO | None) -> TextIO:
    return stream if stream is not None else sys.stdout


def set_output(name: str, value: str, *, environ: Mapping[str, str] | None = None) -> bool:
    """Append `name` to $GITHUB_OUTPUT; multi-line safe (heredoc with a random delimiter).

    Returns False when there is no output file (not in Actions): nothing is written anywhere.
    """
    env = environ if environ is not None else os.environ
    path = env.get("GITHUB_OUTPUT")
    if not path:
        return False
    delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    # A value containing the delimiter would end the heredoc early; a fresh random one never does.
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
    return True


def writes_outputs(environ: Mapping[str, str] | None = None) -> bool:
    """Whether this step has outputs ($GITHUB_OUTPUT): what a workflow reads is then written."""
    return bool((environ if environ is not None else os.environ).get("GITHUB_OUTPUT"))


def write_run_file(name: str, text: str | Callable[[IO[str]], None], *,
                   environ: Mapping[str, str] | None = None) -> str | None:
    """Write ``text`` (or what the callable writes to the file: a large plan, streamed) to
    ``$RUNNER_TEMP/domino-mlops/<name>`` for the workflow to upload as an artifact; return its
    path. Only where there are outputs to point at it (in Actions), and None elsewhere: a terminal
    run prints what it has and leaves no files behind."""
    env = environ if environ is not None else os.environ
    if not writes_outputs(env):
        return None
    folder = os.path.join(env.get("RUNNER_TEMP") or tempfile.gettempdir(), "domino-mlops")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, os.path.basename(name))
    with open(path, "w", encoding="utf-8") as handle:
        if callable(text):
            text(handle)
        else:
            handle.write(text)
    return path


def append_summary(markdown: str, *, environ: Mapping[str, str] | None = None) -> bool:
    """Append Markdown to $GITHUB_STEP_SUMMARY; False when there is none."""
    env = environ if environ is not None else os.environ
    path = env.get("GITHUB_STEP_SUMMARY")
    if not path:
        return False
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(markdown.rstrip("\n") + "\n\n")
    return True


def annotate(level: str, message: str, *, file: str | None = None, line: int | None = None,
             title: str | None = None, stream: TextIO | None = None,
             environ: Mapping[str, str] | None = None) -> None:
    """Emit ::error/::warning/::notice, pointing at file:line when known.

    Outside Actions this prints `level: file:line: message` instead of the raw command.
    """
    if level not in ("error", "warning", "notice"):
        raise ValueError(f"unknown annotation level {level!r}")
    out = _stream(stream)
    if not in_actions(environ):
        where = f"{file}:{line}: " if file and line else (f"{file}: " if file else "")
        print(f"{level}: {where}{message}", file=out)
        return
    props = []
    if file:
        props.append(f"file={escape_property(file)}")
    if line:
        props.append(f"line={int(line)}")
    if title:
        props.append(f"title={escape_property(title)}")
    head = f"::{level} {','.join(props)}" if props else f"::{level}"
    print(f"{head}::{escape_data(message)}", file=out)


def mask(value: str, *, stream: TextIO | None = None, environ: Mapping[str, str] | None = None) -> None:
    """Tell the runner to hide `value` in every later log line. Silent outside Actions.

    Each line of a multi-line secret is masked on its own, as the runner matches line by line.
    """
    if not value or not in_actions(environ):
        return
    out = _stream(stream)
    for part in value.splitlines() or [value]:
        if part.strip():
            print(f"::add-mask::{escape_data(part)}", file=out)


@contextmanager
def untrusted(*, stream: TextIO | None = None, environ: Mapping[str, str] | None = None) -> Iterator[None]:
    """Print text nobody here wrote (a Domino job's or an export's log) with the runner's command
    processing stopped, so a log line such as ``::set-output name=x::y`` or ``::add-mask::`` is
    shown, never obeyed. The resume token is random per block: the log cannot guess it to end
    the block early. Outside Actions nothing is added.
    Docs: https://docs.github.com/actions/reference/workflow-commands-for-github-actions#stopping-and-starting-workflow-commands
    """
    out = _stream(stream)
    if not in_actions(environ):
        yield
        return
    token = f"dmlops-{secrets.token_hex(16)}"
    print(f"::stop-commands::{token}", file=out, flush=True)
    try:
        yield
    finally:
        print(f"::{token}::", file=out, flush=True)


@contextmanager
def group(title: str, *, stream: TextIO | None = None,
          environ: Mapping[str, str] | None = None) -> Iterator[None]:
    """A collapsible log group; a plain heading line outside Actions."""
    out = _stream(stream)
    if in_actions(environ):
        print(f"::group::{escape_data(title)}", file=out)
        try:
            yield
        finally:
            print("::endgroup::", file=out)
    else:
        print(f"== {title}", file=out)
        yield
