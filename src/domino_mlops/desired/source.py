"""Read a desired-state file as text: bounded in size, UTF-8 only, no BOM, no NUL bytes.

Each refusal is one issue with the line (and column) of the first offending byte, raised as
SyntaxProblem before any parser sees the text: a 2 GB file or a binary one must not reach
json or PyYAML, and "invalid start byte in position 8" is no help to someone editing a file.
"""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path

from domino_mlops.desired.limits import Limits, size_text
from domino_mlops.desired.locate import SyntaxProblem
from domino_mlops.errors import ValidationIssue

_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)  # UTF-32 LE starts like UTF-16 LE


def read_source(path: str | Path, limits: Limits, flag: str) -> str:
    """The file's text, or SyntaxProblem with one issue saying why it cannot be used.

    ``flag`` is the CLI option that points at another file, named in the hints.
    """
    file = str(path)
    try:
        # Never open what is not a regular file: opening a FIFO blocks until someone writes to it,
        # a device never ends. stat follows symbolic links, so a link to a file is still a file.
        mode = os.stat(path).st_mode
        if not stat.S_ISREG(mode):
            raise _problem(file, None, f"this is {_kind(mode)}, not a regular file; point {flag} at the file itself")
        with open(path, "rb") as handle:
            data = handle.read(limits.max_bytes + 1)  # never more: /dev/zero has no end
    except FileNotFoundError:
        raise _problem(file, None, f"file not found; create it or pass {flag}") from None
    except OSError as exc:
        raise _problem(file, None, f"cannot read the file: {exc.strerror or exc}") from exc
    if len(data) > limits.max_bytes:
        raise _problem(file, None, f"the file is larger than {size_text(limits.max_bytes)}, the most this "
                                   f"tool reads for it; check that {flag} names the right file")
    if data.startswith(codecs.BOM_UTF8):
        raise _problem(file, 1, "the file starts with a byte order mark (BOM); save it as UTF-8 without BOM")
    if data.startswith(_UTF16_BOMS):
        raise _problem(file, 1, "the file is UTF-16 or UTF-32 encoded; save it as UTF-8")
    nul = data.find(b"\x00")
    if nul >= 0:
        line, column = _position(data, nul)
        raise _problem(file, line, f"NUL byte at line {line}, column {column}: "
                                   "this looks like a binary file, not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _position(data, exc.start)
        raise _problem(file, line, f"byte 0x{data[exc.start]:02x} at line {line}, column {column} "
                                   "is not UTF-8; save the file as UTF-8") from None


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def _position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in bytes) of ``offset``."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - line_start + 1


def _problem(file: str, line: int | None, message: str) -> SyntaxProblem:
    return SyntaxProblem(ValidationIssue(file, line, "$", message))
