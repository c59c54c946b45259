"""The production gate in Actions (GITHUB_ACTIONS=true), against MLflow, the emulator and a fake
GitHub answering with its published examples: a protected environment whose GitHub environment
does not enforce an approval, a run nobody else approved, and credentials that reach production
from an unguarded environment are each refused (ApprovalNotEnforced, ApprovalMissing,
ReachNotGuarded: exit 3) with nothing written. The refusals are asked of the facade with the run's
approval (api.GitHubRun.from_env(), as the CLI passes it in Actions); the CLI is driven where its
own part is the subject: what it prints, and which approval it picks in and outside Actions.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import pytest

from domino_mlops import api
from domino_mlops.errors import ApprovalMissing, ApprovalNotEnforced, ReachNotGuarded
from domino_emulator.local.models import SAMPLE_PATIENT, register_diabetes_model
from tests.support.fake_github import FakeGitHub, fake_github
from tests.support.fake_github import recorded as fake_recorded

REPO = "acme/models"
TOKEN = "ghs_protectionCheck0123456789"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with fake_github({TOKEN: "read"}) as fake:
        yield fake


RUN_ID = "4242"


def _in_actions(pipeline, github: FakeGitHub, *, ref: str = "refs/heads/main", actor: str = "octocat",
                triggering_actor: str | None = None) -> None:
    for name, value in {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": REPO, "GITHUB_TOKEN": TOKEN,
                        "GITHUB_API_URL": github.url, "GITHUB_RUN_ID": RUN_ID, "GITHUB_ACTOR": actor,
                        "GITHUB_TRIGGERING_ACTOR": triggering_actor or actor, "GITHUB_REF": ref,
                        "GITHUB_WORKSPACE": str(pipeline.root)}.items():
        pipeline.monkeypatch.setenv(name, value)


def _guarded(github: FakeGitHub, *, approver: str | None = "second-reviewer") -> None:
    """Production as the README asks, staging kept to main (it shares production's reach), and
    this run approved by someone other than its actor."""
    github.protect(REPO, "production")
    github.protect(REPO, "staging", reviewers=False)
    if approver:
        github.approve(REPO, "production", approver, run_id=RUN_ID)


def _production_setting(github: FakeGitHub, setting: str) -> None:
    body = fake_recorded("environment")
    for rule in body["protection_rules"]:
        if rule["type"] == "required_reviewers":
            rule["prevent_self_review"] = setting != "self-review"
    if setting == "admin-bypass":
        body["can_admins_bypass"] = True
    if setting == "protected-branches-none":
        body["deployment_branch_policy"] = {"protected_branches": True, "custom_branch_policies": False}
        github.protected_branches[REPO] = []
    github.environment(REPO, "production", body, policies=["main"])


def _passed_staging(pipeline, model: str) -> str:
    version = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest({"name": model, "version": int(version),
                       "smoke_test": {"input": SAMPLE_PATIENT, "expect_shape": [1]}})
    assert pipeline.deploy().exit_code == 0
    return version


def _as_this_run(pipeline, verb: str = "promote", env: str | None = None) -> api.DeployOutcome:
    """The verb through the facade, approved (or not) by GitHub's record of this run."""
    return pipeline.deploy(verb, env, approval=api.GitHubRun.from_env())


class _Warnings(api.Reporter):
    def __init__(self) -> None:
        self.lines: list[str] = []

    def on_warning(self, subject: str, message: str) -> None:
        self.lines.append(message)


@pytest.mark.parametrize("setting", ["missing", "no-rules", "other-branches", "self-review", "admin-bypass",
                                     "protected-branches-none"])
def test_promote_refuses_an_unguarded_production_and_writes_nothing(pipeline, github, setting) -> None:
    model = pipeline.unique("unguarded")
    version = _passed_staging(pipeline, model)
    if setting == "no-rules":
        github.environment(REPO, "production", "environment-no-rules")
    elif setting == "other-branches":
        github.environment(REPO, "production", "environment", policies="branch-policies")
    elif setting != "missing":
        _production_setting(github, setting)
    github.approve(REPO, "production", "second-reviewer", run_id=RUN_ID)  # approved: the setting alone refuses
    _in_actions(pipeline, github)
    before, writes = pipeline.mlflow_state(model), pipeline.emu.counters.writes()

    with pytest.raises(ApprovalNotEnforced) as refused:
        _as_this_run(pipeline)

    err = f"{refused.value}\n{refused.value.hint}"
    assert refused.value.exit_code == 3
    assert "PROD is protected, but its GitHub environment does not enforce an approval" in err
    assert "Settings > Environments" in err and TOKEN not in err
    expected = {"self-review": "Prevent self-review", "admin-bypass": "Allow administrators to bypass",
                "protected-branches-none": "protects none, so every branch may deploy"}.get(setting, "")
    assert expected in err
    assert pipeline.mlflow_state(model) == before and pipeline.emu.counters.writes() == writes
    assert pipeline.aliases(model).get("production") is None and version


def test_promote_goes_ahead_when_another_reviewer_approved_this_run(pipeline, github, capsys) -> None:
    # On the CLI: in Actions it must hand the facade GitHub's approval (not the local user's) and say who approved.
    model = pipeline.unique("guarded")
    version = _passed_staging(pipeline, model)
    _guarded(github)
    _in_actions(pipeline, github)
    capsys.readouterr()

    assert pipeline.run("promote", "--env", "PROD") == 0

    assert pipeline.aliases(model)["production"] == version
    assert "PROD was approved in this run by second-reviewer" in capsys.readouterr().out
    asked = {r.path for r in github.calls("GET")}
    assert {"/repos/acme/models/environments/production", f"/repos/acme/models/actions/runs/{RUN_ID}/approvals"} <= asked
    assert pipeline.ledger(model)[-1]["approved_by"].startswith("second-reviewer (GitHub environment production")


@pytest.mark.parametrize("who", ["actor", "triggering-actor", "initiated-by", "another-run", "another-environment",
                                 "rejected"])
def test_an_approval_that_does_not_count_refuses_and_writes_nothing(pipeline, github, who) -> None:
    model = pipeline.unique(f"self-{who}")
    _passed_staging(pipeline, model)
    _guarded(github, approver=None)
    if who in ("actor", "triggering-actor", "initiated-by"):
        github.approve(REPO, "production", "octocat" if who == "actor" else "mallory", run_id=RUN_ID)
    elif who == "another-run":
        github.approve(REPO, "production", "second-reviewer", run_id="1")
    elif who == "another-environment":
        github.approve(REPO, "staging", "second-reviewer", run_id=RUN_ID)
    else:
        github.approve(REPO, "production", "second-reviewer", run_id=RUN_ID, state="rejected")
    # A re-run by mallory of octocat's run: neither may approve it. Or mallory merged, and another
    # workflow's token dispatched this run (its actor a bot): mallory is handed over as initiated-by.
    _in_actions(pipeline, github, triggering_actor="mallory" if who == "triggering-actor" else None)
    if who == "initiated-by":
        pipeline.monkeypatch.setenv("GITHUB_ACTOR", "github-actions[bot]")
        pipeline.monkeypatch.setenv("GITHUB_TRIGGERING_ACTOR", "github-actions[bot]")
        pipeline.monkeypatch.setenv("DMLOPS_INITIATED_BY", "mallory,mallory")
    before, writes = pipeline.mlflow_state(model), pipeline.emu.counters.writes()

    with pytest.raises(ApprovalMissing) as refused:
        _as_this_run(pipeline)

    err = str(refused.value)
    assert refused.value.exit_code == 3
    assert f"PROD was not approved in this run ({RUN_ID}) by a reviewer of 'production' other than" in err
    if who in ("actor", "triggering-actor", "initiated-by"):
        assert "does not count: nobody approves their own run" in err
    assert pipeline.mlflow_state(model) == before and pipeline.emu.counters.writes() == writes


def test_allow_admin_bypass_is_accepted_with_a_warning(pipeline, github) -> None:
    model = pipeline.unique("bypass")
    version = _passed_staging(pipeline, model)
    _guarded(github)
    _production_setting(github, "admin-bypass")
    environments = pipeline.root / "scripts" / "environments.yaml"
    environments.write_text(environments.read_text().replace(
        "    requires: STAGE ", "    allow_admin_bypass: true\n    requires: STAGE "))
    _in_actions(pipeline, github)
    warnings = _Warnings()

    assert pipeline.deploy("promote", approval=api.GitHubRun.from_env(), reporter=warnings).exit_code == 0

    assert any("accepted: environments.yaml says allow_admin_bypass: true" in line for line in warnings.lines)
    assert pipeline.aliases(model)["production"] == version
    assert pipeline.run("plan", "--env", "PROD") == 0  # every plan shows it, not only the apply's log
    assert "PROD allows administrators to bypass the review of 'production'" in (pipeline.root / "summary.md").read_text()


def test_staging_that_shares_production_reach_must_be_kept_to_the_default_branch(pipeline, github) -> None:
    model = pipeline.unique("reach")
    version = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest({"name": model, "version": int(version)})
    github.protect(REPO, "production")  # production is guarded, staging (same project, same model) is not
    _in_actions(pipeline, github)
    before, writes = pipeline.mlflow_state(model), pipeline.emu.counters.writes()

    with pytest.raises(ReachNotGuarded) as refused:
        _as_this_run(pipeline, "deploy")

    err = f"{refused.value}\n{refused.value.hint}"
    assert refused.value.exit_code == 3
    assert f"STAGE can reach what PROD (Domino project {pipeline.emu.project_id} and MLflow registered model {model}" in err
    assert "'staging' does not exist" in err and "mlflow.registered_model" in err
    assert pipeline.mlflow_state(model) == before and pipeline.emu.counters.writes() == writes

    github.protect(REPO, "staging", reviewers=False)  # only main may deploy to staging: its secrets stay there
    assert _as_this_run(pipeline, "deploy").exit_code == 0
    assert pipeline.aliases(model)["staging"] == version


def _git_repository(root) -> None:
    """The pipeline folder as the repository's default branch, as GitHub would serve its files."""
    def git(*argv: str) -> None:
        subprocess.run(["git", *argv], cwd=root, check=True, capture_output=True)
    git("init", "--quiet", "--initial-branch=main")
    git("add", "scripts")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-m", "reviewed")


def test_a_branch_cannot_unprotect_production_by_editing_its_file(pipeline, github) -> None:
    model = pipeline.unique("branch")
    version = _passed_staging(pipeline, model)
    _git_repository(pipeline.root)
    github.git_dirs[REPO] = pipeline.root
    _guarded(github)
    environments = pipeline.root / "scripts" / "environments.yaml"  # the branch's edit, not on main
    environments.write_text(environments.read_text().replace(
        "    requires: STAGE ", "    protected: false\n    requires: STAGE "))
    _in_actions(pipeline, github, ref="refs/heads/feature")
    before, writes = pipeline.mlflow_state(model), pipeline.emu.counters.writes()

    with pytest.raises(ApprovalNotEnforced) as refused:
        _as_this_run(pipeline)

    err = str(refused.value)
    assert "PROD is protected, but its GitHub environment does not enforce an approval: this run is on " \
           "refs/heads/feature, not the default branch 'main'" in err
    assert any(r.path == "/repos/acme/models/contents/scripts/environments.yaml" and r.query.get("ref") == "main"
               for r in github.calls("GET"))
    assert pipeline.mlflow_state(model) == before and pipeline.emu.counters.writes() == writes
    assert version


def test_a_pull_request_that_points_staging_at_the_production_alias_is_refused(pipeline, github) -> None:
    model = pipeline.unique("alias-grab")
    version = _passed_staging(pipeline, model)
    assert pipeline.deploy("promote").exit_code == 0  # production at version 1, locally
    newer = register_diabetes_model(pipeline.mlflow_uri, model, alpha=2.0)
    _git_repository(pipeline.root)
    github.git_dirs[REPO] = pipeline.root
    _guarded(github)
    # The pull request's data-only change: STAGE owns the production alias and stage now.
    environments = pipeline.root / "scripts" / "environments.yaml"
    text = environments.read_text()
    text = text.replace("alias: staging", "alias: production").replace("stage: Staging", "stage: Production")
    text = text.replace("alias: production\n      stage_mode: both\n      stage: Production\n    smoke_test:\n"
                        "      enabled: true\n      timeout_seconds: 60", "alias: prod-old\n      stage_mode: alias\n"
                        "    smoke_test:\n      enabled: true\n      timeout_seconds: 60")
    environments.write_text(text)
    pipeline.manifest({"name": model, "version": int(newer)})
    _in_actions(pipeline, github, ref="refs/pull/7/merge")
    before, writes = pipeline.mlflow_state(model), pipeline.emu.counters.writes()

    with pytest.raises((ApprovalNotEnforced, ReachNotGuarded)) as refused:
        _as_this_run(pipeline, "deploy")

    err = str(refused.value)
    assert refused.value.exit_code == 3, err
    # With the production alias STAGE even counts as protected by default: either way, off main, nothing.
    assert "this run is on refs/pull/7/merge, not the default branch 'main'" in err
    assert pipeline.mlflow_state(model) == before and pipeline.emu.counters.writes() == writes
    assert pipeline.aliases(model)["production"] == version


def test_outside_actions_a_protected_environment_is_a_warning_and_the_ledger_says_so(pipeline, capsys) -> None:
    # On the CLI: outside Actions it is the CLI that names the local user ($USER) as the approval.
    model = pipeline.unique("local")
    version = _passed_staging(pipeline, model)
    pipeline.monkeypatch.setenv("USER", "alice")
    capsys.readouterr()
    assert pipeline.run("promote", "--env", "PROD") == 0
    assert "outside GitHub Actions no approval of 'production' is checked" in capsys.readouterr().out
    assert pipeline.aliases(model)["production"] == version
    assert pipeline.ledger(model)[-1]["approved_by"] == "local user alice, no GitHub approval"
