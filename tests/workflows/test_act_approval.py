"""Proof of approval through the real promote-production workflow under act, with the GitHub API
stand-in holding the run's review history: only an approval of this run by a reviewer other than
the person who started it lets the promote job write; self-approval and an environment whose
administrators may bypass its reviewers are refused (exit 3) with nothing written."""

from __future__ import annotations

import pytest

from domino_emulator.local.models import register_diabetes_model
from tests.workflows.conftest import APPROVER

pytestmark = pytest.mark.act


def _staged(stack, stem: str) -> tuple[str, str]:
    model = f"{stem}-{stack.project_id[:6]}"
    version = register_diabetes_model(stack.mlflow_uri, model)
    stack.manifest(model, version)
    assert stack.cli("deploy", "--env", "STAGE") == 0  # what deploy-staging did after the merge
    return model, version


def _promote(stack, actor: str):
    return stack.act("workflow_dispatch", "promote-production.yml", inputs={"project": ""}, actor=actor)


def _refused_without_writes(stack, run, model: str, writes: int, text: str) -> None:
    assert run.returncode != 0 and 3 in run.exit_statuses(job="promote"), run.explain()
    assert any(text in e["arg"] for e in run.commands("error")), [e["arg"] for e in run.commands("error")]
    assert "production" not in stack.aliases(model)
    assert stack.emu.counters.writes() == writes
    assert [e.action for e in stack.ledger(model)] == ["deploy"]


def test_the_reviewer_who_started_the_run_cannot_approve_it(stack) -> None:
    model, _ = _staged(stack, "act-self")
    writes = stack.emu.counters.writes()

    run = _promote(stack, actor=APPROVER)  # the only approval on record is the actor's own

    _refused_without_writes(stack, run, model, writes, "does not count: nobody approves their own run")
    asked = [r.path for r in stack.github.calls("GET") if r.path.endswith("/approvals")]
    assert asked and all(p.startswith("/repos/acme/models/actions/runs/") for p in asked)


def test_administrators_who_may_bypass_the_review_are_refused(stack) -> None:
    from tests.support.fake_github import recorded

    model, _ = _staged(stack, "act-bypass")
    body = recorded("environment")
    body["protection_rules"][1]["prevent_self_review"] = True
    body["can_admins_bypass"] = True
    stack.github.environment("acme/models", "production", body, policies=["main"])
    writes = stack.emu.counters.writes()

    run = _promote(stack, actor="merger")

    _refused_without_writes(stack, run, model, writes, "Allow administrators to bypass configured protection rules")


def test_an_approval_by_a_second_reviewer_promotes_and_is_recorded(stack) -> None:
    model, version = _staged(stack, "act-approved")

    run = _promote(stack, actor="merger")

    assert run.returncode == 0, run.explain()
    assert stack.aliases(model)["production"] == version
    entry = stack.ledger(model)[-1]
    assert entry.action == "promote" and entry.actor == "merger"
    assert entry.approved_by.startswith(f"{APPROVER} (GitHub environment production, run ")
