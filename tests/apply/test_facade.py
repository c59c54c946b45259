"""The facade (domino_mlops.api) as a library caller sees it, against a real MLflow server, the
Domino emulator over HTTP and a fake GitHub: every writing verb runs its safety checks itself, so
leaving out an argument cannot apply an unapproved or unreviewed plan.
"""

from __future__ import annotations

import pytest

from domino_mlops import api
from domino_mlops.errors import ApprovalMissing, ApprovalNotEnforced, ApprovalNotGiven, PlanChanged
from domino_emulator.local.models import SAMPLE_PATIENT, register_diabetes_model
from tests.apply.test_approval import _in_actions, github  # noqa: F401 - github: the fake GitHub fixture

SMOKE = {"input": SAMPLE_PATIENT, "expect_shape": [1]}


def _staged(pipeline, stem: str) -> tuple[str, str]:
    """A model serving in STAGE (so PROD's gate lets it in), nothing yet in PROD."""
    model = pipeline.unique(stem)
    version = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest({"name": model, "version": int(version), "smoke_test": SMOKE})
    assert pipeline.deploy().exit_code == 0
    return model, version


def _call(pipeline, verb: str, request):
    """The verb exactly as given (no approval added, unlike pipeline.call)."""
    from domino_mlops.connections import Connections
    from domino_mlops.desired.load import read_desired

    desired = read_desired("scripts/model_version.json", None)
    with Connections() as connections:
        return getattr(api, verb)(request, desired, connections)


def test_a_protected_environment_without_an_approval_is_refused_before_any_write(pipeline) -> None:
    model, _ = _staged(pipeline, "no-approval")
    writes, state = pipeline.emu.counters.writes(), pipeline.mlflow_state(model)

    with pytest.raises(ApprovalMissing) as refused:
        _call(pipeline, "promote", api.DeployRequest("PROD"))

    assert isinstance(refused.value, ApprovalNotGiven) and refused.value.exit_code == 3
    assert "LocalApproval" in refused.value.hint
    assert pipeline.emu.counters.writes() == writes  # Domino untouched
    assert pipeline.mlflow_state(model) == state  # MLflow untouched: no alias, tag, lease or ledger entry
    assert "production" not in pipeline.aliases(model)


def test_in_actions_an_unguarded_production_is_refused_before_any_write(pipeline, github) -> None:  # noqa: F811
    model, _ = _staged(pipeline, "unguarded")
    _in_actions(pipeline, github)  # GitHub knows no production environment: nothing enforces an approval
    writes, state = pipeline.emu.counters.writes(), pipeline.mlflow_state(model)

    with pytest.raises(ApprovalNotEnforced):
        _call(pipeline, "promote", api.DeployRequest("PROD", approval=api.GitHubRun.from_env()))

    assert pipeline.emu.counters.writes() == writes and pipeline.mlflow_state(model) == state


def test_in_actions_a_local_approval_does_not_count(pipeline, monkeypatch) -> None:
    """An insider's script in a workflow job, holding production credentials, cannot approve its own
    promotion by naming a local user: only the run's approval, asked of GitHub, counts there."""
    model, _ = _staged(pipeline, "self-vouched")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    writes, state = pipeline.emu.counters.writes(), pipeline.mlflow_state(model)

    with pytest.raises(ApprovalNotGiven) as refused:
        _call(pipeline, "promote", api.DeployRequest("PROD", approval=api.LocalApproval("insider")))

    assert "local user's approval does not count" in str(refused.value) and "GitHubRun" in refused.value.hint
    assert pipeline.emu.counters.writes() == writes and pipeline.mlflow_state(model) == state


def test_a_plan_that_is_not_the_approved_one_is_refused_with_nothing_written(pipeline) -> None:
    model, _ = _staged(pipeline, "digest")
    writes, state = pipeline.emu.counters.writes(), pipeline.mlflow_state(model)
    shown = []

    class Shown(api.Reporter):
        def on_plan(self, plan, env):
            shown.append(plan)

    with pytest.raises(PlanChanged) as changed:
        pipeline.call("promote", api.DeployRequest("PROD", expect_plan_digest="0" * 64), Shown())

    assert changed.value.exit_code == 4 and changed.value.approved == "0" * 64
    assert [c.model for c in shown[0].changed] == [model]  # shown first, so the reader sees what differs
    assert pipeline.emu.counters.writes() == writes and pipeline.mlflow_state(model) == state


def test_nothing_to_do_says_why_and_applies_nothing(pipeline) -> None:
    model, version = _staged(pipeline, "steady")
    writes, state = pipeline.emu.counters.writes(), pipeline.mlflow_state(model)

    outcome = pipeline.deploy()

    assert outcome.result is None and outcome.exit_code == 0
    assert outcome.nothing_to_do == "already serves what the manifest says"
    assert [(c.model, c.version, c.changed) for c in outcome.plan.changes] == [(model, version, False)]
    assert outcome.environment.name == "STAGE" and outcome.approved_by == ""
    assert pipeline.emu.counters.writes() == writes and pipeline.mlflow_state(model) == state


def test_the_local_approval_is_recorded_in_the_ledger(pipeline) -> None:
    model, version = _staged(pipeline, "local")

    outcome = pipeline.call("promote", api.DeployRequest("PROD", approval=api.LocalApproval("alice")))

    assert outcome.exit_code == 0 and outcome.approved_by == "local user alice, no GitHub approval"
    assert pipeline.aliases(model)["production"] == version
    assert pipeline.ledger(model)[-1]["approved_by"] == "local user alice, no GitHub approval"


def test_all_names_the_verbs_their_requests_and_outcomes_and_nothing_lower_level() -> None:
    assert sorted(api.__all__) == sorted([
        "deploy", "export", "history", "plan", "promote", "rollback", "rollout",
        "DeployRequest", "ExportRequest", "HistoryRequest", "PlanRequest", "RollbackRequest",
        "DeployOutcome", "ExportRunOutcome", "HistoryOutcome", "PlanOutcome",
        "Action", "Approval", "GitHubRun", "LocalApproval", "PlanAction", "Reporter", "RollbackTarget"])
    for name in ("apply", "ApplyOptions", "guard_writes", "select_entries"):  # the unguarded path is private
        assert not hasattr(api, name), name
