"""Only rollback moves an environment back: a re-run of an older promotion (GitHub re-runs use the
run's original commit) finds nothing to do and says so, after a newer promotion and after a
rollback; a later merge does not quietly undo a rollback either.

A real git repository holds the manifest's history (the run's commit is GITHUB_SHA, as in
Actions); MLflow and the emulator are real.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from domino_emulator.local.models import SAMPLE_PATIENT, register_diabetes_model
from domino_mlops.observed.ancestry import AHEAD, BEHIND, DIVERGED, IDENTICAL, Ancestry
from tests.report.test_github import parse_output_file
from tests.support.fake_github import fake_github

SMOKE = {"input": SAMPLE_PATIENT, "expect_shape": [1]}


def git(root: Path, *argv: str) -> str:
    done = subprocess.run(["git", *argv], cwd=root, capture_output=True, text=True, check=True)
    return done.stdout.strip()


class History:
    """The workspace as a git repository: each manifest change is a commit, each run uses one."""

    def __init__(self, pipeline) -> None:
        self.pipeline, self.root = pipeline, pipeline.root
        git(self.root, "init", "-q", "-b", "main")
        git(self.root, "config", "user.email", "ci@example.com")
        git(self.root, "config", "user.name", "ci")

    def commit(self, model: str, version: str) -> str:
        self.pipeline.manifest({"name": model, "version": int(version), "smoke_test": SMOKE})
        git(self.root, "add", "-A")
        git(self.root, "commit", "-q", "--allow-empty", "-m", f"{model} {version}")
        return git(self.root, "rev-parse", "HEAD")

    def run_at(self, commit: str, *argv: str) -> int:
        """A workflow run of ``commit``: its manifest, its GITHUB_SHA."""
        git(self.root, "checkout", "-q", commit, "--", "scripts/model_version.json")
        self.pipeline.monkeypatch.setenv("GITHUB_SHA", commit)
        return self.pipeline.run(*argv)


@pytest.fixture
def history(pipeline) -> History:
    return History(pipeline)


def _stage_and_promote(history: History, commit: str) -> None:
    assert history.run_at(commit, "deploy", "--env", "STAGE") == 0
    assert history.run_at(commit, "promote", "--env", "PROD") == 0


def test_rerunning_an_older_promotion_after_a_newer_one_writes_nothing(pipeline, history, capsys) -> None:
    model = pipeline.unique("rerun")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    v2 = register_diabetes_model(pipeline.mlflow_uri, model)
    first = history.commit(model, v1)
    _stage_and_promote(history, first)
    second = history.commit(model, v2)
    _stage_and_promote(history, second)
    assert pipeline.aliases(model)["production"] == v2
    before, writes = pipeline.mlflow_state(model), pipeline.emu.counters.writes()
    capsys.readouterr()

    assert history.run_at(first, "promote", "--env", "PROD") == 0  # the re-run of the first run

    out = capsys.readouterr().out
    assert "Nothing to do: PROD nothing moves forward from this commit" in out
    assert f"held back** `{model}`" in out and f"does not come after {second[:12]}" in out
    assert pipeline.mlflow_state(model) == before and pipeline.emu.counters.writes() == writes
    assert pipeline.aliases(model)["production"] == v2


def test_rerunning_the_promotion_after_a_rollback_writes_nothing(pipeline, history, capsys) -> None:
    model = pipeline.unique("after-rollback")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    v2 = register_diabetes_model(pipeline.mlflow_uri, model)
    first = history.commit(model, v1)
    _stage_and_promote(history, first)
    second = history.commit(model, v2)
    _stage_and_promote(history, second)
    # The emergency: back to v1 from main's head, which is still the commit that promoted v2.
    assert history.run_at(second, "rollback", "--env", "PROD", "--model", model) == 0
    assert pipeline.aliases(model)["production"] == v1
    before, writes = pipeline.mlflow_state(model), pipeline.emu.counters.writes()
    capsys.readouterr()

    assert history.run_at(second, "promote", "--env", "PROD") == 0  # re-run of the promotion of v2
    assert "a re-run does not undo that rollback" in capsys.readouterr().out
    assert history.run_at(first, "promote", "--env", "PROD") == 0  # and of the one before
    assert pipeline.mlflow_state(model) == before and pipeline.emu.counters.writes() == writes

    # A later, unrelated merge does not promote the rolled-back version again by itself...
    later = history.commit(model, v2)  # the manifest still names v2
    assert history.run_at(later, "promote", "--env", "PROD") == 0
    assert f"version {v2} was rolled back in PROD" in capsys.readouterr().out
    assert pipeline.aliases(model)["production"] == v1
    # ...but promoting it again on purpose does.
    assert history.run_at(later, "promote", "--env", "PROD", "--model", model, "--version", v2) == 0
    assert pipeline.aliases(model)["production"] == v2


def test_a_newer_commit_promotes_as_usual(pipeline, history) -> None:
    model = pipeline.unique("forward")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    v2 = register_diabetes_model(pipeline.mlflow_uri, model)
    _stage_and_promote(history, history.commit(model, v1))
    _stage_and_promote(history, history.commit(model, v2))
    assert pipeline.aliases(model)["production"] == v2
    assert [e["commit"] for e in pipeline.ledger(model) if e["environment"] == "PROD"] == [
        git(history.root, "rev-parse", "HEAD~1"), git(history.root, "rev-parse", "HEAD")]


def test_staging_deploys_from_any_pull_request_commit(pipeline, history) -> None:
    """Pull requests are not ordered: deploy (STAGE) is not a forward-only action."""
    model = pipeline.unique("prs")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    v2 = register_diabetes_model(pipeline.mlflow_uri, model)
    base = history.commit(model, v1)
    pr_two = history.commit(model, v2)
    git(history.root, "checkout", "-q", "-b", "other", base)
    pr_one = history.commit(model, v1)  # diverges from pr_two
    assert history.run_at(pr_two, "deploy", "--env", "STAGE") == 0
    assert history.run_at(pr_one, "deploy", "--env", "STAGE") == 0
    assert pipeline.aliases(model)["staging"] == v1


# --- how commits are compared ---------------------------------------------------------------------

def _repo(root: Path) -> list[str]:
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "ci@example.com")
    git(root, "config", "user.name", "ci")
    shas = []
    for i in range(3):
        (root / "f").write_text(str(i))
        git(root, "add", "f")
        git(root, "commit", "-q", "-m", str(i))
        shas.append(git(root, "rev-parse", "HEAD"))
    git(root, "checkout", "-q", "-b", "side", shas[0])
    (root / "g").write_text("side")
    git(root, "add", "g")
    git(root, "commit", "-q", "-m", "side")
    shas.append(git(root, "rev-parse", "HEAD"))
    return shas


def test_the_local_clone_answers_when_it_has_both_commits(tmp_path) -> None:
    a, b, c, side = _repo(tmp_path / "r")
    ancestry = Ancestry(git_dir=tmp_path / "r")
    assert ancestry.relation(a, c) == AHEAD and ancestry.relation(c, a) == BEHIND
    assert ancestry.relation(b, side) == DIVERGED and ancestry.relation(b, b) == IDENTICAL


def test_a_shallow_checkout_asks_github_compare(tmp_path) -> None:
    a, _, c, side = _repo(tmp_path / "r")
    (tmp_path / "shallow").mkdir()  # not a clone at all: nothing local answers
    with fake_github({"ghs_t": "read"}) as github:
        github.git_dirs["acme/models"] = tmp_path / "r"
        from domino_mlops.clients.github import GitHubClient

        with GitHubClient.from_env({"GITHUB_TOKEN": "ghs_t", "GITHUB_REPOSITORY": "acme/models",
                                    "GITHUB_API_URL": github.url}) as client:
            ancestry = Ancestry(git_dir=tmp_path / "shallow", github=client.compare)
            assert ancestry.relation(a, c) == AHEAD and ancestry.relation(c, a) == BEHIND
            assert ancestry.relation(c, side) == DIVERGED
            ancestry.relation(a, c)  # cached: asked once
        compares = [r.path for r in github.calls("GET") if "/compare/" in r.path]
        assert compares == [f"/repos/acme/models/compare/{a}...{c}", f"/repos/acme/models/compare/{c}...{a}",
                            f"/repos/acme/models/compare/{c}...{side}"]


def test_nothing_to_ask_is_unknown(tmp_path) -> None:
    (tmp_path / "empty").mkdir()
    assert Ancestry(git_dir=tmp_path / "empty").relation("a" * 40, "b" * 40) is None


def test_plan_json_lists_what_is_held_back(pipeline, history, capsys) -> None:
    model = pipeline.unique("json")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    v2 = register_diabetes_model(pipeline.mlflow_uri, model)
    first = history.commit(model, v1)
    _stage_and_promote(history, first)
    _stage_and_promote(history, history.commit(model, v2))
    capsys.readouterr()
    assert history.run_at(first, "promote", "--env", "PROD") == 0
    plan = json.loads(parse_output_file((pipeline.root / "github_output").read_text())["plan-json"])
    assert list(plan["held_back"]) == [model] and plan["changed_models"] == []
