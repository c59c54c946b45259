"""report_error: one annotation per place at fault, every issue of a broken file, a summary."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from domino_mlops.errors import GateRefused, Unreachable, ValidationFailed, ValidationIssue
from domino_mlops.report.errors import report_error


@pytest.fixture
def in_actions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    return summary


def test_refusal_with_places_annotates_each_manifest_line(in_actions: Path) -> None:
    refusal = GateRefused("churn", "3", "PROD", "it never passed STAGE")
    refusal.add("fraud", "7", "it failed STAGE")
    refusal.places = [("scripts/model_version.json", 3, "churn version 3 may not enter PROD"),
                      ("scripts/model_version.json", 7, "fraud version 7 may not enter PROD")]
    out = io.StringIO()

    report_error(refusal, stream=out)

    lines = out.getvalue().splitlines()
    assert lines[:2] == [
        "::error file=scripts/model_version.json,line=3,title=GateRefused::churn version 3 may not enter PROD",
        "::error file=scripts/model_version.json,line=7,title=GateRefused::fraud version 7 may not enter PROD",
    ]
    assert lines[2].startswith("hint: Deploy this exact version")
    summary = in_actions.read_text()
    assert "### :x: GateRefused (exit code 3)" in summary
    assert ("2 models may not enter PROD: churn version 3 may not enter PROD: it never passed STAGE; "
            "fraud version 7 may not enter PROD: it failed STAGE") in summary


def test_single_refusal_message_is_unchanged() -> None:
    refusal = GateRefused("churn", "3", "PROD", "it never passed STAGE")
    assert str(refusal) == "churn version 3 may not enter PROD: it never passed STAGE"
    assert refusal.refused == [("churn", "3", "it never passed STAGE")]


def test_error_without_places_is_one_annotation(in_actions: Path) -> None:
    out = io.StringIO()
    report_error(Unreachable("MLflow", "http://127.0.0.1:9", "connection refused", hint="Is it running?"),
                 stream=out)
    assert out.getvalue().splitlines() == [
        "::error title=Unreachable::cannot reach MLflow at http://127.0.0.1:9: connection refused",
        "hint: Is it running?"]


def test_validation_failure_annotates_every_issue(in_actions: Path) -> None:
    issues = [ValidationIssue("m.json", 2, "$.p1[0].version", "'latest' is not allowed"),
              ValidationIssue("m.json", 5, "$.p1[1].name", "missing")]
    out = io.StringIO()
    report_error(ValidationFailed(issues), stream=out)
    annotations = [line for line in out.getvalue().splitlines() if line.startswith("::error")]
    assert [a.split("::")[1] for a in annotations] == [
        "error file=m.json,line=2,title=domino-mlops validate", "error file=m.json,line=5,title=domino-mlops validate"]
    assert "2 problem(s) found." in out.getvalue()
