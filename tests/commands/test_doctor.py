"""`domino-mlops doctor` in-process (main([...])) against the fake GitHub over real HTTP, answering
with GitHub's published examples: a repository set up as the README asks passes; each setting that
would let an unapproved change through is one refuse line naming it (exit 3); what would only make
a run fail is a warning (exit 0). The token and variable values never reach the output."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from domino_mlops.cli import main
from domino_mlops.clients.github import GitHubClient
from domino_mlops.desired.load import read_desired
from domino_mlops.observed.audit import audit_repository
from tests.support.fake_github import FakeGitHub, fake_github, recorded

REPO = "acme/models"
TOKEN = "ghp_doctorReadToken0123456789"
SETTINGS = f"Settings > Environments > {{}} of {REPO}"

ENVIRONMENTS = """\
environments:
  - name: DEV
    github_environment: dev
    mlflow: {alias: dev}
  - name: STAGE
    github_environment: staging
    mlflow: {alias: staging}
  - name: PROD
    github_environment: production
    requires: STAGE
    protected: true
    mlflow: {alias: production}
"""


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with fake_github({TOKEN: "read"}) as fake:
        yield fake


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, github: FakeGitHub) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "environments.yaml").write_text(ENVIRONMENTS)
    (tmp_path / "scripts" / "model_version.json").write_text(json.dumps({"p1": [{"name": "churn", "version": 3}]}))
    for name in ("GITHUB_REPOSITORY", "GITHUB_TOKEN", "DOODLE_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITHUB_API_URL", github.url)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    return tmp_path


def well_set_up(github: FakeGitHub) -> None:
    """As the README asks: production reviewed and kept to main, staging and dev (which share
    production's project and model) kept to main, write secrets only in environments."""
    github.protect(REPO, "production")
    github.protect(REPO, "staging", reviewers=False)
    github.protect(REPO, "dev", reviewers=False)
    for name in ("DOMINO_READONLY_API_KEY", "MLFLOW_READONLY_TOKEN"):
        github.secret(REPO, name)
    for environment in ("dev", "staging", "production"):
        github.secret(REPO, "PROJECT_ID_p1", environment=environment)
        github.secret(REPO, "DOMINO_USER_API_KEY", environment=environment)
    for name in ("MLFLOW_TRACKING_URI", "DOMINO_API_HOST"):
        github.variable(REPO, name)


def doctor(capsys, *argv: str) -> tuple[int, list[str], str]:
    code = main(["doctor", *argv])
    out, err = capsys.readouterr()
    lines = out.splitlines()
    if os.environ.get("GITHUB_ACTIONS") == "true" and code != 2:
        # In Actions the token is masked before the first request: the one place it appears.
        assert lines[0] == f"::add-mask::{TOKEN}"
        lines = lines[1:]
    assert TOKEN not in "\n".join(lines) + err
    return code, lines, err


def test_a_well_set_up_repository_passes(project, github, capsys) -> None:
    well_set_up(github)
    code, lines, _ = doctor(capsys)
    assert code == 0
    assert lines == ["doctor acme/models (default branch main): 0 refused, 0 warning(s), 11 passed; nothing found "
                     "that would let an unapproved change through"]
    code, lines, _ = doctor(capsys, "--verbose")
    assert code == 0 and not [line for line in lines if line.startswith(("refuse", "warn"))]
    assert "ok PROD (GitHub environment production): 'production' has required reviewers who may not approve " \
           "their own runs and admits only the branch 'main'" in lines
    assert "ok repository acme/models: the read-only secret MLFLOW_READONLY_TOKEN is a repository secret, where " \
           "it belongs" in lines
    summary = (project / "summary.md").read_text()
    assert "domino-mlops doctor: acme/models" in summary and TOKEN not in summary


def test_production_missing_is_refused(project, github, capsys) -> None:
    well_set_up(github)
    del github.environments[(REPO, "production")]
    code, lines, _ = doctor(capsys)
    assert code == 3
    assert lines[0] == ("refuse PROD (GitHub environment production): the GitHub environment 'production' does not "
                        "exist in acme/models (GitHub would create it on the fly, with no reviewers and no branch "
                        "rule); create it under Settings > Environments with a deployment branch rule for the "
                        "default branch only")
    assert lines[-1].startswith("doctor acme/models (default branch main): 1 refused, 0 warning(s)")
    summary = (project / "summary.md").read_text()
    assert ":x: **PROD (GitHub environment production)**: the GitHub environment 'production' does not exist" in summary


def _production(github: FakeGitHub, **changes: object) -> None:
    body = recorded("environment")
    for rule in body["protection_rules"]:
        if rule["type"] == "required_reviewers":
            rule["prevent_self_review"] = changes.pop("prevent_self_review", True)
    body.update(changes)
    github.environment(REPO, "production", body, policies=["main"])


def test_self_review_allowed_is_refused(project, github, capsys) -> None:
    well_set_up(github)
    _production(github, prevent_self_review=False)
    code, lines, _ = doctor(capsys)
    assert code == 3
    assert lines[:-1] == [f"refuse PROD (GitHub environment production): the reviewers of 'production' may approve a "
                          f"run they started themselves; tick 'Prevent self-review' under "
                          f"{SETTINGS.format('production')} > Required reviewers"]


def test_admin_bypass_is_refused_unless_allowed(project, github, capsys) -> None:
    well_set_up(github)
    _production(github, can_admins_bypass=True)
    code, lines, _ = doctor(capsys)
    bypass = (f"PROD (GitHub environment production): administrators of acme/models may bypass the review of "
              f"'production'; untick 'Allow administrators to bypass configured protection rules' under "
              f"{SETTINGS.format('production')}")
    assert code == 3
    assert lines[:-1] == [f"refuse {bypass} (or accept it with allow_admin_bypass: true in environments.yaml)"]

    environments = project / "scripts" / "environments.yaml"
    environments.write_text(ENVIRONMENTS + "    allow_admin_bypass: true\n")
    code, lines, _ = doctor(capsys)
    assert code == 0
    assert lines[:-1] == [f"warn {bypass} (accepted: environments.yaml says allow_admin_bypass: true)"]


def test_staging_admitting_every_branch_while_sharing_reach_is_refused(project, github, capsys) -> None:
    well_set_up(github)
    github.environment(REPO, "staging", "environment-no-rules")
    code, lines, _ = doctor(capsys)
    assert code == 3
    assert lines[:-1] == [
        "refuse STAGE (GitHub environment staging): its credentials reach what PROD uses (Domino project p1 and "
        "MLflow registered model churn (on $MLFLOW_TRACKING_URI)), and every branch may deploy to 'staging'; set "
        f"Deployment branches and tags to the selected branch 'main' only, under {SETTINGS.format('staging')}; or "
        "separate them: give PROD its own Domino project (domino.project_id) and registered model "
        "(mlflow.registered_model: \"{model}-prod\")"]


def test_an_environment_that_reaches_nothing_protected_needs_no_branch_rule(project, github, capsys) -> None:
    well_set_up(github)
    github.environment(REPO, "staging", "environment-no-rules")
    (project / "scripts" / "model_version.json").write_text("{}")  # no project, no model: nothing shared
    code, lines, _ = doctor(capsys, "--verbose")
    assert code == 0
    assert "ok STAGE (GitHub environment staging): 'staging' exists and reaches nothing a protected environment " \
           "uses" in lines
    del github.environments[(REPO, "dev")]
    code, lines, _ = doctor(capsys)
    assert code == 0
    assert lines[:-1] == ["warn DEV (GitHub environment dev): the GitHub environment 'dev' does not exist in "
                          "acme/models (GitHub would create it on the fly, with no rules); create it under Settings > "
                          "Environments"]


@pytest.mark.parametrize("organization", [False, True])
def test_a_write_secret_outside_the_environments_is_refused(project, github, capsys, organization) -> None:
    well_set_up(github)
    github.secret(REPO, "PROJECT_ID_123", organization=organization)
    code, lines, _ = doctor(capsys)
    assert code == 3
    kind, remove = (("an organization secret shared with acme/models", "remove acme/models from its repository "
                     "access under the organization's Settings > Secrets and variables > Actions") if organization
                    else ("a repository secret",
                          "delete it under Settings > Secrets and variables > Actions > Repository secrets"))
    assert lines[:-1] == [f"refuse repository acme/models: the write secret PROJECT_ID_123 is {kind}: every job can "
                          "read it, pull-request plan jobs included; store it as an environment secret of each "
                          "GitHub environment that deploys (Settings > Environments > <name> > Environment secrets) "
                          f"and {remove}"]


def test_a_deploying_environment_without_its_project_token_is_a_warning(project, github, capsys) -> None:
    well_set_up(github)
    github.secrets[(REPO, "environment:staging")] = ["DOMINO_USER_API_KEY"]
    code, lines, _ = doctor(capsys)
    assert code == 0
    assert lines[:-1] == ["warn STAGE (GitHub environment staging): 'staging' has no secret PROJECT_ID_p1, the Domino "
                          "project token its deploy jobs need; add it under Settings > Environments > staging > "
                          "Environment secrets"]


def test_a_missing_variable_is_a_warning_and_an_environment_variable_counts(project, github, capsys) -> None:
    well_set_up(github)
    github.variables[(REPO, "repository")] = ["DOMINO_API_HOST"]
    github.variable(REPO, "MLFLOW_TRACKING_URI", environment="production")
    github.variable(REPO, "MLFLOW_TRACKING_URI", environment="staging")
    code, lines, _ = doctor(capsys)
    assert code == 0
    assert lines[:-1] == ["warn DEV (GitHub environment dev): no variable MLFLOW_TRACKING_URI: neither a repository "
                          "variable nor one of the GitHub environment 'dev'; add it under Settings > Secrets and "
                          "variables > Actions > Variables (or Settings > Environments > dev > Environment variables)"]


def test_an_environments_own_tracking_variable_is_checked(project, github) -> None:
    # environments.yaml cannot name one yet (mlflow.tracking_uri_variable is not in its schema on
    # this branch), so the audit is given the environment directly.
    well_set_up(github)
    desired = read_desired("scripts/model_version.json", "scripts/environments.yaml")
    prod = replace(desired.environments.get("PROD"), tracking_uri_variable="MLFLOW_PROD_TRACKING_URI")
    desired = replace(desired, environments=replace(
        desired.environments, items=tuple(prod if e.name == "PROD" else e for e in desired.environments.items)))
    with GitHubClient.from_env({"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": github.url}) as gh:
        audit = audit_repository(gh, desired)
    assert [(f.environment, f.message) for f in audit.findings if f.severity != "ok"] == [
        ("PROD", "no variable MLFLOW_PROD_TRACKING_URI: neither a repository variable nor one of the GitHub "
                 "environment 'production'")]
    assert audit.ok
    github.variable(REPO, "MLFLOW_PROD_TRACKING_URI", environment="production")
    with GitHubClient.from_env({"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": github.url}) as gh:
        assert all(f.severity == "ok" for f in audit_repository(gh, desired).findings)


def test_json_lists_every_finding(project, github, capsys) -> None:
    well_set_up(github)
    github.secret(REPO, "MLFLOW_TRACKING_TOKEN")
    code, lines, _ = doctor(capsys, "--json")
    assert code == 3
    document = json.loads("\n".join(lines))
    assert (document["repository"], document["default_branch"], document["ok"]) == (REPO, "main", False)
    refused = [f for f in document["findings"] if f["severity"] == "refuse"]
    assert refused == [{"severity": "refuse", "environment": "", "check": "secrets",
                        "message": "the write secret MLFLOW_TRACKING_TOKEN is a repository secret: every job can "
                                   "read it, pull-request plan jobs included",
                        "fix": "store it as an environment secret of each GitHub environment that deploys (Settings "
                               "> Environments > <name> > Environment secrets) and delete it under Settings > "
                               "Secrets and variables > Actions > Repository secrets"}]
    assert {f["severity"] for f in document["findings"]} == {"refuse", "ok"}
    assert {f["check"] for f in document["findings"]} == {"protection", "reach", "secrets", "variables"}


def test_a_token_that_may_not_read_secrets_is_a_finding_naming_the_permission(project, github, capsys) -> None:
    well_set_up(github)
    github.forbidden.add("secrets")
    code, lines, _ = doctor(capsys)
    assert code == 0
    permission = ("grant the token read access to secrets (a fine-grained token: Secrets: read; a classic token: "
                  "the repo scope), then run doctor again")
    assert lines[0] == f"warn repository acme/models: cannot list the repository's secrets: the token may not read " \
                       f"them (403); {permission}"
    assert f"warn STAGE (GitHub environment staging): cannot list the secrets of the GitHub environment 'staging': " \
           f"the token may not read them (403); {permission}" in lines


def test_variable_values_never_reach_the_output(project, github, capsys) -> None:
    well_set_up(github)
    code, lines, _ = doctor(capsys, "--json")
    assert code == 0 and "value-of-" not in "\n".join(lines)
    assert "value-of-" not in (project / "summary.md").read_text()
    assert any(r.path == f"/repos/{REPO}/actions/variables" for r in github.calls("GET"))  # values were sent


def test_another_token_variable_and_repository(project, github, capsys, monkeypatch) -> None:
    well_set_up(github)
    monkeypatch.delenv("GITHUB_TOKEN")
    monkeypatch.delenv("GITHUB_REPOSITORY")
    monkeypatch.setenv("DOODLE_TOKEN", TOKEN)
    code, lines, _ = doctor(capsys, "--token-variable", "DOODLE_TOKEN", "--repository", REPO)
    assert code == 0 and lines[-1].startswith("doctor acme/models")
    assert {r.token for r in github.calls()} == {TOKEN}


@pytest.mark.parametrize(("change", "error", "hint"), [
    ({"GITHUB_TOKEN": None}, "error: cannot audit the repository: GITHUB_TOKEN is not set",
     "hint: Set it to a token that can read the repository's settings"),
    ({"GITHUB_REPOSITORY": "not-a-repo"}, "error: cannot audit the repository: 'not-a-repo' is not owner/name",
     "hint: Pass --repository OWNER/NAME."),
    ({"GITHUB_TOKEN": "ghp_someoneElsesToken"}, "error: GitHub refused the credential from GITHUB_TOKEN (401",
     "hint: Check that GITHUB_TOKEN holds"),
])
def test_bad_input_is_one_error_line_and_exit_2(project, github, capsys, monkeypatch, change, error, hint) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS")
    for name, value in change.items():
        if value is None:
            monkeypatch.delenv(name)
        else:
            monkeypatch.setenv(name, value)
    code, lines, err = doctor(capsys)
    assert code == 2 and lines == []
    assert err.splitlines()[0].startswith(error) and err.splitlines()[1].startswith(hint)
    assert "ghp_someoneElsesToken" not in err


def test_a_broken_environments_file_is_bad_input(project, github, capsys) -> None:
    (project / "scripts" / "environments.yaml").write_text("environments:\n  - github_environment: dev\n")
    code, lines, _ = doctor(capsys)
    assert code == 2 and lines == [] and github.calls() == []


def test_listings_are_read_page_by_page(github) -> None:
    names = [f"PROJECT_ID_{i}" for i in range(130)]
    github.secrets[(REPO, "repository")] = list(names)
    github.variables[(REPO, "repository")] = [f"V{i}" for i in range(31)]
    with GitHubClient.from_env({"GITHUB_TOKEN": TOKEN, "GITHUB_REPOSITORY": REPO, "GITHUB_API_URL": github.url}) as gh:
        assert gh.repository_secrets().names == tuple(names)
        assert len(gh.repository_variables().names) == 31
    pages = [(r.path.rsplit("/", 1)[-1], r.query["page"]) for r in github.calls("GET")]
    assert pages == [("secrets", "1"), ("secrets", "2"), ("variables", "1"), ("variables", "2")]
