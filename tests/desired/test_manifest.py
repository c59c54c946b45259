"""The manifest: Domino's legacy shape passes; each broken file gets its own clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from domino_mlops.cli import main
from domino_mlops.desired.manifest import VersionRef, load_manifest, read_manifest
from domino_mlops.errors import ValidationFailed

REPO = Path(__file__).resolve().parents[2]
LEGACY = '{"6650c1a3e1b2c3d4e5f60718": [{"name": "DEMO4-mlflow-demo", "version": 2}]}'


def write(tmp_path: Path, text: str, name: str = "model_version.json") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_domino_legacy_shape_passes_unchanged(tmp_path: Path) -> None:
    manifest = load_manifest(write(tmp_path, LEGACY))
    (entry,) = manifest.entries
    assert (entry.project_id, entry.name, entry.version) == (
        "6650c1a3e1b2c3d4e5f60718", "DEMO4-mlflow-demo", VersionRef(number=2))
    assert entry.environments is None and entry.applies_to("PROD")


def test_shipped_manifest_is_valid_and_points_editors_at_the_packaged_schema() -> None:
    path = REPO / "scripts" / "model_version.json"
    manifest = load_manifest(path)
    # A fresh fork promotes nothing until a team adds its first project.
    assert manifest.entries == ()
    schema_ref = json.loads(path.read_text())["$schema"]
    assert (path.parent / schema_ref).resolve() == (
        REPO / "src" / "domino_mlops" / "desired" / "schemas" / "manifest.schema.json").resolve()
    assert (path.parent / schema_ref).is_file()


def test_optional_fields_and_alias_versions(tmp_path: Path) -> None:
    text = json.dumps({"p1": [
        {"name": "churn", "version": "@candidate", "environments": ["STAGE"], "replicas": 3,
         "smoke_test": {"input": {"x": 1}, "expect_shape": [1], "max_latency_ms": 500}},
        {"name": "fraud", "version": "7"},
    ]}, indent=2)
    manifest = load_manifest(write(tmp_path, text))
    churn, fraud = manifest.entries
    assert churn.version == VersionRef(alias="candidate") and str(churn.version) == "@candidate"
    assert churn.environments == ("STAGE",) and not churn.applies_to("PROD")
    assert churn.smoke_test.expect_shape == (1,) and churn.smoke_test.input == {"x": 1}
    assert churn.replicas == 3 and churn.line == 3
    lines = text.splitlines()
    assert fraud.version == VersionRef(number=7) and '"fraud"' in lines[fraud.line]
    assert manifest.for_environment("PROD") == (fraud,)


BROKEN = [
    ("bad-json", '{"p1": [{"name": "a", "version": 1},]}', 1, "$", "invalid JSON"),
    ("wrong-type-version", '{"p1": [\n {"name": "a", "version": true}\n]}', 2, "$.p1[0].version",
     "is not a version"),
    ("model-without-its-list", '{"p1": {"name": "a", "version": 1}}', 1, "$.p1",
     "unknown field 'name', 'version'; a project is a list of models"),
    ("wrong-type-project", '{"p1": "churn"}', 1, "$.p1", 'must be a list or a mapping, not "churn"'),
    ("name-not-string", '{"p1": [\n {"name": 5, "version": 1}\n]}', 2, "$.p1[0].name", "must be a string"),
    ("missing-version", '{"p1": [\n {"name": "a"}\n]}', 2, "$.p1[0]", "missing required field 'version'"),
    ("latest", '{"p1": [\n {"name": "a",\n  "version": "latest"}\n]}', 3, "$.p1[0].version",
     "'latest' is not allowed"),
    ("unknown-field", '{"p1": [\n {"name": "a", "version": 1, "stage": "Production"}\n]}', 2, "$.p1[0]",
     "unknown field 'stage'"),
    ("duplicate-model", '{"p1": [\n {"name": "a", "version": 1},\n {"name": "a", "version": 2}\n]}', 3,
     "$.p1[1].name", "listed twice"),
    ("model-under-two-projects", '{"p1": [\n {"name": "a", "version": 1}],\n "p2": [\n {"name": "a", "version": 2}]}',
     4, "$.p2[0].name", "under project p2 and under project p1 (line 2)"),
    ("duplicate-project-key", '{"p1": [],\n "p1": []}', 2, "$.p1", "appears more than once"),
    ("bad-project-id", '{"has space": []}', 1, '$["has space"]', "not a valid key"),
    ("zero-version", '{"p1": [\n {"name": "a", "version": 0}\n]}', 2, "$.p1[0].version", "is not a version"),
    ("ragged-smoke-input", '{"p1": [{"name": "a", "version": 1, "smoke_test": {"input":\n'
     ' {"columns": ["x", "y"], "data": [[1, 2],\n [3]]}}}]}', 3, "$.p1[0].smoke_test.input.data[1]",
     "row 1 has 1 value(s), but there are 2 columns"),
]


@pytest.mark.parametrize(("case", "text", "line", "path", "message"), BROKEN, ids=[c[0] for c in BROKEN])
def test_broken_manifest_gives_its_own_clear_error(tmp_path: Path, case: str, text: str, line: int,
                                                   path: str, message: str) -> None:
    manifest, issues = read_manifest(write(tmp_path, text))
    assert manifest is None
    assert len(issues) == 1, issues
    (issue,) = issues
    assert (issue.line, issue.path) == (line, path), issue
    assert message in issue.message


def test_every_error_is_reported_at_once(tmp_path: Path) -> None:
    text = '{"p1": [\n {"name": "a", "version": "latest"},\n {"name": 3, "version": 1},\n {"version": 2}\n]}'
    with pytest.raises(ValidationFailed) as info:
        load_manifest(write(tmp_path, text))
    assert [(i.line, i.path) for i in info.value.issues] == [
        (2, "$.p1[0].version"), (3, "$.p1[1].name"), (4, "$.p1[2]")]
    assert info.value.exit_code == 2


def test_validate_cli_exit_2_lists_each_error_and_writes_nothing(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    bad = write(tmp_path, '{"p1": [\n {"name": "a", "version": "latest"}\n]}')
    before = sorted(p.name for p in tmp_path.iterdir())
    code = main(["validate", "--manifest", str(bad)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{bad}:2: $.p1[0].version: 'latest' is not allowed" in err
    assert "hint:" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    manifest, issues = read_manifest(tmp_path / "nope.json")
    assert manifest is None and "file not found" in issues[0].message
