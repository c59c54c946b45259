"""desired/json_schema against jsonschema's Draft202012Validator (the dev extra keeps it as
the reference), on documents drawn from the three shipped schemas: valid ones, and ones mutated
into every kind of wrong (a value of another type, a key dropped or added, an item repeated, odd
numbers and strings, keys that are no strings as YAML gives them).

Both must agree on the verdict and on every violation: where (absolute path), which keyword,
the schema path, the message and, for a oneOf, the violations of its branches. The reference's
``pattern`` reads patterns as ECMA-262 does (desired/json_schema/ecma_regex.py): stock
jsonschema uses Python's re as is, whose ``$`` also matches before a final newline; that
difference is ours on purpose and tested in test_validator.py.
"""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator, ValidationError, validators

from domino_mlops.desired.json_schema.ecma_regex import compile_ecma
from domino_mlops.desired.json_schema import Validator
from domino_mlops.desired.schema_check import load_schema
from tests.support.schema_strategies import JSON_LEAF, SchemaStrategies

SCHEMAS = ("manifest.schema.json", "environments.schema.json", "export_targets.schema.json")


def _ecma_pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Any:
    if validator.is_type(instance, "string") and not compile_ecma(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


Reference = validators.extend(Draft202012Validator, {"pattern": _ecma_pattern})

# Values that sit on an edge of JSON Schema's rules or of ours.
ODD_VALUES = [
    0, 1, -1, 1.0, 2.0, 1.5, 0.0, -0.0, 1e-300, 2**64, 10**40, float("inf"), float("-inf"), float("nan"),
    True, False, None, "", " ", "1", "02", "2", "latest", "LaTeSt", "@latest", "@v2", "@V10", "@candidate",
    "@", "PROD", "PROD\n", "a b", "\t", "\ufeff", "\x1c", "\u2028", "é", "😀", "x" * 300, "{model}",
    "{model}-{model}", "https://h.example.com", "http://a/b", "registry.example.com/team", "A_B",
    [], {}, [1], ["a", "a"], [1, 1.0], [True, 1], {"a": 1}, [{"a": 1}, {"a": 1.0}], [[]],
]
ODD = st.sampled_from(ODD_VALUES)
VALUES = ODD | JSON_LEAF | st.text(max_size=6) | st.lists(ODD, max_size=3) | st.dictionaries(
    st.sampled_from(["name", "version", "x", "models", "cron"]), ODD, max_size=2)
KEYS = st.sampled_from(["name", "version", "environments", "jobs", "apps", "models", "extra", "bad key!",
                        "$schema", "-x", "P1", "required", "mlflow", 7, None, True])


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, path + (index,))
    return found


def _at(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        doc = doc[part]
    return doc


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[Any]) -> Any:
    """A document with one to four things made wrong (or, by chance, still right)."""
    doc = copy.deepcopy(draw(base))
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(_paths(doc)))
        target = _at(doc, path)
        op = draw(st.sampled_from(["replace", "replace", "drop", "add", "repeat", "empty"]))
        if op == "replace" or not isinstance(target, (dict, list)):
            value = copy.deepcopy(draw(VALUES))  # never the constant itself: a later step may change it
            if not path:
                doc = value
            else:
                _at(doc, path[:-1])[path[-1]] = value
        elif op == "drop" and target:
            if isinstance(target, dict):
                del target[draw(st.sampled_from(list(target)))]
            else:
                del target[draw(st.integers(0, len(target) - 1))]
        elif op == "add":
            if isinstance(target, dict):
                target[draw(KEYS)] = copy.deepcopy(draw(VALUES))
            else:
                target.append(copy.deepcopy(draw(VALUES)))
        elif op == "repeat" and target:
            if isinstance(target, list):
                target.append(copy.deepcopy(draw(st.sampled_from(target))))
            else:
                target[draw(KEYS)] = copy.deepcopy(target[draw(st.sampled_from(list(target)))])
        else:
            target.clear()
    return doc


def documents(name: str) -> st.SearchStrategy[Any]:
    schema = load_schema(name)
    shaped = st.one_of([SchemaStrategies(schema["$defs"], mode=mode).of(schema)
                        for mode in ("random", "maximal", "minimal")])
    return shaped | mutated(shaped)


def _path(error: Any) -> tuple[Any, ...]:
    # jsonschema leaves a null key (YAML's `~:`) out of a path: its descend() reads path=None as
    # "no step". Ours keeps it (test_validator.py); compared without it.
    return tuple(part for part in error.absolute_path if part is not None)


def _summary(error: Any) -> tuple[Any, ...]:
    context = Counter(_summary(inner) for inner in error.context)
    return (_path(error), error.validator, tuple(error.relative_schema_path), error.message,
            tuple(sorted(context.items(), key=repr)))


def check_same(name: str, doc: Any) -> list[Any]:
    ours = Validator(load_schema(name), name)
    reference = Reference(load_schema(name))
    found, expected = list(ours.iter_errors(doc)), list(reference.iter_errors(doc))
    assert ours.is_valid(doc) == (not found) == reference.is_valid(doc)
    assert Counter(_summary(e) for e in found) == Counter(_summary(e) for e in expected)
    # What the brief promises at least: the same (path, keyword) pairs.
    assert {(_path(e), e.validator) for e in found} == {(_path(e), e.validator) for e in expected}
    return found


DIFFERENTIAL = settings(derandomize=True, max_examples=400, deadline=None,
                        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize("name", SCHEMAS)
def test_the_same_verdict_and_violations_as_jsonschema(name: str) -> None:
    verdicts: Counter[bool] = Counter()

    @DIFFERENTIAL
    @given(doc=documents(name))
    def compare(doc: Any) -> None:
        verdicts[not check_same(name, doc)] += 1

    compare()
    # Both kinds were drawn, in numbers: agreement on valid documents alone would say little.
    assert verdicts[True] >= 30 and verdicts[False] >= 100, verdicts


ASSERTIONS = {"type", "enum", "const", "minLength", "maxLength", "pattern", "minimum", "maximum",
              "exclusiveMinimum", "minItems", "uniqueItems", "required", "minProperties", "not", "oneOf"}


def _keywords(schema: Any, under: str = "") -> set[str]:
    """The keywords of a schema that can fail ("propertyNames/pattern" for the keys' own)."""
    found: set[str] = set()
    if isinstance(schema, list):
        for item in schema:
            found |= _keywords(item, under)
    elif isinstance(schema, dict):
        found |= {under + k for k in schema if k in ASSERTIONS}
        if schema.get("additionalProperties") is False:
            found.add(under + "additionalProperties")
        for key, sub in schema.items():
            if key == "properties":
                found |= _keywords(list(sub.values()), under)
            elif key not in ("enum", "const", "required"):
                found |= _keywords(sub, "propertyNames/" if key == "propertyNames" else under)
    return found


def broken_everywhere(doc: Any) -> list[Any]:
    """Copies of ``doc`` with every leaf one odd value, every container at one depth emptied, or a
    bad key in every object: each keyword of the schema gets its turn somewhere."""
    paths = _paths(doc)[1:]
    copies = []
    for odd in ODD_VALUES:
        broken = copy.deepcopy(doc)
        for path in paths:
            parent = _at(broken, path[:-1])
            if not isinstance(parent[path[-1]], (dict, list)):
                parent[path[-1]] = copy.deepcopy(odd)
        copies.append(broken)
    for depth in range(max(map(len, paths), default=0)):
        broken = copy.deepcopy(doc)
        for path in (p for p in paths if len(p) == depth):
            target = _at(broken, path)
            if isinstance(target, (dict, list)):
                target.clear()
        copies.append(broken)
    for key in ("bad key!", 7):
        broken = copy.deepcopy(doc)
        for path in [()] + paths:
            if isinstance(_at(broken, path), dict):
                _at(broken, path)[key] = None
        copies.append(broken)
    return copies


@pytest.mark.parametrize("name", SCHEMAS)
def test_every_keyword_of_the_schema_is_seen_failing_and_judged_alike(name: str) -> None:
    schema = load_schema(name)
    seen: set[str] = set()

    def note(errors: list[Any]) -> None:
        for error in errors:
            seen.add(("propertyNames/" if "propertyNames" in error.absolute_schema_path else "") + error.validator)
            note(error.context)

    @settings(DIFFERENTIAL, max_examples=8)
    @given(doc=SchemaStrategies(schema["$defs"], mode="maximal").of(schema))
    def compare(doc: Any) -> None:
        for broken in broken_everywhere(doc):
            note(check_same(name, broken))

    compare()
    assert seen == _keywords(schema)
