"""The keywords: each compiled once into a predicate (fast, no allocation) and an errors function
(the violations of a value the predicate refused, lazily, in jsonschema's order and shape)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, Protocol

from domino_mlops.desired.json_schema.ecma_regex import RegexRefused, compile_ecma
from domino_mlops.desired.json_schema.values import (ARRAY, NUMBER, OBJECT, STRING, TYPE_CHECKS, Valid, canonical,
                                                      is_number)
from domino_mlops.desired.json_schema.violation import Path, Violation

Errors = Callable[[Any, Path, Path], Iterator[Violation]]


class Compiler(Protocol):
    """What a keyword asks of the compiler (compile.py): its subschemas compiled, its value checked."""

    defs: dict[str, Any]

    def refuse(self, where: Path, problem: str) -> Exception: ...
    def subschema(self, value: Any, where: Path) -> Node: ...
    def ref_node(self, name: str) -> Node: ...
    def type_check(self, value: Any, where: Path) -> Valid: ...
    def count(self, value: Any, where: Path) -> int: ...
    def number(self, value: Any, where: Path) -> Any: ...


def always(x: Any) -> bool:
    return True


def never(x: Any) -> bool:
    return False


def no_errors(x: Any, path: Path, spath: Path) -> Iterator[Violation]:
    return iter(())


def all_of(checks: list[Valid]) -> Valid:
    """One predicate for several (a call each, no allocation)."""
    if not checks:
        return always
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda x: first(x) and second(x)
    frozen = tuple(checks)

    def every(x: Any) -> bool:
        for check in frozen:
            if not check(x):
                return False
        return True
    return every


class Node:
    """A compiled subschema: ``valid`` answers fast; ``errors`` says why, for an invalid value."""

    __slots__ = ("valid", "errors")

    def __init__(self, valid: Valid, errors: Errors) -> None:
        self.valid, self.errors = valid, errors


class Late(Node):
    """A $ref to a subschema still being compiled (a cycle): bound when that one is done."""

    __slots__ = ("target",)

    def __init__(self) -> None:
        self.target: Node | None = None
        super().__init__(lambda x: self.target.valid(x),  # type: ignore[union-attr]
                         lambda x, p, s: self.target.errors(x, p, s))  # type: ignore[union-attr]


TRUE = Node(always, no_errors)


def false_node(schema: Any) -> Node:
    def errors(x: Any, path: Path, spath: Path) -> Iterator[Violation]:
        yield Violation(None, None, x, schema, path, spath)
    return Node(never, errors)


# --- keywords: each returns (the kind it looks at or None, its predicate, its errors) -----------
# A predicate may assume the instance is of the keyword's kind; an errors function may not.

Compiled = tuple[str | None, Valid | None, Errors] | None  # no predicate: judged elsewhere
_IS_KIND: dict[str, Valid] = {STRING: TYPE_CHECKS["string"], NUMBER: is_number,
                              ARRAY: TYPE_CHECKS["array"], OBJECT: TYPE_CHECKS["object"]}


def _simple(keyword: str, kind: str | None, value: Any, schema: Any, check: Valid) -> Compiled:
    """A keyword that judges the instance alone: at most one violation, at the instance."""
    is_kind = _IS_KIND[kind] if kind else always

    def errors(x: Any, path: Path, spath: Path) -> Iterator[Violation]:
        if is_kind(x) and not check(x):
            yield Violation(keyword, value, x, schema, path, spath + (keyword,))
    return kind, check, errors


def _type(c: Compiler, value: Any, schema: Any, where: Path) -> Compiled:
    check = c.type_check(value, where)

    def errors(x: Any, path: Path, spath: Path) -> Iterator[Violation]:
        if not check(x):
            yield Violation("type", value, x, schema, path, spath + ("type",))
    return None, None, errors  # the node checks the type first, itself


def _min_length(c: Compiler, value: Any, schema: Any, where: Path) -> Compiled:
    n = c.count(value, where)
    return _simple("minLength", STRING, value, schema, lambda x: len(x) >= n)  # code points


def _max_length(c: Compiler, value: Any, schema: Any, where: Path) -> Compiled:
    n = c.count(value, where)
    return _simple("maxLength", STRING, value, schema, lambda x: len(x) <= n)


def _pattern(c: Compiler, value: Any, schema: Any, where: Path) -> Compiled:
    if not isinstance(value, str):
        raise c.refuse(where, "must be a string")
    try:
        search = compile_ecma(value).search
    except RegexRefused as refused:
        raise c.refuse(where, str(refused)) from None
    return _simple("pattern", STRING, value, schema, lambda x: search(x) is not None)


def _minimum(c: Compiler, value: Any, schema: Any, where: Path) -> Compiled:
    low = c.number(value, where)
    return _simple("minimum", NUMBER, value, schema, lambda x: not x < low)


def _maximum(c: Compiler, value: Any, schema: Any, where: Path) -> Compiled:
    high = c.number(value, where)
    return _simple("maximum", NUMBER, value, schema, lambda x: not x > high)


def _exclusive_minimum(c: Compiler, value: Any, schema: Any, where: Path) -> Compiled:
    low = c.number(value, where)
    return _simple("exclusiveMinimum", NUMBER, value, schema, lambda x: not x <= low)


def _min_items(c: Compiler, value: Any, schema: Any, where: Path) -> Compiled:
    n = c.count(value, where)
    return _simple("minItems", ARRAY, value, schema, lambda x: len(x) >= n)


def _min_properties(c: Compiler, value: Any, schema: Any, where: Path) -> Compiled:
    n = c.count(value, where)
    return _simple("minProperties", OBJECT, value, schema, lambda x: len(x) >= n)


def _unique_items(c: Compiler, value: Any, schema: Any, where: Path) -> Compiled:
    if not isinstance(value, bool):
        raise c.refuse(where, "must be true or false")
    if not value:
        return None

    def unique(x: list[Any]) -> bool:
        # Canonical, hashable forms make it one pass: jsonschema compares unsortable items
        # (objects, mixed types) pairwise, hours for 50,000 distinct objects.
        if all(type(item) is str for item in x):
            return len(set(x)) == len(x)
        seen: set[Any] = set()
        for item in x:
            key = canonical(item)
            if key in seen:
                return False
            seen.add(key)
        return True
    return _simple("uniqueItems", ARRAY, value, schema, unique)


def _enum(c: Compiler, value: Any, schema: Any, where: Path) -> Compiled:
    if not isinstance(value, list) or not value:
        raise c.refuse(where, "must be a non-empty list")
    strings = frozenset(v for v in value if isinstance(v, str))
    others = frozenset(canonical(v) for v in value if not isinstance(v, str))

    def one_of(x: Any) -> bool:
        if isinstance(x, str):
            return x in strings
        return bool(others) and canonical(x) in others
    return _simple("enum", None, value, schema, one_of)


def _const(c: Compiler, value: Any, schema: Any, where: Path) -> Compiled:
    expected = canonical(value)
    return _simple("const", None, value, schema, lambda x: canonical(x) == expected)


def _required(c: Compiler, value: Any, schema: Any, where: Path) -> Compiled:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value) or len(set(value)) != len(value):
        raise c.refuse(where, "must be a list of distinct strings")
    names = tuple(value)

    def valid(x: dict[Any, Any]) -> bool:
        for name in names:
            if name not in x:
                return False
        return True

    def errors(x: Any, path: Path, spath: Path) -> Iterator[Violation]:
        if isinstance(x, dict):
            for name in names:  # one violation per missing name, as jsonschema
                if name not in x:
                    yield Violation("required", value, x, schema, path, spath + ("required",), detail=name)
    return OBJECT, valid, errors


def _properties(c: Compiler, value: Any, schema: Any, where: Path) -> Compiled:
    if not isinstance(value, dict):
        raise c.refuse(where, "must be an object of subschemas")
    nodes = [(name, c.subschema(sub, where + (name,))) for name, sub in value.items()]

    def errors(x: Any, path: Path, spath: Path) -> Iterator[Violation]:
        if isinstance(x, dict):
            for name, node in nodes:
                if name in x and not node.valid(x[name]):
                    yield from node.errors(x[name], path + (name,), spath + ("properties", name))
    return OBJECT, None, errors  # judged with additionalProperties in one pass (object_check)


def _additional_properties(c: Compiler, value: Any, schema: Any, where: Path) -> Compiled:
    known = schema.get("properties", {})
    node = c.subschema(value, where)

    def errors(x: Any, path: Path, spath: Path) -> Iterator[Violation]:
        if not isinstance(x, dict):
            return
        extras = [key for key in x if key not in known]
        if value is False:
            if extras:  # one violation naming them all
                yield Violation("additionalProperties", value, x, schema, path, spath + ("additionalProperties",),
                                detail=extras)
            return
        for key in extras:
            if not node.valid(x[key]):
                yield from node.errors(x[key], path + (key,), spath + ("additionalProperties",))
    return OBJECT, None, errors  # judged in object_check


def _property_names(c: Compiler, value: Any, schema: Any, where: Path) -> Compiled:
    node = c.subschema(value, where)

    def errors(x: Any, path: Path, spath: Path) -> Iterator[Violation]:
        if isinstance(x, dict):
            for key in x:  # the key is the instance; the path stays the object's (jsonschema's way)
                if not node.valid(key):
                    yield from node.errors(key, path, spath + ("propertyNames",))
    return OBJECT, None, errors  # judged in object_check


def _items(c: Compiler, value: Any, schema: Any, where: Path) -> Compiled:
    if value is False:  # one violation at the list, as jsonschema says it
        return _simple("items", ARRAY, value, schema, lambda x: not x)
    node = c.subschema(value, where)
    item_valid = node.valid

    def valid(x: list[Any]) -> bool:
        for item in x:
            if not item_valid(item):
                return False
        return True

    def errors(x: Any, path: Path, spath: Path) -> Iterator[Violation]:
        if isinstance(x, list):
            for index, item in enumerate(x):
                if not item_valid(item):
                    yield from node.errors(item, path + (index,), spath + ("items",))
    return ARRAY, valid, errors


def _one_of(c: Compiler, value: Any, schema: Any, where: Path) -> Compiled:
    if not isinstance(value, list) or not value:
        raise c.refuse(where, "must be a non-empty list of subschemas")
    nodes = tuple(c.subschema(sub, where + (i,)) for i, sub in enumerate(value))
    checks = tuple(node.valid for node in nodes)

    def valid(x: Any) -> bool:
        found = False
        for check in checks:
            if check(x):
                if found:
                    return False
                found = True
        return found

    def errors(x: Any, path: Path, spath: Path) -> Iterator[Violation]:
        first = next((i for i, check in enumerate(checks) if check(x)), None)
        if first is None:  # every branch's violations, relative to this one
            context = [e for i, node in enumerate(nodes) for e in node.errors(x, (), (i,))]
            yield Violation("oneOf", value, x, schema, path, spath + ("oneOf",), context=context)
            return
        more = [i for i in range(first + 1, len(checks)) if checks[i](x)]
        if more:
            yield Violation("oneOf", value, x, schema, path, spath + ("oneOf",), detail=more + [first])
    return None, valid, errors


def _not(c: Compiler, value: Any, schema: Any, where: Path) -> Compiled:
    inner = c.subschema(value, where).valid
    return _simple("not", None, value, schema, lambda x: not inner(x))


def _if(c: Compiler, value: Any, schema: Any, where: Path) -> Compiled:
    condition = c.subschema(value, where).valid
    then = c.subschema(schema["then"], where[:-1] + ("then",)) if "then" in schema else TRUE
    otherwise = c.subschema(schema["else"], where[:-1] + ("else",)) if "else" in schema else TRUE
    then_valid, else_valid = then.valid, otherwise.valid

    def valid(x: Any) -> bool:
        return then_valid(x) if condition(x) else else_valid(x)

    def errors(x: Any, path: Path, spath: Path) -> Iterator[Violation]:
        if condition(x):  # "if" itself is not in the schema path: jsonschema's way
            if not then_valid(x):
                yield from then.errors(x, path, spath + ("then",))
        elif not else_valid(x):
            yield from otherwise.errors(x, path, spath + ("else",))
    return None, valid, errors


def _handled_by_if(c: Compiler, value: Any, schema: Any, where: Path) -> Compiled:
    return None


def _ref(c: Compiler, value: Any, schema: Any, where: Path) -> Compiled:
    prefix = "#/$defs/"
    if not isinstance(value, str) or not value.startswith(prefix) or value[len(prefix):] not in c.defs:
        raise c.refuse(where, f"$ref {value!r} is not one of this schema's own #/$defs/<name>")
    node = c.ref_node(value[len(prefix):])

    def errors(x: Any, path: Path, spath: Path) -> Iterator[Violation]:
        if not node.valid(x):  # "$ref" is not in the schema path either
            yield from node.errors(x, path, spath)
    return None, node.valid, errors


def _defs(c: Compiler, value: Any, schema: Any, where: Path) -> Compiled:
    return None  # compiled by the root, each once, when referred to


KEYWORDS: dict[str, Callable[[Compiler, Any, Any, Path], Compiled]] = {
    "type": _type, "enum": _enum, "const": _const,
    "minLength": _min_length, "maxLength": _max_length, "pattern": _pattern,
    "minimum": _minimum, "maximum": _maximum, "exclusiveMinimum": _exclusive_minimum,
    "items": _items, "minItems": _min_items, "uniqueItems": _unique_items,
    "properties": _properties, "additionalProperties": _additional_properties,
    "propertyNames": _property_names, "required": _required, "minProperties": _min_properties,
    "oneOf": _one_of, "not": _not, "if": _if, "then": _handled_by_if, "else": _handled_by_if,
    "$ref": _ref, "$defs": _defs,
}
