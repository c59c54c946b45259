"""The planner is pure: (desired, observed) -> steps. No server needed."""

from __future__ import annotations

import json

from domino_mlops.clients.mlflow.registry import ModelVersionInfo, RegisteredModelInfo
from domino_mlops.desired.environments import Environment, Environments
from domino_mlops.desired.manifest import ManifestEntry, VersionRef
from domino_mlops.observed.registry import ObservedModel
from domino_mlops.plan.planner import plan_registry
from domino_mlops.plan.render import plan_to_dict, plan_to_json, plan_to_markdown
from domino_mlops.plan.steps import MoveAlias, RecordLedger, SetTags, TransitionStage

STAGE = Environment("STAGE", "staging", "staging", stage_mode="both", stage="Staging")
PROD = Environment("PROD", "production", "production", stage_mode="alias", stage="Production", requires="STAGE")
ENVS = Environments("envs.yaml", (STAGE, PROD))


def version(number: str, stage: str = "None", tags: dict[str, str] | None = None) -> ModelVersionInfo:
    return ModelVersionInfo("churn", number, f"run{number}", f"models:/m-{number}", current_stage=stage,
                            tags=tuple(sorted((tags or {}).items())))


def observed(target: ModelVersionInfo, *others: ModelVersionInfo, aliases: dict[str, str] | None = None,
             requested: VersionRef | None = None) -> ObservedModel:
    model = RegisteredModelInfo("churn", tuple(sorted((aliases or {}).items())),
                                tuple(sorted({target, *others}, key=lambda v: int(v.version))))
    entry = ManifestEntry("p1", "churn", requested or VersionRef(number=int(target.version)), line=3)
    return ObservedModel(entry, model, target)


def test_new_version_moves_alias_and_stage_archiving_previous_holder() -> None:
    old = version("1", stage="Staging")
    plan = plan_registry(STAGE, ENVS, [observed(version("2"), old, aliases={"staging": "1"})])
    (change,) = plan.changes
    assert change.current == "1" and change.version == "2" and change.gate is None
    # Crash-safe order: tags, legacy stage, then the alias (the commit point), then the ledger.
    assert change.steps == (
        SetTags("churn", "2", (("domino_mlops.STAGE.status", "passed"),)),
        TransitionStage("churn", "2", "Staging", ("1",)),
        MoveAlias("churn", "staging", "1", "2"),
        RecordLedger("STAGE", "churn", "1", "2", "deploy"),
    )


def test_finished_work_plans_nothing() -> None:
    done = version("2", stage="Staging", tags={"domino_mlops.STAGE.status": "passed"})
    plan = plan_registry(STAGE, ENVS, [observed(done, aliases={"staging": "2"})])
    assert plan.changed == () and not plan.changes[0].changed
    assert "No changes" in plan_to_markdown(plan)


def test_gate_reports_missing_staging_pass() -> None:
    plan = plan_registry(PROD, ENVS, [observed(version("3"), aliases={"production": "2"})])
    (change,) = plan.changes
    assert change.gate is not None and not change.gate.passed
    assert "has not passed STAGE" in change.gate.detail and plan.blocked == (change,)
    assert [type(s) for s in change.steps] == [SetTags, MoveAlias, RecordLedger]  # alias mode: no stage


def test_gate_passes_with_the_exact_versions_tag() -> None:
    passed = version("3", tags={"domino_mlops.STAGE.status": "passed"})
    plan = plan_registry(PROD, ENVS, [observed(passed, aliases={"production": "2"})])
    assert plan.changes[0].gate.passed and plan.blocked == ()


def test_alias_request_is_shown_with_its_resolution_and_json_round_trips() -> None:
    plan = plan_registry(STAGE, ENVS, [observed(version("4"), aliases={"candidate": "4"},
                                                requested=VersionRef(alias="candidate"))])
    doc = json.loads(plan_to_json(plan))
    assert doc["changes"][0]["steps"][0]["tags"] == [["domino_mlops.STAGE.status", "passed"]]
    assert doc["alias"] == plan_to_dict(plan)["alias"] == "staging"
    assert doc["changed_models"] == ["churn"]
    assert doc["changes"][0]["requested"] == "@candidate" and doc["changes"][0]["version"] == "4"
    move = next(step for step in doc["changes"][0]["steps"] if step["kind"] == "move_alias")
    assert move == {"model": "churn", "alias": "staging", "from_version": None, "to_version": "4",
                    "kind": "move_alias"}
    assert "| `churn` | `p1` | - | 4 (@candidate) |" in plan_to_markdown(plan)


def test_markdown_cells_cannot_break_the_table() -> None:
    odd = ModelVersionInfo("a|b", "1", "r", "s")
    model = RegisteredModelInfo("a|b", (), (odd,))
    plan = plan_registry(STAGE, ENVS, [ObservedModel(ManifestEntry("p1", "a|b", VersionRef(number=1)), model, odd)])
    assert "`a\\|b`" in plan_to_markdown(plan)
