"""Read a JSON answer field by field; any surprise becomes BadResponse naming endpoint and path.

The `from_api` constructors in domino_types use this instead of ``payload["id"]``, so a
missing field or a list where an object belongs says ``$.items[2].id is missing`` for
``GET /api/modelServing/v1/modelApis`` instead of raising KeyError three layers away.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from domino_mlops.errors import BadResponse

T = TypeVar("T")

SERVICE = "Domino"
_MISSING = object()


def kind(value: object) -> str:
    """JSON's name for a Python value, for messages: 'a list', 'null', 'a string'."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def bad(endpoint: str, problem: str) -> BadResponse:
    return BadResponse(SERVICE, endpoint, problem)


class Fields:
    """A JSON object under reading. ``req_*`` raise when a field is missing or null;
    ``opt_*`` return the default for missing or null, and raise only on a wrong type."""

    __slots__ = ("_data", "endpoint", "path")

    def __init__(self, payload: object, endpoint: str, path: str = "$") -> None:
        if not isinstance(payload, dict):
            raise bad(endpoint, f"{path} should be an object, got {kind(payload)}")
        self._data: dict[str, Any] = payload
        self.endpoint, self.path = endpoint, path

    def present(self, key: str) -> bool:
        """True when the key is there, even with a null value."""
        return key in self._data

    def raw(self, key: str, default: Any = None) -> Any:
        """A value whose shape is not ours to judge (a model's prediction, for one)."""
        return self._data.get(key, default)

    def req_str(self, key: str) -> str:
        return cast(str, self._typed(key, str, "a string", required=True))

    def opt_str(self, key: str, default: str | None = None) -> str | None:
        return cast("str | None", self._typed(key, str, "a string", default=default))

    def req_int(self, key: str) -> int:
        return cast(int, self._typed(key, int, "an integer", required=True))

    def opt_int(self, key: str, default: int | None = None) -> int | None:
        return cast("int | None", self._typed(key, int, "an integer", default=default))

    def opt_number(self, key: str, default: float | None = None) -> float | None:
        value = self._typed(key, (int, float), "a number", default=default)
        return None if value is None else float(value)

    def opt_time(self, key: str) -> int | str | None:
        """A timestamp: epoch milliseconds (Domino's usual) or an ISO 8601 string, kept as sent."""
        return cast("int | str | None", self._typed(key, (int, str), "epoch milliseconds or a date string"))

    def opt_bool(self, key: str, default: bool = False) -> bool:
        return cast(bool, self._typed(key, bool, "a boolean", default=default))

    def req_obj(self, key: str) -> Fields:
        return Fields(self._typed(key, dict, "an object", required=True), self.endpoint, self._at(key))

    def opt_obj(self, key: str) -> Fields | None:
        value = self._typed(key, dict, "an object")
        return None if value is None else Fields(value, self.endpoint, self._at(key))

    def req_parse(self, key: str, parser: Callable[..., T]) -> T:
        """Parse a required nested object with another type's ``from_api``."""
        return parser(self._typed(key, dict, "an object", required=True), self.endpoint, path=self._at(key))

    def opt_parse(self, key: str, parser: Callable[..., T]) -> T | None:
        value = self._typed(key, dict, "an object")
        return None if value is None else parser(value, self.endpoint, path=self._at(key))

    def parse_items(self, key: str, parser: Callable[..., T], *, required: bool = False) -> tuple[T, ...]:
        """A list of objects, each parsed with another type's ``from_api`` at its own path."""
        items = self.req_list(key) if required else self.opt_list(key)
        return tuple(parser(item, self.endpoint, path=f"{self._at(key)}[{i}]") for i, item in enumerate(items))

    def req_list(self, key: str) -> tuple[Any, ...]:
        return tuple(self._typed(key, list, "a list", required=True))

    def opt_list(self, key: str) -> tuple[Any, ...]:
        return tuple(self._typed(key, list, "a list", default=[]))

    def str_list(self, key: str) -> tuple[str, ...]:
        """A list of strings (a version's labels); missing or null is empty."""
        value = self._typed(key, list, "a list", default=[])
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise bad(self.endpoint, f"{self._at(key)}[{i}] should be a string, got {kind(item)}")
        return tuple(value)

    def opt_version_number(self, key: str) -> int | None:
        """A version number: an integer in Domino's schemas, a digit string in some field answers."""
        value = self._typed(key, (int, str), "a version number")
        if isinstance(value, str):
            if not value.strip().isdigit():
                raise bad(self.endpoint, f"{self._at(key)} should be a version number, got {value!r}")
            return int(value)
        return value

    def at(self, key: str) -> str:
        """The JSON path of a field, for building item paths: $.items."""
        return self._at(key)

    def _at(self, key: str) -> str:
        return f"{self.path}.{key}"

    def _typed(self, key: str, types: type | tuple[type, ...], name: str, *, required: bool = False,
               default: Any = None) -> Any:
        value = self._data.get(key, _MISSING)
        if value is _MISSING or value is None:
            if required:
                state = "missing" if value is _MISSING else "null"
                raise bad(self.endpoint, f"{self._at(key)} is {state}")
            return default
        # bool is an int in Python, never in JSON: refuse true where a number belongs.
        if not isinstance(value, types) or (isinstance(value, bool) and types is not bool):
            raise bad(self.endpoint, f"{self._at(key)} should be {name}, got {kind(value)}")
        return value


def items_of(payload: object, endpoint: str, key: str) -> tuple[tuple[Any, ...], str]:
    """The list in ``{key: [...]}``, or a bare list; with the JSON path of its items."""
    if isinstance(payload, list):
        return tuple(payload), "$"
    fields = Fields(payload, endpoint)
    return fields.req_list(key), fields.at(key)


def without_nulls(body: dict[str, object]) -> dict[str, object]:
    """A request body with its optional keys left out rather than sent as null
    (docs/CONTRACT_DECISIONS.md)."""
    return {key: value for key, value in body.items() if value is not None}
