"""A rollback is planned like a promotion: `rollback --plan-only` shows from -> to per data plane
and a digest, writing nothing; the apply re-plans and refuses (exit 4, nothing written) when the
environment moved since (an old rollback re-run after a newer promotion), and a re-run of a
finished rollback still changes nothing.
"""

from __future__ import annotations

import json

import pytest

from domino_mlops import api
from domino_mlops.errors import PlanChanged, RollbackMoved
from domino_emulator.local.models import register_diabetes_model
from tests.apply.test_pipeline import entry
from tests.report.test_github import parse_output_file


def fresh_outputs(pipeline) -> None:
    for name in ("github_output", "summary.md"):
        (pipeline.root / name).write_text("")


def planned(pipeline, model: str) -> dict[str, str]:
    """Run the plan job's command; return its outputs (the CLI: the apply job reads them)."""
    fresh_outputs(pipeline)
    assert pipeline.run("rollback", "--env", "PROD", "--model", model, "--plan-only") == 0
    return parse_output_file((pipeline.root / "github_output").read_text())


def promoted(pipeline, model: str, *alphas: float) -> list[str]:
    """PROD through one version per alpha, in order (each deployed to STAGE, then promoted)."""
    versions = []
    for alpha in alphas:
        version = register_diabetes_model(pipeline.mlflow_uri, model, alpha=alpha)
        pipeline.manifest(entry(model, version))
        assert pipeline.deploy().exit_code == 0 and pipeline.deploy("promote").exit_code == 0
        versions.append(version)
    return versions


def snapshot(pipeline, model: str) -> tuple:
    return pipeline.mlflow_state(model), pipeline.emu.counters.writes()


def rollback(pipeline, model: str, approved: dict[str, str] | None = None, **fields) -> api.DeployOutcome:
    """The rollback job through the facade, held to the plan job's outputs when given."""
    if approved is not None:
        fields.setdefault("expect_plan_digest", approved["plan-digest"])
    return pipeline.call("rollback", api.RollbackRequest("PROD", model, **fields))


class _Notices(api.Reporter):
    def __init__(self) -> None:
        self.lines: list[str] = []

    def on_notice(self, message: str) -> None:
        self.lines.append(message)


def test_the_plan_shows_from_to_per_data_plane_and_writes_nothing(pipeline, capsys) -> None:
    model = pipeline.unique("rb-plan")
    v1, v2 = promoted(pipeline, model, 1.0, 5.0)
    before = snapshot(pipeline, model)

    out = planned(pipeline, model)

    assert snapshot(pipeline, model) == before  # no alias, tag, ledger run or Domino write; no lease run
    assert (out["from-version"], out["to-version"]) == (v2, v1)
    (move,) = json.loads(out["rollback-json"])
    assert (move["model"], move["from"], move["to"], move["alias_now"]) == (model, v2, v1, v2)
    assert [(p["wave"], p["model_api"], p["hardware_tier"]) for p in move["data_planes"]] == [
        (1, f"{model}-prod", "medium-k8s"), (2, f"{model}-prod-prod-small", "prod-small")]
    summary = (pipeline.root / "summary.md").read_text()
    assert f"| {model} | 1 | {model}-prod | medium-k8s | {v2} | {v1} | to change |" in summary
    assert f"| {model} | 2 | {model}-prod-prod-small | prod-small | {v2} | {v1} | to change |" in summary
    assert f"Plan digest: `{out['plan-digest']}`" in summary and out["has-changes"] == "true"
    assert pipeline.aliases(model)["production"] == v2


def test_an_old_rollback_after_a_newer_promotion_is_refused_and_writes_nothing(pipeline) -> None:
    model = pipeline.unique("rb-stale")
    v1, v2 = promoted(pipeline, model, 1.0, 5.0)
    approved = planned(pipeline, model)  # back from v2 to v1, approved...
    (v3,) = promoted(pipeline, model, 9.0)  # ...but a newer promotion ran before the rollback job did
    before = snapshot(pipeline, model)

    with pytest.raises(RollbackMoved) as moved:
        rollback(pipeline, model, approved, expect_from=approved["from-version"])

    assert moved.value.exit_code == 4
    err = f"{moved.value}\n{moved.value.hint}"
    assert f"goes back from version {v2}, but PROD is now at version {v3}" in err
    assert "moved since this rollback was planned" in err
    assert snapshot(pipeline, model) == before and pipeline.aliases(model)["production"] == v3
    # The digest alone catches it too (it covers from and to).
    with pytest.raises(PlanChanged, match="is not the one that was approved"):
        rollback(pipeline, model, approved)
    assert snapshot(pipeline, model) == before


def test_the_approved_rollback_applies_and_a_rerun_changes_nothing(pipeline, capsys) -> None:
    model = pipeline.unique("rb-apply")
    v1, v2 = promoted(pipeline, model, 1.0, 5.0)
    approved = planned(pipeline, model)
    notices = _Notices()

    assert rollback(pipeline, model, approved, expect_from=approved["from-version"], reporter=notices).exit_code == 0

    assert any(line.startswith("The plan is the approved one") for line in notices.lines)
    assert pipeline.aliases(model)["production"] == v1
    assert (pipeline.ledger(model)[-1]["action"], pipeline.ledger(model)[-1]["from"]) == ("rollback", v2)
    # A re-run of the rollback job alone: the same from -> to, finished: nothing written.
    after = snapshot(pipeline, model)
    assert rollback(pipeline, model, approved, expect_from=approved["from-version"]).exit_code == 0
    assert snapshot(pipeline, model) == after
    # A re-run of the whole workflow: its plan is the same rollback, with nothing left to do.
    capsys.readouterr()
    again = planned(pipeline, model)
    assert "Nothing to do" in capsys.readouterr().out
    assert (again["plan-digest"], again["has-changes"]) == (approved["plan-digest"], "false")
    assert f"| {model} | 1 | {model}-prod | medium-k8s | {v2} | {v1} | serves {v1} |" in \
        (pipeline.root / "summary.md").read_text()
    assert snapshot(pipeline, model) == after


def test_an_alias_moved_by_hand_is_refused_at_plan_time(pipeline) -> None:
    model = pipeline.unique("rb-hand")
    v1, v2 = promoted(pipeline, model, 1.0, 5.0)
    v3 = register_diabetes_model(pipeline.mlflow_uri, model, alpha=9.0)
    pipeline.mlflow.set_registered_model_alias(model, "production", v3)  # outside domino-mlops
    before = snapshot(pipeline, model)

    with pytest.raises(RollbackMoved) as moved:
        rollback(pipeline, model, plan_only=True)

    assert moved.value.exit_code == 4
    assert f"goes back from version {v2}, but MLflow's alias 'production' names version {v3}" in str(moved.value)
    assert snapshot(pipeline, model) == before
