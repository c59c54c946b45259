"""The production gate, asked of GitHub: a protected environment is written to only when its
GitHub environment exists, has required reviewers and lets only the default branch deploy.

GitHub answers with its published examples (tests/fixtures/github/) through a real HTTP fake;
tests/apply/test_approval.py runs the CLI in Actions and proves a refusal writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domino_mlops.clients.github import GitHubClient
from domino_mlops.errors import AuthenticationFailed, ConfigError, PermissionDenied
from domino_mlops.observed.protection import check_branch_rule, check_protection
from tests.support.fake_github import FakeGitHub, fake_github, recorded

REPO = "acme/models"
TOKEN = "ghs_protectionCheck0123456789"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with fake_github({TOKEN: "read"}) as fake:
        yield fake


def client(fake: FakeGitHub, token: str = TOKEN) -> GitHubClient:
    return GitHubClient.from_env({"GITHUB_TOKEN": token, "GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": fake.url})


def verdict(fake: FakeGitHub, name: str = "production"):
    with client(fake) as gh:
        return check_protection(gh, name)


def test_no_such_environment_is_refused_naming_the_setting(github) -> None:
    found = verdict(github)
    assert not found.guarded
    (problem,) = found.problems
    assert "'production' does not exist in acme/models" in problem and "Settings > Environments" in problem


def test_an_environment_created_on_the_fly_guards_nothing(github) -> None:
    github.environment(REPO, "production", "environment-no-rules")
    found = verdict(github)
    assert not found.guarded
    assert any("no required reviewers" in p for p in found.problems)
    assert any("every branch may deploy" in p for p in found.problems)
    assert any("may bypass the review" in p for p in found.problems)  # can_admins_bypass is absent: GitHub's default


def test_a_branch_policy_admitting_other_branches_is_refused(github) -> None:
    github.environment(REPO, "production", reviewed(), policies="branch-policies")  # release/* and main
    found = verdict(github)
    (problem,) = found.problems
    assert "admit branch main, branch release/*" in problem and "'main' only" in problem


def test_protected_branches_other_than_the_default_are_refused(github) -> None:
    github.environment(REPO, "production", reviewed("environment-protected-branches"))
    github.protected_branches[REPO] = ["main", "release"]
    found = verdict(github)
    (problem,) = found.problems
    assert "protected branches other than 'main'" in problem and "release" in problem

    github.protected_branches[REPO] = ["main"]
    assert verdict(github).guarded


def reviewed(answer: str = "environment") -> dict:
    """A recorded environment whose reviewers may not approve their own runs."""
    body = recorded(answer)
    for rule in body["protection_rules"]:
        if rule["type"] == "required_reviewers":
            rule["prevent_self_review"] = True
    return body


def guarded(fake: FakeGitHub, name: str = "production", **changes) -> None:
    """The recorded environment with self-review prevented and only main admitted, then ``changes``."""
    body = reviewed()
    body.update(changes)
    fake.environment(REPO, name, body, policies="branch-policies-main")


def test_reviewers_who_may_approve_themselves_are_refused(github) -> None:
    github.environment(REPO, "production", "environment", policies="branch-policies-main")  # prevent_self_review: false
    (problem,) = verdict(github).problems
    assert "may approve a run they started themselves" in problem and "'Prevent self-review'" in problem


def test_administrators_who_may_bypass_are_refused_unless_allowed(github) -> None:
    guarded(github, can_admins_bypass=True)
    (problem,) = verdict(github).problems
    assert "may bypass the review of 'production'" in problem and "allow_admin_bypass: true" in problem
    with client(github) as gh:
        allowed = check_protection(gh, "production", allow_admin_bypass=True)
    assert allowed.guarded and "accepted" in allowed.warnings[0]


def test_protected_branches_when_none_is_protected_admit_every_branch(github) -> None:
    github.environment(REPO, "production", reviewed("environment-protected-branches"))
    github.protected_branches[REPO] = []
    (problem,) = verdict(github).problems
    assert "protects none, so every branch may deploy" in problem


def test_the_branch_rule_alone_is_what_reach_asks_of_staging(github) -> None:
    github.protect(REPO, "staging", reviewers=False)
    with client(github) as gh:
        assert check_branch_rule(gh, "staging").guarded
        assert not check_protection(gh, "staging").guarded  # no reviewers: not enough for a protected one
        (problem,) = check_branch_rule(gh, "dev").problems
    assert "'dev' does not exist" in problem


def test_reviewers_and_only_the_default_branch_pass(github) -> None:
    guarded(github, "Production")
    found = verdict(github, "production")  # GitHub's environment names are case-insensitive
    assert found.guarded and found.problems == () and found.warnings == ()
    asked = {r.path.lower() for r in github.calls("GET")}
    assert asked == {"/repos/acme/models/environments/production", "/repos/acme/models",
                     "/repos/acme/models/environments/production/deployment-branch-policies"}
    assert all(r.token == TOKEN for r in github.calls())


def test_the_default_branch_is_the_repositorys_not_main(github) -> None:
    github.default_branches[REPO] = "trunk"
    github.environment(REPO, "production", reviewed(), policies="branch-policies-main")
    (problem,) = verdict(github).problems
    assert "admit branch main, not only the branch 'trunk'" in problem


def test_a_tag_policy_is_not_the_default_branch(github) -> None:
    github.environment(REPO, "production", reviewed(), policies=[])  # then add a tag rule, as GitHub lists it
    github.branch_policies[(REPO, "production")] = [{"id": 1, "node_id": "x", "name": "main", "type": "tag"}]
    (problem,) = verdict(github).problems
    assert "tag main" in problem


def test_a_token_github_refuses_is_one_clear_error(github) -> None:
    with pytest.raises(AuthenticationFailed) as raised, client(github, "ghs_wrong") as gh:
        check_protection(gh, "production")
    assert "GitHub" in str(raised.value) and "ghs_wrong" not in str(raised.value)


def test_no_token_in_actions_says_which_permission(github) -> None:
    with pytest.raises(ConfigError) as raised:
        GitHubClient.from_env({"GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": github.url})
    assert "GITHUB_TOKEN" in str(raised.value) and "actions: read" in (raised.value.hint or "")


def test_a_token_without_actions_read_is_told_so(github) -> None:
    github.tokens["ghs_noActions"] = "read"
    original = github.handle

    def refuse_environments(method, path, query, token, body):  # GitHub's answer to a token lacking actions: read
        if token == "ghs_noActions" and "/environments/" in path:
            return 403, {"message": "Resource not accessible by integration", "status": "403"}
        return original(method, path, query, token, body)

    github.handle = refuse_environments
    with pytest.raises(PermissionDenied) as raised, client(github, "ghs_noActions") as gh:
        check_protection(gh, "production")
    assert "actions: read" in raised.value.hint
