"""Alias names: `validate` refuses exactly what MLflow refuses (ASCII names), checked against
MLflow's own validation functions."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mlflow.exceptions import MlflowException
from mlflow.utils.validation import _validate_model_alias_name, _validate_model_alias_name_reserved

from domino_mlops.desired.aliases import alias_problem
from domino_mlops.desired.environments import read_environments
from domino_mlops.desired.manifest import VersionRef, read_manifest
from domino_mlops.errors import ConfigError


def mlflow_refuses(alias: str) -> bool:
    try:
        _validate_model_alias_name(alias)
        _validate_model_alias_name_reserved(alias)
    except MlflowException:
        return True
    return False


names = st.one_of(
    st.text(string.ascii_letters + string.digits + "_-.@ /", min_size=1, max_size=12),
    st.sampled_from(["latest", "LATEST", "Latest", "v1", "V22", "v", "v1a", "version1", "x" * 255, "x" * 256]),
    st.from_regex(r"[vV][0-9]{1,4}", fullmatch=True),
)


@settings(derandomize=True, max_examples=300)
@given(names)
def test_we_refuse_exactly_what_mlflow_refuses(alias: str) -> None:
    assert (alias_problem(alias) is not None) == mlflow_refuses(alias), alias


@settings(derandomize=True, max_examples=200)
@given(names)
def test_the_manifest_schema_agrees_with_the_rules(tmp_path_factory, alias: str) -> None:
    path = tmp_path_factory.mktemp("m") / "m.json"
    path.write_text('{"p1": [{"name": "a", "version": %s}]}' % __import__("json").dumps("@" + alias))
    _, issues = read_manifest(path)
    assert bool(issues) == (alias_problem(alias) is not None), (alias, issues)


@pytest.mark.parametrize(("version", "words"), [
    ("@latest", "'latest' is reserved by MLflow"),
    ("@Latest", "'Latest' is reserved by MLflow"),
    ("@v2", "reserved by MLflow for version 2; write the number 2"),
    ("@a.b", "only letters, digits"),
])
def test_a_reserved_or_refused_alias_in_the_manifest_is_an_issue_on_its_line(tmp_path: Path, version: str,
                                                                             words: str) -> None:
    path = tmp_path / "m.json"
    path.write_text('{"p1": [\n {"name": "a",\n  "version": "%s"}\n]}' % version)
    _, (issue,) = read_manifest(path)
    assert (issue.line, issue.path) == (3, "$.p1[0].version") and words in issue.message, issue


def test_version_on_the_command_line_follows_the_same_rules() -> None:
    with pytest.raises(ConfigError, match="reserved by MLflow") as info:
        VersionRef.parse("@latest")
    assert info.value.exit_code == 2 and info.value.hint
    assert VersionRef.parse("@candidate") == VersionRef(alias="candidate")


@pytest.mark.parametrize(("text", "line", "words"), [
    ("environments:\n  - name: DEV\n    mlflow:\n      alias: latest\n", 4, "'latest' is reserved by MLflow"),
    ("environments:\n  - name: DEV\n    mlflow: {alias: v3}\n", 3, "reserved by MLflow for version 3"),
    ("environments:\n  - name: LATEST\n", 2, "the alias 'latest' of 'LATEST' cannot be used"),
])
def test_an_environment_alias_mlflow_refuses_is_an_issue(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = tmp_path / "e.yaml"
    path.write_text(text)
    _, (issue,) = read_environments(path)
    assert issue.line == line and words in issue.message, issue
