"""Shared fixtures: one real MLflow server per test session, real registered models."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# Before anything imports mlflow: its telemetry thread, failing offline, unsets an environment
# variable while other threads iterate os.environ (KeyError at random). See cli._run_guarded.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

from domino_emulator.local.mlflow_server import MlflowServer, start_mlflow_server


@pytest.fixture(autouse=True)
def _no_ambient_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests must not pick up credentials or Actions files from the shell that runs them."""
    for key in list(os.environ):
        if key.startswith(("MLFLOW_TRACKING_", "DOMINO_", "PROJECT_ID_", "GITHUB_")):
            monkeypatch.delenv(key, raising=False)
    # A lease is confirmed after a settle delay (state/lease.py); a test's single writer needs no
    # second; the race tests set their own.
    monkeypatch.setenv("DMLOPS_LEASE_SETTLE_SECONDS", "0.05")


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    server = start_mlflow_server(tmp_path_factory.mktemp("mlflow"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def diabetes_model(mlflow_server: MlflowServer) -> tuple[str, str]:
    """A registered real model (name, version) shared by read-only tests."""
    from domino_emulator.local.models import register_diabetes_model

    name = "diabetes-shared"
    return name, register_diabetes_model(mlflow_server.uri, name)


# --- Domino emulator (issue 3) ---


@pytest.fixture
def domino_emulator(mlflow_server: MlflowServer):
    """A fresh emulated Domino on a free loopback port, loading models from the session's MLflow."""
    from domino_emulator import Emulator

    with Emulator(mlflow_uri=mlflow_server.uri, deploy_seconds=0.2) as emu:
        yield emu
