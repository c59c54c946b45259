"""Hypothesis strategies built from the contract's JSON Schemas: payloads Domino may send.

Covers what the contract and the manifest schema use (type, properties, required, items, enum,
pattern, format, minimum/maximum, minItems/maxItems, additionalProperties, allOf/anyOf/oneOf,
if/then/else, $ref). Beyond what a schema requires, payloads carry what real answers carry:
- optional properties present or absent (``mode="minimal"``: none; ``"maximal"``: all);
- null wherever a schema allows it;
- unknown extra properties where a schema does not forbid them (newer Domino versions add fields);
- ``variants``: field names whose integer values also arrive as digit strings in field answers.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from typing import Any

from hypothesis import strategies as st

JSON_LEAF = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=8)
EXTRA_KEYS = st.text(string.ascii_letters, min_size=3, max_size=12).map(lambda k: "x" + k)


class SchemaStrategies:
    def __init__(self, defs: Mapping[str, Any], *, mode: str = "random", extras: bool = True) -> None:
        if mode not in ("random", "minimal", "maximal"):
            raise ValueError(mode)
        self.defs, self.mode, self.extras = defs, mode, extras

    def of(self, schema: Any) -> st.SearchStrategy[Any]:
        if schema is True or schema == {} or schema is None:
            return JSON_LEAF
        if "$ref" in schema:
            return self.of(self.defs[schema["$ref"].rsplit("/", 1)[-1]])
        if "allOf" in schema:
            return self.of(self._merged(schema))
        if "if" in schema:  # either branch: the "then" one as the "if" shapes it, or the "else" one
            base = {k: v for k, v in schema.items() if k not in ("if", "then", "else")}
            return st.one_of(self.of({**base, **schema["if"], **schema.get("then", {})}),
                             self.of({**base, **schema.get("else", {})}))
        for key in ("anyOf", "oneOf"):
            if key in schema:
                base = {k: v for k, v in schema.items() if k != key}
                return st.one_of([self.of({**base, **alt} if base else alt) for alt in schema[key]])
        if "enum" in schema:
            return st.sampled_from(schema["enum"])
        kinds = schema.get("type")
        if kinds is None:
            kinds = ["object"] if "properties" in schema or "required" in schema else None
        if kinds is None:
            return JSON_LEAF
        kinds = kinds if isinstance(kinds, list) else [kinds]
        return st.one_of([self._typed(kind, schema) for kind in kinds])

    def _typed(self, kind: str, schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
        if kind == "null":
            return st.none()
        if kind == "boolean":
            return st.booleans()
        if kind == "integer":
            return st.integers(schema.get("minimum", -2**31), schema.get("maximum", 2**31))
        if kind == "number":
            low, high = schema.get("minimum"), schema.get("maximum")
            return st.integers(int(low or -10**6), int(high or 10**6)) | st.floats(
                low if low is not None else -1e9, high if high is not None else 1e9, allow_nan=False)
        if kind == "string":
            return self._string(schema)
        if kind == "array":
            return st.lists(self.of(schema.get("items", {})), min_size=schema.get("minItems", 0),
                            max_size=max(schema.get("minItems", 0), min(schema.get("maxItems", 3), 3)))
        if kind == "object":
            return self._object(schema)
        raise ValueError(f"type {kind!r} is not supported")

    def _string(self, schema: Mapping[str, Any]) -> st.SearchStrategy[str]:
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        if schema.get("format") == "date-time":
            return st.datetimes(datetime(2000, 1, 1), datetime(2100, 1, 1)).map(
                lambda d: d.replace(tzinfo=timezone.utc).isoformat().replace("+00:00", "Z"))
        return st.text(min_size=schema.get("minLength", 0), max_size=max(schema.get("minLength", 0), 12))

    def _object(self, schema: Mapping[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
        properties: Mapping[str, Any] = schema.get("properties", {})
        # A required key the schema does not describe (it happens) takes any JSON value.
        fixed = {k: self.of(properties.get(k, {})) for k in schema.get("required", [])}
        optional = {k: self.of(v) for k, v in properties.items() if k not in fixed}
        extra = schema.get("additionalProperties", True)
        strategy = st.fixed_dictionaries(
            {**fixed, **(optional if self.mode == "maximal" else {})},
            optional=optional if self.mode == "random" else {})
        if extra is False or not self.extras or self.mode == "minimal":
            return strategy
        values = JSON_LEAF if extra is True else self.of(extra)
        keys = EXTRA_KEYS.filter(lambda k: k not in properties)
        return st.builds(lambda known, more: {**more, **known}, strategy,
                         st.dictionaries(keys, values, max_size=2))

    def _merged(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        """allOf of object schemas as one object schema (what the contract's allOf are)."""
        merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
        parts = [self._resolved(part) for part in schema["allOf"]] + [
            {k: v for k, v in schema.items() if k != "allOf"}]
        for part in parts:
            part = self._merged(part) if "allOf" in part else part
            merged["properties"].update(part.get("properties", {}))
            merged["required"] += [k for k in part.get("required", []) if k not in merged["required"]]
            if part.get("additionalProperties") is False:
                merged["additionalProperties"] = False
        return merged

    def _resolved(self, schema: Any) -> Any:
        while isinstance(schema, dict) and "$ref" in schema:
            schema = self.defs[schema["$ref"].rsplit("/", 1)[-1]]
        return schema


def with_variants(payload: Any, names: Iterable[str], draw_bool: Any) -> Any:
    """``payload`` with some integers under ``names`` turned into digit strings (field variants)."""
    names = frozenset(names)

    def walk(value: Any, key: str | None) -> Any:
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, key) for v in value]
        if key in names and isinstance(value, int) and not isinstance(value, bool) and value >= 0 and draw_bool():
            return str(value)
        return value

    return walk(payload, None)
