"""desired/json_schema/ecma_regex.py: ECMA-262 patterns for Python's re, translated where the two differ and
refused outside the subset both read alike."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domino_mlops.desired.json_schema.ecma_regex import RegexRefused, compile_ecma, translate
from domino_mlops.desired.schema_check import load_schema


def _patterns(schema: Any) -> set[str]:
    if isinstance(schema, dict):
        found = {schema["pattern"]} if isinstance(schema.get("pattern"), str) else set()
        return found.union(*(_patterns(v) for v in schema.values()))
    if isinstance(schema, list):
        return set().union(*(_patterns(v) for v in schema))
    return set()


SHIPPED = sorted(set().union(*(_patterns(load_schema(name)) for name in
                               ("manifest.schema.json", "environments.schema.json", "export_targets.schema.json"))))
# Where ECMA-262 and Python's re part: line terminators, U+001C-U+001F, U+0085, U+FEFF, non-ASCII
# digits and letters. Away from them, a translated pattern must find what the original finds.
PLAIN = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e) | st.sampled_from("\té@{}/"), max_size=12)


@settings(derandomize=True, max_examples=300, deadline=None)
@given(text=PLAIN | st.sampled_from(["PROD", "@candidate", "@latest", "v2", "x/y", "a.b", "{model}", "https://h"]))
def test_away_from_the_differences_every_shipped_pattern_means_what_it_says(text: str) -> None:
    for pattern in SHIPPED:
        assert bool(re.search(pattern, text)) == bool(compile_ecma(pattern).search(text)), (pattern, text)


@pytest.mark.parametrize(("pattern", "python"), [
    ("^a$", "^a\\Z"),
    ("a.b", "a[^\\n\\r\\u2028\\u2029]b"),
    ("\\d[\\d.]", "[0-9][0-9.]"),
    ("[^\\s/@]", "[^\\t\\n\\x0b\\x0c\\r \\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff/@]"),
    ("[$.]\\$\\.", "[$.]\\$\\."),  # in a class and escaped, $ and . are themselves
    ("(?:a|b)(?!c)(?=d){1,2}\\u0041\\x41", "(?:a|b)(?!c)(?=d){1,2}\\u0041\\x41"),
])
def test_the_differences_are_written_out(pattern: str, python: str) -> None:
    assert translate(pattern) == python


@pytest.mark.parametrize(("pattern", "why"), [
    ("(a)\\1", "\\1"), ("\\bword", "\\b"), ("\\p{L}", "\\p"), ("\\Z", "\\Z"), ("\\A", "\\A"),
    ("(?i)a", "only the groups"), ("(?<=a)b", "only the groups"), ("(?P<n>a)", "only the groups"),
    ("[[a]]", "nested set"), ("[a--b]", "nested set"), ("[]", "empty class"), ("[^]", "empty class"),
    ("[\\S]", "inside a class"), ("a\\", "lone backslash"), ("[a", "not closed"), ("\\u12", "4 hex digits"),
    ("a)", "not a valid regular expression"), ("*a", "not a valid regular expression"),
])
def test_what_both_do_not_read_alike_is_refused(pattern: str, why: str) -> None:
    with pytest.raises(RegexRefused, match=re.escape(why)):
        compile_ecma(pattern)
