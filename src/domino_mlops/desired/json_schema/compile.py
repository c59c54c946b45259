"""A schema compiled once: every subschema to a node, refusing what keywords.py does not implement."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from domino_mlops.desired.json_schema.keywords import KEYWORDS, TRUE, Errors, Late, Node, all_of, always, false_node
from domino_mlops.desired.json_schema.values import ARRAY, NUMBER, OBJECT, STRING, TYPE_CHECKS, Valid, is_number
from domino_mlops.desired.json_schema.violation import Path, Violation

DIALECT = "https://json-schema.org/draft/2020-12/schema"
# Keywords that only describe: read by people, editors and schema_check's messages, never checked.
# "x-..." keywords are ours (x-form: the form of a value in words) and describe too.
ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "default", "examples"})


class SchemaRefused(Exception):
    """A schema this validator cannot check exactly (an unknown keyword, a malformed value, a $ref
    it cannot resolve, a pattern outside the ECMA-262 subset): refused when it is compiled."""

    def __init__(self, schema_name: str, where: Path, problem: str) -> None:
        pointer = "#" + "".join(f"/{part}" for part in where)
        super().__init__(f"schema {schema_name} at {pointer}: {problem}")


class Validator:
    """A schema compiled once. ``iter_errors`` yields every violation lazily, in a fixed order: the
    schema's keyword order, then the instance's (jsonschema's, except that it visits the values of
    an additionalProperties schema in a set's order)."""

    def __init__(self, schema: dict[str, Any], name: str = "schema") -> None:
        self.schema = schema
        self._root = Compiler(schema, name).root()

    def is_valid(self, instance: Any) -> bool:
        return self._root.valid(instance)

    def iter_errors(self, instance: Any) -> Iterator[Violation]:
        if not self._root.valid(instance):
            yield from self._root.errors(instance, (), ())


class Compiler:  # keywords.Compiler is what keywords.py asks of it
    """Walks one schema once, refusing what it cannot check, caching each $defs entry's node."""

    def __init__(self, schema: Any, name: str) -> None:
        self.schema, self.name = schema, name
        self.defs: dict[str, Any] = {}
        self.compiled: dict[Path, Node] = {}  # by place: a keyword and the one-pass object check share it
        self.done: dict[str, Node] = {}
        self.pending: dict[str, Late] = {}

    def refuse(self, where: Path, problem: str) -> SchemaRefused:
        return SchemaRefused(self.name, where, problem)

    def root(self) -> Node:
        schema = self.schema
        if not isinstance(schema, dict):
            raise self.refuse((), "a schema file must hold an object")
        if schema.get("$schema", DIALECT) != DIALECT:
            raise self.refuse(("$schema",), f"only Draft 2020-12 ({DIALECT}) is implemented")
        defs = schema.get("$defs", {})
        if not isinstance(defs, dict):
            raise self.refuse(("$defs",), "$defs must be an object")
        self.defs = defs
        node = self.node(schema, ())
        for name in defs:  # refused now even if nothing refers to it yet
            self.ref_node(name)
        return node

    def ref_node(self, name: str) -> Node:
        if name in self.done:
            return self.done[name]
        if name in self.pending:
            return self.pending[name]
        late = self.pending[name] = Late()
        node = self.node(self.defs[name], ("$defs", name))
        late.target = self.done[name] = node
        del self.pending[name]
        return node

    def node(self, schema: Any, where: Path) -> Node:
        if schema is True:
            return TRUE
        if schema is False:
            return false_node(schema)
        if not isinstance(schema, dict):
            raise self.refuse(where, f"a schema must be an object or a boolean, not {schema!r}")
        for key in schema:
            if key not in KEYWORDS and key not in ANNOTATIONS and not key.startswith("x-"):
                raise self.refuse(where + (key,), f"keyword {key!r} is not implemented by "
                                  "domino_mlops/desired/json_schema/keywords.py: implement it there (and test it) "
                                  "or leave it out of the schema")
        if where and ("$schema" in schema or "$id" in schema or "$defs" in schema):
            key = next(k for k in ("$schema", "$id", "$defs") if k in schema)
            raise self.refuse(where + (key,), f"{key} is implemented at the schema's root only")
        if ("then" in schema or "else" in schema) and "if" not in schema:
            raise self.refuse(where, "then/else without if: JSON Schema ignores them, which is never meant")
        by_kind: dict[str, list[Valid]] = {STRING: [], NUMBER: [], ARRAY: [], OBJECT: []}
        general: list[Valid] = []
        checkers: list[Errors] = []
        type_check: Valid | None = None
        if "type" in schema:
            type_check = self.type_check(schema["type"], where + ("type",))
        for key, value in schema.items():
            build = KEYWORDS.get(key)
            if build is None:
                continue
            compiled = build(self, value, schema, where + (key,))
            if compiled is None:  # handled by another keyword (then/else by if)
                continue
            kind, valid, errors = compiled
            if valid is not None:
                (by_kind[kind] if kind else general).append(valid)
            checkers.append(errors)
        object_check = self.object_check(schema, where)
        if object_check is not None:
            by_kind[OBJECT].append(object_check)
        return Node(_combine(type_check, schema.get("type"), by_kind, general), _errors_in_order(checkers))

    # -- keyword values, checked when compiled --------------------------------------------------

    def type_check(self, value: Any, where: Path) -> Valid:
        names = value if isinstance(value, list) else [value]
        if not names or any(n not in TYPE_CHECKS for n in names) or len(set(names)) != len(names):
            raise self.refuse(where, f"type must be one of {', '.join(TYPE_CHECKS)} or a list of them")
        checks = tuple(TYPE_CHECKS[n] for n in names)
        if len(checks) == 1:
            return checks[0]
        return lambda x: any(check(x) for check in checks)

    def count(self, value: Any, where: Path) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.refuse(where, "must be a non-negative integer")
        return value

    def number(self, value: Any, where: Path) -> Any:
        if not is_number(value):
            raise self.refuse(where, "must be a number")
        return value

    def subschema(self, value: Any, where: Path) -> Node:
        node = self.compiled.get(where)
        if node is None:
            node = self.compiled[where] = self.node(value, where)
        return node

    def object_check(self, schema: dict[str, Any], where: Path) -> Valid | None:
        """properties, additionalProperties and propertyNames as one pass over the instance's keys."""
        if not any(k in schema for k in ("properties", "additionalProperties", "propertyNames")):
            return None
        props = {name: self.subschema(sub, where + ("properties", name)).valid
                 for name, sub in schema.get("properties", {}).items()}
        extra = schema.get("additionalProperties", True)
        extra_valid = None if extra is True else self.subschema(extra, where + ("additionalProperties",)).valid
        names = schema.get("propertyNames", True)
        names_valid = None if names is True else self.subschema(names, where + ("propertyNames",)).valid
        missing = object()

        def valid(x: dict[Any, Any]) -> bool:
            for key, item in x.items():
                if names_valid is not None and not names_valid(key):
                    return False
                check = props.get(key, missing)
                if check is missing:
                    if extra_valid is not None and not extra_valid(item):
                        return False
                elif not check(item):  # type: ignore[operator]
                    return False
            return True
        return valid


def _combine(type_check: Valid | None, types: Any, by_kind: dict[str, list[Valid]], general: list[Valid]) -> Valid:
    """A subschema's predicate: its type, then the keywords of the instance's kind, then the rest."""
    kinds = {k: all_of(v) for k, v in by_kind.items() if v}
    rest = all_of(general) if general else None
    if type_check is None and not kinds:  # e.g. a lone $ref, or an annotation only
        return rest or always
    if isinstance(types, str):  # one type: only that kind's keywords can apply after it
        kind = NUMBER if types in ("integer", "number") else types
        parts = [type_check] + ([kinds[kind]] if kind in kinds else []) + ([rest] if rest else [])
        return all_of(parts)  # type: ignore[arg-type]
    string, number, array, obj = (kinds.get(k) for k in (STRING, NUMBER, ARRAY, OBJECT))

    def valid(x: Any) -> bool:
        if type_check is not None and not type_check(x):
            return False
        if isinstance(x, str):
            if string is not None and not string(x):
                return False
        elif isinstance(x, dict):
            if obj is not None and not obj(x):
                return False
        elif isinstance(x, list):
            if array is not None and not array(x):
                return False
        elif number is not None and is_number(x) and not number(x):
            return False
        return rest is None or rest(x)
    return valid


def _errors_in_order(checkers: list[Errors]) -> Errors:
    frozen = tuple(checkers)

    def errors(x: Any, path: Path, spath: Path) -> Iterator[Violation]:
        for checker in frozen:
            yield from checker(x, path, spath)
    return errors
