"""The production gate through the CLI, in Actions (GITHUB_ACTIONS=true), against MLflow, the
emulator and a fake GitHub answering with its published examples: a protected environment whose
GitHub environment does not enforce an approval is refused (exit 3) with nothing written.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domino_mlops.local.models import SAMPLE_PATIENT, register_diabetes_model
from tests.support.fake_github import FakeGitHub, fake_github

REPO = "acme/models"
TOKEN = "ghs_protectionCheck0123456789"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with fake_github({TOKEN: "read"}) as fake:
        yield fake


def _in_actions(pipeline, github: FakeGitHub) -> None:
    for name, value in {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": REPO, "GITHUB_TOKEN": TOKEN,
                        "GITHUB_API_URL": github.url}.items():
        pipeline.monkeypatch.setenv(name, value)


def _passed_staging(pipeline, model: str) -> str:
    version = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest({"name": model, "version": int(version),
                       "smoke_test": {"input": SAMPLE_PATIENT, "expect_shape": [1]}})
    assert pipeline.run("deploy", "--env", "STAGE") == 0
    return version


@pytest.mark.parametrize("setting", ["missing", "no-rules", "other-branches"])
def test_promote_refuses_an_unguarded_production_and_writes_nothing(pipeline, github, capsys, setting) -> None:
    model = pipeline.unique("unguarded")
    version = _passed_staging(pipeline, model)
    if setting == "no-rules":
        github.environment(REPO, "production", "environment-no-rules")
    elif setting == "other-branches":
        github.environment(REPO, "production", "environment", policies="branch-policies")
    _in_actions(pipeline, github)
    before, writes = pipeline.mlflow_state(model), pipeline.emu.counters.writes()
    capsys.readouterr()

    assert pipeline.run("promote", "--env", "PROD") == 3

    err = capsys.readouterr().err
    assert "PROD is protected, but its GitHub environment does not enforce an approval" in err
    assert "Settings > Environments" in err and TOKEN not in err
    assert pipeline.mlflow_state(model) == before and pipeline.emu.counters.writes() == writes
    assert pipeline.aliases(model).get("production") is None and version


def test_promote_goes_ahead_when_github_enforces_the_approval(pipeline, github) -> None:
    model = pipeline.unique("guarded")
    version = _passed_staging(pipeline, model)
    github.protect(REPO, "production")
    _in_actions(pipeline, github)

    assert pipeline.run("promote", "--env", "PROD") == 0

    assert pipeline.aliases(model)["production"] == version
    assert any(r.path == "/repos/acme/models/environments/production" for r in github.calls("GET"))


def test_an_unprotected_environment_asks_github_nothing(pipeline, github) -> None:
    model = pipeline.unique("staging-only")
    _in_actions(pipeline, github)
    _passed_staging(pipeline, model)  # STAGE is not protected by default
    assert not [r for r in github.calls() if "/environments/" in r.path]


def test_protected_false_turns_the_check_off(pipeline, github) -> None:
    model = pipeline.unique("opted-out")
    version = _passed_staging(pipeline, model)
    environments = pipeline.root / "scripts" / "environments.yaml"
    environments.write_text(environments.read_text().replace(
        "    requires: STAGE ", "    protected: false\n    requires: STAGE "))
    _in_actions(pipeline, github)
    assert pipeline.run("promote", "--env", "PROD") == 0
    assert pipeline.aliases(model)["production"] == version


def test_outside_actions_a_protected_environment_is_a_warning(pipeline, capsys) -> None:
    model = pipeline.unique("local")
    version = _passed_staging(pipeline, model)
    capsys.readouterr()
    assert pipeline.run("promote", "--env", "PROD") == 0
    assert "outside GitHub Actions no approval of 'production' is checked" in capsys.readouterr().out
    assert pipeline.aliases(model)["production"] == version
