"""Positions: every JSON/YAML value knows its line; property-based check on generated JSON."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from domino_mlops.desired.locate import json_path, parse_json, parse_yaml

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
