"""A parsed document and where its values are: the values desired/locate.py (JSON) and
desired/locate_yaml.py (YAML) both produce, apart from either parser."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from typing import Any

from domino_mlops.errors import ValidationIssue

Path = tuple[str | int, ...]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def json_path(path: Path) -> str:
    """Render ("P1", 0, "version") as $.P1[0].version; odd keys are quoted: $["a b"]."""
    out = "$"
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.match(part):
            out += f".{part}"
        else:
            out += f"[{json.dumps(part)}]"
    return out


@dataclass(frozen=True)
class Located:
    """A parsed document plus the line where each value (by path) begins."""

    file: str
    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    duplicates: tuple[ValidationIssue, ...] = ()

    def line_of(self, path: Path) -> int | None:
        """The line of the value at `path`, or of its nearest located parent."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def issue(self, path: Path, message: str) -> ValidationIssue:
        return ValidationIssue(self.file, self.line_of(path), json_path(path), message)


def max_int_digits() -> int:
    """The most digits int() reads (CVE-2020-10735); 0 means no limit (before Python 3.10.7)."""
    return getattr(sys, "get_int_max_str_digits", lambda: 0)()


class SyntaxProblem(Exception):
    """A file that does not parse at all; loaders turn it into ValidationFailed."""

    def __init__(self, issue: ValidationIssue) -> None:
        super().__init__(str(issue))
        self.issue = issue
