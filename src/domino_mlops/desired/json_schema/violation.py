"""A violation of a schema, shaped as jsonschema's ValidationError, with its wording."""

from __future__ import annotations

from typing import Any

Path = tuple[Any, ...]


class Violation:
    """One way an instance breaks a schema, with the fields of jsonschema's ValidationError that
    callers read: ``validator`` (the keyword), ``validator_value``, ``instance``, ``schema`` (the
    subschema holding the keyword), ``relative_path`` / ``relative_schema_path`` (from the root, or
    from the oneOf whose ``context`` holds this one), ``absolute_path``, ``message``."""

    __slots__ = ("validator", "validator_value", "instance", "schema", "relative_path",
                 "relative_schema_path", "context", "parent", "_detail")

    def __init__(self, keyword: str | None, value: Any, instance: Any, schema: Any, path: Path,
                 schema_path: Path, detail: Any = None, context: list[Violation] | None = None) -> None:
        self.validator, self.validator_value, self.instance, self.schema = keyword, value, instance, schema
        self.relative_path, self.relative_schema_path = path, schema_path
        self.context = context or []
        self.parent: Violation | None = None
        self._detail = detail
        for inner in self.context:
            inner.parent = self

    @property
    def path(self) -> Path:
        return self.relative_path

    @property
    def schema_path(self) -> Path:
        return self.relative_schema_path

    @property
    def absolute_path(self) -> Path:
        return self.relative_path if self.parent is None else self.parent.absolute_path + self.relative_path

    @property
    def absolute_schema_path(self) -> Path:
        if self.parent is None:
            return self.relative_schema_path
        return self.parent.absolute_schema_path + self.relative_schema_path

    @property
    def message(self) -> str:
        """jsonschema's wording, built only when read (a repr of a large value costs)."""
        return _message(self)

    def __repr__(self) -> str:
        return f"<Violation {self.validator} at {list(self.absolute_path)}: {self.message[:80]}>"


# jsonschema's wording: desired/schema_check.py shows some of these messages as they are.
def _message(error: Violation) -> str:
    x, value, detail = error.instance, error.validator_value, error._detail
    kind = error.validator
    if kind is None:
        return f"False schema does not allow {x!r}"
    if kind == "type":
        names = [value] if isinstance(value, str) else value
        return f"{x!r} is not of type {', '.join(repr(n) for n in names)}"
    if kind == "required":
        return f"{detail!r} is a required property"
    if kind == "additionalProperties":
        extras = sorted(detail, key=str)
        verb = "was" if len(extras) == 1 else "were"
        return f"Additional properties are not allowed ({', '.join(repr(e) for e in extras)} {verb} unexpected)"
    if kind == "oneOf":
        if detail is None:
            return f"{x!r} is not valid under any of the given schemas"
        return f"{x!r} is valid under each of {', '.join(repr(value[i]) for i in detail)}"
    short = {"minLength": "should be non-empty" if value == 1 else "is too short",
             "maxLength": "is expected to be empty" if value == 0 else "is too long",
             "minItems": "should be non-empty" if value == 1 else "is too short",
             "minProperties": "should be non-empty" if value == 1 else "does not have enough properties",
             "uniqueItems": "has non-unique elements"}
    if kind in short:
        return f"{x!r} {short[kind]}"
    if kind == "items":  # items: false
        return f"Expected at most 0 items but found {len(x)} extra: {x[0] if len(x) == 1 else x!r}"
    return {"pattern": lambda: f"{x!r} does not match {value!r}",
            "minimum": lambda: f"{x!r} is less than the minimum of {value!r}",
            "maximum": lambda: f"{x!r} is greater than the maximum of {value!r}",
            "exclusiveMinimum": lambda: f"{x!r} is less than or equal to the minimum of {value!r}",
            "enum": lambda: f"{x!r} is not one of {value!r}",
            "const": lambda: f"{value!r} was expected",
            "not": lambda: f"{x!r} should not be valid under {value!r}"}[kind]()
