"""Request-body checks that report every problem at once, as a 400 with one error per field."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domino_mlops.emulator.web import bad_request

_MISSING = object()


class Fields:
    def __init__(self, data: Any, where: str, errors: list[str] | None = None) -> None:
        self.where = where
        self.errors = [] if errors is None else errors
        self.data: dict[str, Any] = data if isinstance(data, dict) else {}
        if not isinstance(data, dict):
            self.errors.append(f"{where} must be an object")

    def value(self, key: str, *, required: bool = True) -> Any:
        found = self.data.get(key, _MISSING)
        if found is _MISSING or found is None:
            if required:
                self.errors.append(f"{self.where}.{key} is required")
            return None
        return found

    def _typed(self, key: str, kinds: type | tuple[type, ...], label: str, required: bool) -> Any:
        found = self.value(key, required=required)
        if found is None:
            return None
        # bool is an int in Python, never in JSON: keep them apart.
        if not isinstance(found, kinds) or (isinstance(found, bool) and bool not in _as_tuple(kinds)):
            self.errors.append(f"{self.where}.{key} must be {label}")
            return None
        return found

    def string(self, key: str, *, required: bool = True) -> str:
        return self._typed(key, str, "a string", required) or ""

    def boolean(self, key: str, *, required: bool = True) -> bool | None:
        return self._typed(key, bool, "true or false", required)

    def integer(self, key: str, *, required: bool = True, minimum: int | None = None) -> int | None:
        found = self._typed(key, int, "an integer", required)
        if found is not None and minimum is not None and found < minimum:
            self.errors.append(f"{self.where}.{key} must be at least {minimum}")
            return None
        return found

    def mapping(self, key: str, *, required: bool = True) -> dict[str, Any] | None:
        return self._typed(key, dict, "an object", required)

    def array(self, key: str, *, required: bool = True) -> list[Any] | None:
        return self._typed(key, list, "a list", required)

    def choice(self, key: str, options: Sequence[str]) -> str:
        found = self.string(key)
        if found and found not in options:
            self.errors.append(f"{self.where}.{key} must be one of {', '.join(options)}")
        return found

    def child(self, key: str, *, required: bool = True) -> Fields | None:
        """The nested object at ``key``, reporting into the same error list."""
        found = self.value(key, required=required)
        if found is None:
            return None
        return Fields(found, f"{self.where}.{key}", self.errors)

    def done(self) -> None:
        if self.errors:
            raise bad_request(f"invalid {self.where.split('.')[0]}: {self.errors[0]}", self.errors)


def _as_tuple(kinds: type | tuple[type, ...]) -> tuple[type, ...]:
    return kinds if isinstance(kinds, tuple) else (kinds,)
