"""Python values as JSON Schema sees them: a bool is no number, 1.0 is an integer, 1 == 1.0."""

from __future__ import annotations

from collections.abc import Callable
from numbers import Number
from typing import Any

Valid = Callable[[Any], bool]


def is_number(x: Any) -> bool:
    kind = type(x)
    if kind is int or kind is float:
        return True
    return not isinstance(x, bool) and isinstance(x, Number)


def is_integer(x: Any) -> bool:
    kind = type(x)
    if kind is int:
        return True
    if kind is float:
        return x.is_integer()
    if isinstance(x, bool):
        return False
    return isinstance(x, int) or (isinstance(x, float) and x.is_integer())


TYPE_CHECKS: dict[str, Valid] = {
    "null": lambda x: x is None,
    "boolean": lambda x: x is True or x is False,
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "number": is_number,
    "string": lambda x: isinstance(x, str),
    "integer": is_integer,
}
# Which kind of instance a keyword looks at; it passes any other kind (JSON Schema's rule).
STRING, NUMBER, ARRAY, OBJECT = "string", "number", "array", "object"


def canonical(value: Any) -> Any:
    """A hashable form equal exactly when JSON Schema calls two values equal (1 == 1.0, true != 1)."""
    if isinstance(value, bool) or value is None:
        return ("literal", value)
    if isinstance(value, (int, float)):
        return ("number", value)
    if isinstance(value, list):
        return ("list", tuple(canonical(item) for item in value))
    if isinstance(value, dict):
        return ("object", frozenset((k, canonical(v)) for k, v in value.items()))
    return ("other", value)
