"""A small evaluator of GitHub Actions expressions (`${{ ... }}`), for the forms our workflows use.

act does not implement concurrency groups, so tests evaluate the real `concurrency.group` values of
the workflows themselves. This covers what those use and fails loudly on anything else, so a new
form in a workflow cannot be silently misread:

- contexts given by the caller (`github`, `inputs`, `matrix`, `needs`, ...); a missing property is
  null, as on GitHub;
- property access `a.b`, index `a[0]` / `a['b']`;
- literals: 'strings' ('' escapes a quote), numbers, true, false, null;
- `!`, `&&`, `||` (they return an operand, not a boolean, as on GitHub), parentheses;
- functions fromJSON, toJSON, format.

Semantics follow "Evaluate expressions in workflows and actions" (docs.github.com): falsy values are
null, false, 0, -0, '' and NaN; `a || b` is a when a is truthy, else b; `a && b` is a when a is
falsy, else b. Interpolated into a string, null is '' and booleans are 'true' / 'false'.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

_TOKEN = re.compile(r"""\s*(?:
    (?P<string>'(?:[^']|'')*')
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<op>\|\||&&|!=|==|[!().,\[\]])
  | (?P<name>[A-Za-z_][A-Za-z0-9_-]*)
)""", re.X)
_EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)
_KEYWORDS = {"true": True, "false": False, "null": None}


class UnsupportedExpression(ValueError):
    """A form this evaluator does not know: extend it on purpose, never guess."""


def truthy(value: Any) -> bool:
    if value is None or value is False or value == "":
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return not (value == 0 or math.isnan(value))
    return True


def to_string(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (str, int, float)):
        return str(value)
    raise UnsupportedExpression(f"cannot put {type(value).__name__} {value!r} into a string")


def _format(template: Any, *args: Any) -> str:
    def replace(match: re.Match[str]) -> str:
        if match[0] in ("{{", "}}"):
            return match[0][0]
        return to_string(args[int(match[1])])
    return re.sub(r"\{\{|\}\}|\{(\d+)\}", replace, to_string(template))


_FUNCTIONS = {
    "fromjson": lambda text: json.loads(to_string(text)),
    "tojson": lambda value: json.dumps(value, indent=2),
    "format": _format,
}


class _Parser:
    def __init__(self, text: str, contexts: Mapping[str, Any]) -> None:
        self.text, self.contexts = text, contexts
        self.tokens = self._tokenize(text)
        self.at = 0

    def _tokenize(self, text: str) -> list[tuple[str, str]]:
        tokens, position = [], 0
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None or match.end() == position:
                if text[position:].strip() == "":
                    break
                raise UnsupportedExpression(f"cannot read {text[position:]!r} in {text!r}")
            kind = match.lastgroup
            tokens.append((kind, match[kind]))
            position = match.end()
        return tokens

    def peek(self) -> str | None:
        return self.tokens[self.at][1] if self.at < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.at >= len(self.tokens):
            raise UnsupportedExpression(f"{self.text!r} ends too early")
        token = self.tokens[self.at]
        if expected is not None and token[1] != expected:
            raise UnsupportedExpression(f"expected {expected!r}, found {token[1]!r} in {self.text!r}")
        self.at += 1
        return token

    def parse(self) -> Any:
        value = self.or_()
        if self.at != len(self.tokens):
            raise UnsupportedExpression(f"unexpected {self.peek()!r} in {self.text!r}")
        return value

    def or_(self) -> Any:
        value = self.and_()
        while self.peek() == "||":
            self.take()
            right = self.and_()
            value = value if truthy(value) else right
        return value

    def and_(self) -> Any:
        value = self.unary()
        while self.peek() == "&&":
            self.take()
            right = self.unary()
            value = right if truthy(value) else value
        return value

    def unary(self) -> Any:
        if self.peek() == "!":
            self.take()
            return not truthy(self.unary())
        if self.peek() in ("==", "!="):
            raise UnsupportedExpression(f"comparisons are not supported here: {self.text!r}")
        return self.postfix(self.primary())

    def primary(self) -> Any:
        kind, token = self.take()
        if kind == "string":
            return token[1:-1].replace("''", "'")
        if kind == "number":
            return float(token) if "." in token else int(token)
        if token == "(":
            value = self.or_()
            self.take(")")
            return value
        if kind != "name":
            raise UnsupportedExpression(f"unexpected {token!r} in {self.text!r}")
        if token in _KEYWORDS:
            return _KEYWORDS[token]
        if self.peek() == "(":
            return self.call(token)
        if token not in self.contexts:
            raise UnsupportedExpression(f"context {token!r} is not given (have: {', '.join(sorted(self.contexts))})")
        return self.contexts[token]

    def call(self, name: str) -> Any:
        function = _FUNCTIONS.get(name.lower())
        if function is None:
            raise UnsupportedExpression(f"function {name}() is not supported: {self.text!r}")
        self.take("(")
        args = []
        while self.peek() != ")":
            args.append(self.or_())
            if self.peek() == ",":
                self.take()
        self.take(")")
        return function(*args)

    def postfix(self, value: Any) -> Any:
        while self.peek() in (".", "["):
            if self.take()[1] == ".":
                kind, key = self.take()
                if kind != "name":
                    raise UnsupportedExpression(f"expected a property name after '.', found {key!r}")
            else:
                key = self.or_()
                self.take("]")
            value = _property(value, key)
        return value


def _property(value: Any, key: Any) -> Any:
    if isinstance(value, Mapping):
        return value.get(to_string(key))
    if isinstance(value, list) and isinstance(key, (int, float)) and not isinstance(key, bool):
        index = int(key)
        return value[index] if 0 <= index < len(value) else None
    return None


def evaluate(expression: str, contexts: Mapping[str, Any]) -> Any:
    """The value of one expression (the text between `${{` and `}}`)."""
    return _Parser(expression, contexts).parse()


def interpolate(template: str, contexts: Mapping[str, Any]) -> str:
    """A workflow string with every `${{ ... }}` replaced by its value."""
    if "${{" in _EXPRESSION.sub("", template):
        raise UnsupportedExpression(f"an unclosed expression in {template!r}")
    return _EXPRESSION.sub(lambda m: to_string(evaluate(m[1], contexts)), template)
