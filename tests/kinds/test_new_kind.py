"""A new kind of change costs one module and one ``register`` call: the "note" kind of
tests/kinds/note_kind.py goes through api.plan, the digest, the Markdown plan, the executor, the
results and the ledger without any other file knowing it exists. Against a real MLflow server
(the ledger) and the Domino emulator over HTTP, like a deploy."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from domino_mlops import api
from domino_mlops.apply.options import RunInfo
from domino_mlops.connections import Connections
from domino_mlops.desired.environments import Environment
from domino_mlops.desired.load import read_desired
from domino_mlops.kinds import register, unregister
from domino_mlops.plan.digest import plan_digest, projects_with_work
from domino_mlops.plan.render import plan_to_markdown
from domino_mlops.plan.steps import Plan
from domino_mlops.report.results import result_to_dict, result_to_markdown
from tests.kinds.note_kind import NoteSpec, Notes, WriteNote

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def notes(pipeline, tmp_path: Path) -> Iterator[Notes]:
    # The manifest lists no model, job or app: whatever the plan holds is the new kind's.
    (pipeline.root / "scripts" / "model_version.json").write_text(json.dumps({pipeline.project_id: {"models": []}}))
    folder = tmp_path / "notes"
    folder.mkdir()
    kind = register(Notes(folder, [NoteSpec(pipeline.project_id, pipeline.unique("release-notes"), "v1 is out")]))
    yield kind
    unregister(kind)


def desired():
    return read_desired("scripts/model_version.json", "scripts/environments.yaml")


def plan_stage(connections: Connections) -> tuple[Plan, Environment]:
    """The plan a deploy of STAGE would apply, through the facade."""
    planned = api.plan(api.PlanRequest("STAGE", action="deploy", commit=COMMIT), desired(), connections)
    return planned.plan, planned.environment


def test_a_kind_in_one_module_is_planned_digested_rendered_applied_and_recorded(pipeline, notes) -> None:
    name = notes.notes[0].name
    with Connections() as connections:
        plan, stage = plan_stage(connections)
        (change,) = plan.workloads
        assert (change.kind, change.subject, change.phase) == ("note", "note", "after_models")
        assert [type(step) for step in change.steps][0] is WriteNote and plan.has_work

        # Its plan row, as its kind describes it, in the table the jobs and apps use.
        assert (f"| after the models | note | `{name}` | `{pipeline.project_id}` | absent | write note "
                f"'{name}-STAGE.txt' (9 characters)<br>record deploy (none) -> {change.digest} in the ledger |"
                in plan_to_markdown(plan))
        # Its digest contribution: the approval covers the note's definition, and only the kind adds it.
        assert plan_digest(plan, stage) != plan_digest(replace(plan, workloads=()), stage)
        other = replace(notes.notes[0], text="v2 is out")
        notes.notes = (other,)
        assert plan_digest(plan_stage(connections)[0], stage) != plan_digest(plan, stage)
        notes.notes = (replace(other, text="v1 is out"),)
        assert projects_with_work(plan) == [pipeline.project_id]

        outcome = api.deploy(api.DeployRequest("STAGE", run=RunInfo(commit_sha=COMMIT),
                                               expect_plan_digest=plan_digest(plan, stage)), desired(), connections)
        result = outcome.result
        assert result is not None, outcome.nothing_to_do

        assert result.exit_code == 0
        assert (notes.folder / f"{name}-STAGE.txt").read_text() == "v1 is out"
        (outcome,) = result_to_dict(result)["workloads"]
        assert (outcome["kind"], outcome["name"], outcome["status"], outcome["writes"]) == ("note", name, "done", 2)
        assert (f"| :white_check_mark: | note | `{name}` | done | - | wrote {name}-STAGE.txt |"
                in result_to_markdown(result, title="Deploy"))
        (entry,) = pipeline.ledger(name)
        assert (entry["kind"], entry["to"], entry["environment"]) == ("note", change.digest, "STAGE")

        # Done and recorded: the next plan has nothing of it to do.
        again, _ = plan_stage(connections)
        assert [w.steps for w in again.workloads] == [()] and not again.has_work


def test_an_unregistered_kind_is_not_planned(pipeline, notes) -> None:
    unregister(notes)
    with Connections() as connections:
        assert plan_stage(connections)[0].workloads == ()
