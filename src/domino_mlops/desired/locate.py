"""Parse JSON and YAML while remembering the line of every value, so errors can say file:line.

Neither `json` nor PyYAML's safe_load keep positions. For JSON we first let `json` judge the
syntax (its messages are good), then walk the text once more with a tiny scanner that records
where each value starts and which object keys repeat (JSON allows duplicates; we do not). For
YAML we compose the node tree, which carries marks, and build plain Python values from it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from json.decoder import scanstring
from typing import Any

import yaml

from domino_mlops.errors import ValidationIssue

Path = tuple[str | int, ...]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_WHITESPACE = re.compile(r"[ \t\n\r]*")


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


class _JsonScanner:
    """Walks syntactically valid JSON text, recording each value's line and repeated keys."""

    def __init__(self, text: str, file: str) -> None:
        self.text, self.file = text, file
        self.lines: dict[Path, int] = {}
        self.duplicates: list[ValidationIssue] = []

    def line_at(self, pos: int) -> int:
        return self.text.count("\n", 0, pos) + 1

    def skip(self, pos: int) -> int:
        return _WHITESPACE.match(self.text, pos).end()

    def value(self, pos: int, path: Path) -> int:
        pos = self.skip(pos)
        self.lines[path] = self.line_at(pos)
        char = self.text[pos]
        if char == "{":
            return self.object(pos + 1, path)
        if char == "[":
            return self.array(pos + 1, path)
        if char == '"':
            return scanstring(self.text, pos + 1)[1]
        for literal in ("true", "false", "null"):
            if self.text.startswith(literal, pos):
                return pos + len(literal)
        return _NUMBER.match(self.text, pos).end()

    def object(self, pos: int, path: Path) -> int:
        seen: set[str] = set()
        pos = self.skip(pos)
        if self.text[pos] == "}":
            return pos + 1
        while True:
            pos = self.skip(pos)
            key, pos = scanstring(self.text, pos + 1)
            if key in seen:
                self.duplicates.append(ValidationIssue(
                    self.file, self.line_at(pos), json_path(path + (key,)),
                    f"key {key!r} appears more than once in this object; only one may stay"))
            seen.add(key)
            pos = self.skip(pos)  # now at ':'
            pos = self.skip(self.value(pos + 1, path + (key,)))
            if self.text[pos] == "}":
                return pos + 1
            pos += 1  # ','

    def array(self, pos: int, path: Path) -> int:
        pos = self.skip(pos)
        if self.text[pos] == "]":
            return pos + 1
        index = 0
        while True:
            pos = self.skip(self.value(pos, path + (index,)))
            if self.text[pos] == "]":
                return pos + 1
            pos, index = pos + 1, index + 1


def parse_json(text: str, file: str) -> Located:
    """Parse JSON text; a syntax error becomes one ValidationIssue with its line (raised as list)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SyntaxProblem(ValidationIssue(file, exc.lineno, "$", f"invalid JSON: {exc.msg} "
                                             f"(line {exc.lineno}, column {exc.colno})")) from exc
    scanner = _JsonScanner(text, file)
    scanner.value(0, ())
    return Located(file, data, scanner.lines, tuple(scanner.duplicates))


def parse_yaml(text: str, file: str) -> Located:
    """Parse YAML (safe subset) into plain values plus the line of every node."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise SyntaxProblem(ValidationIssue(file, line, "$", f"invalid YAML: {problem}")) from exc
    if node is None:
        return Located(file, None, {(): 1})
    lines: dict[Path, int] = {}
    duplicates: list[ValidationIssue] = []
    data = _yaml_value(node, (), lines, duplicates, file)
    return Located(file, data, lines, tuple(duplicates))


def _yaml_value(node: yaml.Node, path: Path, lines: dict[Path, int],
                duplicates: list[ValidationIssue], file: str) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            # Complex keys (a list as a key) are legal YAML but never valid here: keep them as text.
            key = _yaml_scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            if key in out:
                duplicates.append(ValidationIssue(
                    file, key_node.start_mark.line + 1, json_path(path + (str(key),)),
                    f"key {key!r} appears more than once in this mapping; only one may stay"))
            out[key] = _yaml_value(value_node, path + (str(key),), lines, duplicates, file)
            # A block mapping or list starts on the line below its key; people look for the key.
            lines[path + (str(key),)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_yaml_value(item, path + (i,), lines, duplicates, file) for i, item in enumerate(node.value)]
    return _yaml_scalar(node)


def _yaml_scalar(node: yaml.ScalarNode) -> Any:
    # A fresh loader per scalar resolves tags (int, bool, null, ...) exactly as safe_load would.
    return yaml.SafeLoader("").construct_object(node, deep=True)


class SyntaxProblem(Exception):
    """A file that does not parse at all; loaders turn it into ValidationFailed."""

    def __init__(self, issue: ValidationIssue) -> None:
        super().__init__(str(issue))
        self.issue = issue
