"""Positions: every JSON/YAML value knows its line (property-based on generated JSON); YAML as
safe_load reads it (merge keys, anchors); limits that stop bombs, cycles and deep nesting."""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from domino_mlops.desired.limits import Limits
from domino_mlops.desired.locate import SyntaxProblem, json_path, parse_json, parse_yaml

keys = st.text(alphabet="abcXYZ_- 1", min_size=1, max_size=5)
values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
                      max_leaves=12)


@given(values)
def test_json_scanner_agrees_with_json_and_places_every_value(document) -> None:
    text = json.dumps(document, indent=1)
    located = parse_json(text, "x.json")
    assert located.data == document
    lines = text.splitlines()
    for path, line in located.lines.items():
        assert 1 <= line <= len(lines)
        if path and isinstance(path[-1], str):  # an object member: its key is on that line
            assert json.dumps(path[-1]) in lines[line - 1]


def test_json_path_rendering() -> None:
    assert json_path(("p1", 0, "version")) == "$.p1[0].version"
    assert json_path(("a b", 2)) == '$["a b"][2]'
    assert json_path(()) == "$"


def test_yaml_lines_and_duplicates() -> None:
    located = parse_yaml("a:\n  b: 1\n  b: 2\nc: [x, y]\n", "e.yaml")
    assert located.data == {"a": {"b": 2}, "c": ["x", "y"]}
    assert located.lines[("c", 1)] == 4
    (dup,) = located.duplicates
    assert dup.line == 3 and dup.path == "$.a.b"


# --- YAML as safe_load reads it: merge keys, anchors, tags --------------------------------------

# Expected as the merge key spec (yaml.org/type/merge.html) reads them. PyYAML 6.0.4 agrees only
# when its identity-based dedup happens to match (single-letter keys are interned): with key
# "xx" below it answers 2 where "x" gives 1.
MERGES = [
    ("base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n", {"x": 1, "y": 3}),
    ("a: &a {xx: 1, y: 1}\nb: &b {xx: 2, z: 2}\nm:\n  <<: [*a, *b]\n  w: 0\n", {"xx": 1, "y": 1, "z": 2, "w": 0}),
    ("a: &a {xyz: 1}\nb: &b {<<: *a, xyz: 2}\nm: {<<: *b, z: 3}\n", {"xyz": 2, "z": 3}),
    ("a: &a {xyz: 1, q: 1}\nb: &b {<<: *a, xyz: 2}\nm: {<<: [*b]}\n", {"xyz": 2, "q": 1}),
    ("list: [&i {k: v}, {<<: *i, k: w}]\nm: {= : eq}\n", {"=": "eq"}),
]


@pytest.mark.parametrize(("text", "expected"), MERGES)
def test_merge_keys_read_as_the_merge_key_spec_says(text: str, expected: dict) -> None:
    located = parse_yaml(text, "e.yaml")
    assert located.data["m"] == expected and located.duplicates == ()


def test_merge_keys_without_conflicts_read_as_safe_load_reads_them() -> None:
    text = "a: &a {one: 1}\nb: &b {two: 2}\nm: {<<: [*a, *b], three: 3}\nn: {<<: *a}\n"
    assert parse_yaml(text, "e.yaml").data == yaml.safe_load(text)


def test_two_merge_keys_in_one_mapping_are_a_duplicate() -> None:
    (dup,) = parse_yaml("a: &a {x: 1}\nb: &b {y: 2}\nm:\n  <<: *a\n  <<: *b\n", "e.yaml").duplicates
    assert dup.line == 5 and "'<<' appears more than once" in dup.message and "<<: [*a, *b]" in dup.message


def test_a_merged_value_is_located_at_its_anchor_and_overrides_are_not_duplicates() -> None:
    text = ("environments:\n"
            "  - &base\n"
            "    name: DEV\n"
            "    mlflow:\n"
            "      stage_mode: maybe\n"
            "  - <<: *base\n"
            "    name: STAGE\n")
    located = parse_yaml(text, "e.yaml")
    assert located.data["environments"][1] == {"name": "STAGE", "mlflow": {"stage_mode": "maybe"}}
    assert located.duplicates == ()
    assert located.line_of(("environments", 1, "mlflow", "stage_mode")) == 5  # where it is written
    assert located.line_of(("environments", 1, "name")) == 7


def test_merging_a_scalar_is_one_issue_with_its_line() -> None:
    with pytest.raises(SyntaxProblem) as info:
        parse_yaml("a: 1\nm:\n  <<: 5\n", "e.yaml")
    assert info.value.issue.line == 3 and "`<<` merges a mapping" in info.value.issue.message


shared = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
                      max_leaves=10)


@settings(derandomize=True, max_examples=60)
@given(shared, st.integers(0, 3))
def test_anchors_and_aliases_read_as_safe_load_reads_them(value, uses) -> None:
    # yaml.dump writes an object used more than once as &id001 ... *id001.
    text = yaml.safe_dump({"doc": [value] * (uses + 1), "again": value})
    assert parse_yaml(text, "e.yaml").data == yaml.safe_load(text)


@pytest.mark.parametrize(("text", "line", "message"), [
    ("a: 2001-12-14\n", 1, "as a date; quote it"),
    ("a: !!binary AAAA\n", 1, "!!binary values are not used here"),
    ("a: !!set {x}\n", 1, "tagged !!set"),
    ("a:\n  - !!python/object:os.system [x]\n", 2, "tagged !!python/object:os.system"),
    ("a: !custom x\n", 1, "cannot read 'x' as !custom"),
    ("a: !!timestamp x\n", 1, "cannot read 'x' as !!timestamp"),
    ("a: !!int ''\n", 1, "cannot read '' as !!int"),
    ("a: !!bool maybe\n", 1, "cannot read 'maybe' as !!bool"),
    ("a: " + "9" * 5000 + "\n", 1, "more digits than Python reads"),
    ("? [a, b]\n: c\n", 1, "a key must be a single value"),
    ("a:\n\t- x\n", 2, "not tabs"),
    ("a: \x07\n", 1, "control character U+0007 is not allowed"),
])
def test_what_no_field_takes_is_one_issue_with_its_line(text: str, line: int, message: str) -> None:
    with pytest.raises(SyntaxProblem) as info:
        parse_yaml(text, "e.yaml")
    assert info.value.issue.line == line and message in info.value.issue.message, info.value.issue
    assert "\n" not in info.value.issue.message


# --- limits: bombs, cycles, depth ----------------------------------------------------------------


def laughs(levels: int, width: int = 10) -> str:
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def test_a_billion_laughs_stops_at_the_line_that_crosses_the_limit() -> None:
    text = laughs(9)  # 10**9 values once expanded, from 500 bytes
    with pytest.raises(SyntaxProblem) as info:
        parse_yaml(text, "e.yaml")
    issue = info.value.issue
    assert issue.line == 5  # 10**5 values: the first anchor past 100,000
    assert "expands to more than 100000 values" in issue.message


def test_aliases_below_the_limit_still_expand() -> None:
    located = parse_yaml(laughs(3), "e.yaml", Limits(max_bytes=1024, max_values=2000))
    assert len(located.data["l2"]) == 10 and located.data["l2"][0][0] == ["lol"] * 10


def test_nesting_through_chained_aliases_counts_as_depth() -> None:
    text = "a0: &a0 [x]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 70))
    with pytest.raises(SyntaxProblem) as info:
        parse_yaml(text, "e.yaml")
    assert "nests more than 64 levels" in info.value.issue.message and info.value.issue.line == 64


@pytest.mark.parametrize(("text", "line"), [
    ("a: &a [*a]\n", 1),
    ("a: &a\n  b:\n    c: *a\n", 3),
    ("a: &a\n  <<: *a\n", 2),
    ("a: &a {b: [1, {c: *a}]}\n", 1),
])
def test_an_alias_inside_its_own_anchor_is_one_issue_not_a_recursion_error(text: str, line: int) -> None:
    with pytest.raises(SyntaxProblem) as info:
        parse_yaml(text, "e.yaml")
    assert info.value.issue.line == line and "inside its own anchor &a" in info.value.issue.message


@pytest.mark.parametrize("parse", [parse_json, parse_yaml])
@pytest.mark.parametrize("opener", ["[", "{\"a\":", "[{\"a\": "])
def test_deep_nesting_is_refused_before_any_recursion(parse, opener: str) -> None:
    with pytest.raises(SyntaxProblem) as info:
        parse(opener * 100_000, "f")
    assert "nested more than 64 levels" in info.value.issue.message and info.value.issue.line == 1


def test_json_with_more_values_than_the_limit_is_refused_before_json_reads_it() -> None:
    text = "[" + ",\n".join(["0"] * 200) + "]"
    with pytest.raises(SyntaxProblem) as info:
        parse_json(text, "m.json", Limits(max_bytes=10_000, max_values=100))
    assert "more than 100 values" in info.value.issue.message and info.value.issue.line == 99  # the comma before item 100
    assert parse_json(text, "m.json", Limits(max_bytes=10_000, max_values=300)).data == [0] * 200


def test_json_brackets_inside_strings_are_not_nesting() -> None:
    text = json.dumps({"a": "[" * 1000 + '\\"{' * 100})
    assert parse_json(text, "m.json").data == json.loads(text)


@pytest.mark.parametrize(("text", "line", "message"), [
    ('{"a":\n NaN}', 2, "NaN is not valid JSON"),
    ('{"a": [1,\n -Infinity]}', 2, "-Infinity is not valid JSON"),
    ('{"a":\n ' + "1" * 5000 + "}", 2, "more digits than Python reads"),
])
def test_json_that_python_reads_but_json_does_not_allow(text: str, line: int, message: str) -> None:
    with pytest.raises(SyntaxProblem) as info:
        parse_json(text, "m.json")
    assert info.value.issue.line == line and message in info.value.issue.message
