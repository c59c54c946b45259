"""Parse JSON and YAML while remembering the line of every value, so errors can say file:line.

Neither `json` nor PyYAML's safe_load keep positions. For JSON we first let `json` judge the
syntax (its messages are good), then walk the text once more with a tiny scanner that records
where each value starts and which object keys repeat (JSON allows duplicates; we do not). For
YAML (desired/locate_yaml.py) we compose the node tree, which carries marks, and build plain
Python values from it.

Both stay inside desired/limits.py: before `json` sees the text, one cheap pass over its
strings and brackets refuses deep nesting (json and the scanner recurse per level) and more
values than any manifest has (each value costs memory in the document and in its line table).
"""

from __future__ import annotations

import json
import re
from json.decoder import scanstring

from domino_mlops.desired.limits import ENVIRONMENTS, MANIFEST, Limits
# The values both halves use live apart, so the YAML half imports them without a cycle.
from domino_mlops.desired.located import Located, Path, SyntaxProblem, json_path, max_int_digits
from domino_mlops.errors import ValidationIssue

_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?")
_WHITESPACE = re.compile(r"[ \t\n\r]*")
# What the pre-scan looks at: whole strings (so brackets inside them do not count), brackets, commas.
_STRUCTURE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},]')
_NON_FINITE = ("NaN", "Infinity", "-Infinity")  # Python's json reads them; JSON (RFC 8259) has none


class _JsonScanner:
    """Walks syntactically valid JSON text, recording each value's line and repeated keys."""

    def __init__(self, text: str, file: str) -> None:
        self.text, self.file = text, file
        self.lines: dict[Path, int] = {}
        self.duplicates: list[ValidationIssue] = []
        self._counted, self._line = 0, 1  # newlines before offset _counted

    def line_at(self, pos: int) -> int:
        # The walk only moves forward: count from where the last call stopped, not from the start
        # (from the start, a 1 MB one-line file with 100,000 values costs 10**11 steps).
        if pos >= self._counted:
            self._line += self.text.count("\n", self._counted, pos)
            self._counted = pos
            return self._line
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
        for literal in _NON_FINITE:
            if self.text.startswith(literal, pos):
                raise SyntaxProblem(ValidationIssue(self.file, self.line_at(pos), json_path(path),
                                                    f"{literal} is not valid JSON; write a number"))
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


def parse_json(text: str, file: str, limits: Limits = MANIFEST) -> Located:
    """Parse JSON text; a syntax error becomes one ValidationIssue with its line (SyntaxProblem)."""
    _check_structure(text, file, limits)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SyntaxProblem(ValidationIssue(file, exc.lineno, "$", f"invalid JSON: {exc.msg} "
                                             f"(line {exc.lineno}, column {exc.colno})")) from exc
    except ValueError as exc:  # int() refuses numbers longer than max_int_digits()
        long_number = re.search(r"\d{%d}" % (max_int_digits() + 1), text)
        line = text.count("\n", 0, long_number.start()) + 1 if long_number else None
        raise SyntaxProblem(ValidationIssue(file, line, "$", "a number has more digits than Python reads "
                                            f"({max_int_digits()}); shorten it")) from exc
    scanner = _JsonScanner(text, file)
    scanner.value(0, ())
    return Located(file, data, scanner.lines, tuple(scanner.duplicates))


def _check_structure(text: str, file: str, limits: Limits) -> None:
    """Refuse nesting deeper than limits.max_depth and more than limits.max_values values, with
    the line where the limit was crossed. Syntax is json's to judge; stray closers end the scan."""
    depth, values = 0, 1
    for tokens, match in enumerate(_STRUCTURE.finditer(text)):
        token = match.group()
        if token in "[{":
            depth, values = depth + 1, values + 1
            if depth > limits.max_depth:
                raise _limit_problem(file, text, match.start(),
                                     f"nested more than {limits.max_depth} levels deep; no valid file is")
        elif token in "]}":
            depth -= 1
            if depth < 0:
                return  # invalid JSON: json.loads says where
        elif token == ",":
            values += 1
        # A value costs at most three tokens (key, value, comma); more tokens is a flood of
        # strings or commas, which must not cost an unbounded loop either.
        if values > limits.max_values or tokens > 3 * limits.max_values:
            raise _limit_problem(file, text, match.start(),
                                 f"more than {limits.max_values} values; no valid file has that many")


def _limit_problem(file: str, text: str, pos: int, message: str) -> SyntaxProblem:
    return SyntaxProblem(ValidationIssue(file, text.count("\n", 0, pos) + 1, "$", message))


def parse_yaml(text: str, file: str, limits: Limits = ENVIRONMENTS) -> Located:
    """Parse YAML (safe subset, merge keys included) into plain values plus the line of every node."""
    from domino_mlops.desired.locate_yaml import parse  # the YAML half lives in its own module

    return parse(text, file, limits)


__all__ = ["Located", "Path", "SyntaxProblem", "json_path", "max_int_digits", "parse_json", "parse_yaml"]
