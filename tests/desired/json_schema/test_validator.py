"""desired/json_schema (compile.py, keywords.py, violation.py): JSON Schema 2020-12's corner
cases, the refusal of what it does not implement, and the shape of its violations (what
desired/schema_check.py reads)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from domino_mlops.desired.json_schema import SchemaRefused, Validator
from domino_mlops.desired.schema_check import load_schema

DEFS = {"s": {"type": "string"}}

# (schema, instance, valid): each also judged by jsonschema, which must agree.
CORNERS = [
    # A bool is no number; a float with no fraction is an integer.
    ({"type": "integer"}, 1, True), ({"type": "integer"}, 1.0, True), ({"type": "integer"}, -0.0, True),
    ({"type": "integer"}, 1.5, False), ({"type": "integer"}, True, False), ({"type": "integer"}, "1", False),
    ({"type": "integer"}, float("inf"), False), ({"type": "integer"}, 10**40, True),
    ({"type": "number"}, False, False), ({"type": "number"}, 1, True), ({"type": "number"}, float("nan"), True),
    ({"type": "boolean"}, 0, False), ({"type": "boolean"}, True, True), ({"type": "null"}, 0, False),
    ({"type": ["string", "null"]}, None, True), ({"type": ["string", "null"]}, 0, False),
    ({"type": "array"}, {}, False), ({"type": "object"}, [], False),
    # Lengths count code points: é is 2 bytes in UTF-8, 😀 is 2 UTF-16 units; both are one character.
    ({"minLength": 2}, "é", False), ({"maxLength": 1}, "😀", True), ({"minLength": 2}, "😀😀", True),
    ({"minLength": 1}, "", False), ({"maxLength": 0}, "", True),
    # A keyword judges only its own kind of value.
    ({"minLength": 5}, 3, True), ({"minimum": 0}, "abc", True), ({"required": ["a"]}, [], True),
    ({"minItems": 1}, {}, True), ({"pattern": "^a"}, 5, True), ({"uniqueItems": True}, "aa", True),
    ({"minProperties": 1}, [], True), ({"items": {"type": "string"}}, {"a": 1}, True),
    # A pattern is searched for, not matched whole.
    ({"pattern": "b"}, "abc", True), ({"pattern": "^b"}, "abc", False),
    # Numbers: bounds inclusive, exclusiveMinimum not; 1 == 1.0.
    ({"minimum": 1}, 1.0, True), ({"maximum": 1}, 1, True), ({"exclusiveMinimum": 0}, 0, False),
    ({"exclusiveMinimum": 0}, 0.0, False), ({"exclusiveMinimum": 0}, 1e-300, True), ({"maximum": 600}, 600.5, False),
    # Equality: 1 == 1.0, true != 1, in enum, const and uniqueItems alike.
    ({"enum": [1]}, 1.0, True), ({"enum": [1]}, True, False), ({"enum": ["a"]}, ["a"], False),
    ({"enum": [None, "a"]}, None, True), ({"const": {"a": [1]}}, {"a": [1.0]}, True), ({"const": 0}, False, False),
    ({"uniqueItems": True}, [1, 1.0], False), ({"uniqueItems": True}, [1, True], True),
    ({"uniqueItems": True}, [0, False, None, ""], True), ({"uniqueItems": True}, [{"a": 1}, {"a": 1.0}], False),
    ({"uniqueItems": True}, [[1], [True]], True), ({"uniqueItems": True}, [{"a": 1, "b": 2}, {"b": 2, "a": 1}], False),
    ({"uniqueItems": False}, [1, 1], True),
    # Objects.
    ({"minProperties": 1}, {}, False), ({"required": ["a", "b"]}, {"a": 1}, False),
    ({"properties": {"a": {}}, "additionalProperties": False}, {"a": 1}, True),
    ({"properties": {"a": {}}, "additionalProperties": False}, {"b": 1}, False),
    ({"additionalProperties": {"type": "string"}}, {"a": "x", "b": 2}, False),
    ({"propertyNames": {"pattern": "^a"}}, {"ab": 1, "b": 1}, False),
    # Applicators.
    ({"oneOf": [{"type": "integer"}, {"type": "number"}]}, 1, False),  # valid under both: not one
    ({"oneOf": [{"type": "integer"}, {"type": "number"}]}, 1.5, True),
    ({"oneOf": [{"type": "integer"}, {"type": "string"}]}, None, False),
    ({"not": {"type": "string"}}, "x", False), ({"not": {"type": "string"}}, 1, True),
    ({"if": {"type": "array"}, "then": {"minItems": 1}, "else": {"type": "object"}}, [], False),
    ({"if": {"type": "array"}, "then": {"minItems": 1}, "else": {"type": "object"}}, 5, False),
    ({"if": {"type": "array"}, "then": {"minItems": 1}, "else": {"type": "object"}}, {}, True),
    ({"if": {"type": "array"}, "then": {"minItems": 1}}, 5, True),
    ({"items": False}, [], True), ({"items": False}, [1], False), ({"items": True}, [1], True),
    # $ref applies beside its siblings (2020-12; draft 7 ignored them).
    ({"$defs": DEFS, "$ref": "#/$defs/s", "minLength": 2}, "a", False),
    ({"$defs": DEFS, "$ref": "#/$defs/s", "minLength": 2}, 5, False),
    ({"$defs": DEFS, "$ref": "#/$defs/s", "minLength": 2}, "ab", True),
]


@pytest.mark.parametrize(("schema", "instance", "valid"), CORNERS)
def test_corner_cases_of_draft_2020_12(schema: dict[str, Any], instance: Any, valid: bool) -> None:
    ours = Validator(schema, "corner")
    assert ours.is_valid(instance) is valid
    assert (list(ours.iter_errors(instance)) == []) is valid
    reference = Draft202012Validator(schema)
    assert reference.is_valid(instance) is valid
    assert ({(tuple(e.absolute_path), e.validator, e.message) for e in ours.iter_errors(instance)}
            == {(tuple(e.absolute_path), e.validator, e.message) for e in reference.iter_errors(instance)})


# Patterns are ECMA-262 regular expressions; Python's re reads these differently, so jsonschema
# (which hands the pattern to re as it is) says the opposite here.
ECMA = [
    ("^[A-Z]+$", "PROD\n", False),  # $ is the end, not "before a final newline"
    ("^[^\\u0000-\\u001f]+$", "prod\n", False),
    ("\\S", "\ufeff", False),  # U+FEFF is white space in ECMA-262, not in Python
    ("\\S", "\x1c", True),  # U+001C is white space in Python, not in ECMA-262
    ("^\\d+$", "\u0663", False),  # \d is ASCII: the Arabic-Indic three is no digit
    ("^\\w$", "é", False),
    ("^a.c$", "a\rc", False),  # . matches no line terminator
    ("^a.c$", "a\u2028c", False),
]


@pytest.mark.parametrize(("pattern", "instance", "valid"), ECMA)
def test_patterns_are_read_as_ecma_262_reads_them(pattern: str, instance: str, valid: bool) -> None:
    assert Validator({"pattern": pattern}, "ecma").is_valid(instance) is valid
    assert Draft202012Validator({"pattern": pattern}).is_valid(instance) is not valid


def test_a_shipped_pattern_refuses_a_trailing_newline() -> None:
    environments = Validator(load_schema("environments.schema.json"), "environments.schema.json")
    assert environments.is_valid({"environments": [{"name": "DEV"}]})
    (error,) = environments.iter_errors({"environments": [{"name": "DEV\n"}]})
    assert (error.validator, error.absolute_path) == ("pattern", ("environments", 0, "name"))


REFUSED = [
    ({"type": "object", "maxItems": 3}, "#/maxItems", "keyword 'maxItems' is not implemented"),
    ({"properties": {"a": {"format": "date"}}}, "#/properties/a/format", "keyword 'format'"),
    ({"$defs": {"unused": {"anyOf": [{}]}}}, "#/$defs/unused/anyOf", "keyword 'anyOf'"),
    ({"items": {"oneOf": [{"dependentRequired": {}}]}}, "#/items/oneOf/0/dependentRequired", "keyword"),
    ({"$ref": "#/$defs/missing"}, "#/$ref", "not one of this schema's own"),
    ({"$ref": "https://example.com/other.json"}, "#/$ref", "not one of this schema's own"),
    ({"then": {"type": "string"}}, "#:", "then/else without if"),
    ({"$schema": "http://json-schema.org/draft-07/schema#"}, "#/$schema", "Draft 2020-12"),
    ({"properties": {"a": {"$id": "x"}}}, "#/properties/a/$id", "root only"),
    ({"type": "integr"}, "#/type", "type must be one of"),
    ({"minLength": -1}, "#/minLength", "non-negative integer"),
    ({"minimum": "1"}, "#/minimum", "must be a number"),
    ({"required": "a"}, "#/required", "distinct strings"),
    ({"enum": []}, "#/enum", "non-empty list"),
    ({"pattern": "(a)\\1"}, "#/pattern", "\\1 is not read the same"),
    ({"pattern": "(?<=a)b"}, "#/pattern", "only the groups"),
    ({"items": 5}, "#/items", "a schema must be an object or a boolean"),
]


@pytest.mark.parametrize(("schema", "where", "problem"), REFUSED)
def test_what_is_not_implemented_is_refused_when_compiled(schema: dict[str, Any], where: str, problem: str) -> None:
    with pytest.raises(SchemaRefused) as refused:
        Validator(schema, "edited.schema.json")
    message = str(refused.value)
    assert message.startswith(f"schema edited.schema.json at {where}") and problem in message, message


def test_annotations_and_our_x_keywords_are_read_and_not_checked() -> None:
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "https://x/y.json", "title": "t",
              "description": "d", "$comment": "c", "properties": {"a": {"x-form": "an a", "default": 1,
                                                                       "examples": [2]}}}
    assert Validator(schema, "annotated").is_valid({"a": "anything"})


def test_a_violation_carries_what_schema_check_reads() -> None:
    schema = load_schema("manifest.schema.json")
    document = {"p1": [{"name": "churn", "version": "@latest"}], "bad key!": [], "p2": {"models": [{}]}}
    errors = list(Validator(schema, "manifest.schema.json").iter_errors(document))
    assert [(e.validator, e.absolute_path) for e in errors] == [
        ("pattern", ()),  # propertyNames: the key is the instance, the path its object's
        ("oneOf", ("p1", 0, "version")),
        ("required", ("p2", "models", 0)), ("required", ("p2", "models", 0)),  # one per missing name
    ]
    names, one_of, required, _ = errors
    assert names.instance == "bad key!" and names.schema_path == ("propertyNames", "pattern")
    assert one_of.schema["description"].startswith("A pinned version")
    assert one_of.schema_path == ("additionalProperties", "then", "items", "properties", "version", "oneOf")
    assert [(e.validator, e.relative_schema_path, e.absolute_path) for e in one_of.context] == [
        ("type", (0, "type"), ("p1", 0, "version")),
        ("pattern", (1, "pattern"), ("p1", 0, "version")),
        ("not", (2, "not"), ("p1", 0, "version")),
    ]
    assert one_of.context[2].parent is one_of and one_of.context[2].relative_path == ()
    assert one_of.message == "'@latest' is not valid under any of the given schemas"
    assert (required.validator_value, required.message) == (["name", "version"], "'name' is a required property")


def test_a_key_that_is_no_text_stays_in_the_path_as_it_is() -> None:
    # YAML keys may be null or numbers. jsonschema drops a null key from the path; ours keeps it.
    validator = Validator({"additionalProperties": {"type": "string"}}, "keys")
    assert [e.absolute_path for e in validator.iter_errors({None: 1, 7: 2, True: "x"})] == [(None,), (7,)]
    reference = Draft202012Validator(validator.schema).iter_errors({None: 1, 7: 2})
    assert {tuple(e.absolute_path) for e in reference} == {(), (7,)}  # (in a set's order)


def test_violations_come_lazily_and_in_the_same_order_each_time() -> None:
    seen = []

    class Watched(list):  # counts the items the validator has looked at
        def __iter__(self):  # type: ignore[no-untyped-def]
            for item in super().__iter__():
                seen.append(item)
                yield item

    validator = Validator({"items": {"type": "string"}}, "lazy")
    items = Watched([1] * 100_000)
    first = list(itertools.islice(validator.iter_errors(items), 3))
    assert [e.absolute_path for e in first] == [(0,), (1,), (2,)] and len(seen) < 10
    document = {"b": 1, "a": 2, "c": {"d": 4}}
    validator = Validator({"properties": {"c": {"properties": {"d": {"type": "string"}}}},
                           "additionalProperties": {"type": "string"}}, "order")
    orders = {tuple(e.absolute_path for e in validator.iter_errors(document)) for _ in range(5)}
    assert orders == {(("c", "d"), ("b",), ("a",))}  # keywords in the schema's order, then the instance's
