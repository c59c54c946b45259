"""`history` for people and for tools (issue 24, item 6): a text timeline per model, and
``--format json|csv`` with every ledger field (``--json`` stays as the alias)."""

from __future__ import annotations

import csv
import io
import json

from domino_emulator.local.models import SAMPLE_PATIENT, register_diabetes_model


def entry(model: str, version: str) -> dict:
    return {"name": model, "version": int(version), "smoke_test": {"input": SAMPLE_PATIENT}}


def test_history_prints_a_timeline_and_json_and_csv_for_tools(pipeline, capsys) -> None:
    model = pipeline.unique("timeline")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    v2 = register_diabetes_model(pipeline.mlflow_uri, model, alpha=5.0)
    pipeline.manifest(entry(model, v1))
    assert pipeline.run("deploy") == 0 and pipeline.run("promote") == 0
    pipeline.manifest(entry(model, v2))
    assert pipeline.run("deploy") == 0
    capsys.readouterr()

    assert pipeline.run("history", "--model", model, "--format", "timeline") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"Timeline of {model} (3 changes; * forward, < rollback, ^ export)"
    # Oldest first, one line each: what moved where, from what to what.
    moves = [line.split()[1:6] for line in lines[1:4]]
    assert moves == [["*", "STAGE", "deploy", "-", "->"], ["*", "PROD", "promote", "-", "->"],
                     ["*", "STAGE", "deploy", v1, "->"]]
    assert [line.split()[6] for line in lines[1:4]] == [v1, v1, v2]
    assert lines[4] == f"Now: PROD {v1}, STAGE {v2}"

    assert pipeline.run("history", "--model", model, "--format", "json") == 0
    as_json = json.loads(capsys.readouterr().out)
    assert pipeline.run("history", "--model", model, "--json") == 0  # the alias says the same
    assert json.loads(capsys.readouterr().out) == as_json
    assert sorted((e["environment"], e["to_version"]) for e in as_json) == [("PROD", v1), ("STAGE", v1), ("STAGE", v2)]
    # An entry names its subject (a model here; a job or an app elsewhere), and its kind says which.
    assert {(e["subject"], e["kind"]) for e in as_json} == {(model, "model")} and "model" not in as_json[0]

    assert pipeline.run("history", "--model", model, "--env", "PROD", "--format", "csv") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["environment"], r["action"], r["from_version"], r["to_version"]) for r in rows] == [
        ("PROD", "promote", "", v1)]
    assert rows[0]["model_api_ids"] and rows[0]["run_id"] == next(e["run_id"] for e in as_json if e["environment"] == "PROD")


def test_json_and_another_format_together_are_exit_2_naming_both(pipeline, capsys) -> None:
    assert pipeline.run("history", "--model", "any", "--json", "--format", "csv") == 2
    err = capsys.readouterr().err
    assert "--json and --format csv disagree" in err and "hint:" in err
