"""Request bodies generated from the contract's schemas, to test the 400s without hand-listing them.

``sample(schema)`` builds the smallest body a schema accepts (required properties only, the
first allowed type or enum value, 24-hex where the pattern asks for it). ``broken(route)`` then
derives every body the contract must refuse: one per required property left out (at any depth
the sample reaches) and one per property given a value of the wrong JSON type.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from domino_emulator.contract import Contract, ContractRoute

_WRONG = (12345, "not-the-type", True, ["not-the-type"], {"not": "the type"})  # one value per JSON type
HEX24 = "^[0-9a-f]{24}$"


@dataclass(frozen=True)
class Broken:
    """A body the contract refuses: which route, what was done to it, and the body itself."""

    route: ContractRoute
    change: str  # e.g. "missing $.version.projectId" or "wrong type $.isAsync"
    body: Any

    @property
    def id(self) -> str:
        return f"{self.route.key} {self.change}"


class Generator:
    def __init__(self, contract: Contract) -> None:
        self.contract = contract

    def resolve(self, schema: Any) -> Any:
        while isinstance(schema, dict) and "$ref" in schema:
            schema = self.contract.defs[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    def sample(self, schema: Any) -> Any:
        schema = self.resolve(schema)
        if not isinstance(schema, dict) or not schema:
            return "x"  # any value will do
        if "enum" in schema:
            return next(v for v in schema["enum"] if v is not None)
        for key in ("anyOf", "oneOf"):
            if key in schema and "properties" not in schema:
                options = [o for o in schema[key] if self.resolve(o).get("type") != "null"]
                return self.sample(options[0])
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                merged.update(self.sample(part))
            return merged
        kind = schema.get("type")
        kinds = [k for k in (kind if isinstance(kind, list) else [kind]) if k not in (None, "null")]
        kind = kinds[0] if kinds else ("object" if "properties" in schema else None)
        if kind == "object":
            props = schema.get("properties", {})
            return {name: self.sample(props.get(name, {})) for name in self.required(schema)}
        if kind == "array":
            return [self.sample(schema.get("items", {})) for _ in range(schema.get("minItems", 0))]
        if kind == "string":
            return "0" * 24 if schema.get("pattern") == HEX24 else (
                "2026-01-01T00:00:00.000Z" if schema.get("format") == "date-time" else "x")
        return {"integer": 1, "number": 1.5, "boolean": False}.get(kind, "x")

    def required(self, schema: dict[str, Any]) -> list[str]:
        """Required names, counting the first branch of an object-level anyOf (``data`` or ``parameters``)."""
        names = list(schema.get("required", []))
        branches = schema.get("anyOf") or schema.get("oneOf") or []
        if "properties" in schema and branches:
            names += [n for n in branches[0].get("required", []) if n not in names]
        return names

    def valid_body(self, route: ContractRoute) -> Any:
        return self.sample(route.request["schema"])

    def broken(self, route: ContractRoute) -> Iterator[Broken]:
        """Every refused body of ``route``: the whole body missing or of the wrong type, each
        required property missing, each property (at any depth the sample reaches, and each
        optional top-level one) of a wrong type."""
        schema = route.request["schema"]
        base = self.valid_body(route)
        if route.request.get("required"):
            yield Broken(route, "no body", None)
        yield Broken(route, "wrong type $", ["not", "an", "object"])
        for path, node_schema in self._objects(schema, base, ()):
            node = _at(base, path)
            for name in self.required(node_schema):
                if name in node:
                    body = copy.deepcopy(base)
                    del _at(body, path)[name]
                    yield Broken(route, f"missing {_show(path + (name,))}", body)
            props = node_schema.get("properties", {})
            names = list(node) + ([n for n in props if n not in node] if not path else [])
            for name in names:
                wrong = self._wrong(props.get(name, {}), node.get(name))
                if wrong is not _NOTHING:
                    body = copy.deepcopy(base)
                    _at(body, path)[name] = wrong
                    yield Broken(route, f"wrong type {_show(path + (name,))}", body)

    def _objects(self, schema: Any, value: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], dict]]:
        """(path, schema) of every object in ``value`` that the schema describes with properties."""
        schema = self.resolve(schema)
        if not isinstance(value, dict) or not isinstance(schema, dict):
            return
        if "properties" not in schema:
            options = schema.get("anyOf") or schema.get("oneOf") or []
            schema = next((self.resolve(o) for o in options if "properties" in self.resolve(o)), schema)
        if "properties" not in schema:
            return
        yield path, schema
        for name, sub in schema["properties"].items():
            if name in value:
                yield from self._objects(sub, value[name], path + (name,))

    def _wrong(self, schema: Any, current: Any) -> Any:
        """A value of another JSON type than ``current`` that the schema refuses (none for "any")."""
        validator = self.contract.validator(schema)
        for candidate in _WRONG:
            if type(candidate) is not type(current) and not validator.is_valid(candidate):
                return candidate
        return _NOTHING


_NOTHING = object()


def _at(value: Any, path: tuple[str, ...]) -> Any:
    for name in path:
        value = value[name]
    return value


def _show(path: tuple[str, ...]) -> str:
    return "$" + "".join(f".{p}" for p in path)
