"""MLFLOW_TRACKING_URI that MLflow cannot use: exit 2 with a message and a hint, like a bad
DOMINO_API_HOST, instead of "unexpected MlflowException ... bug" (exit 1)."""

from __future__ import annotations

import pytest

from domino_mlops.cli import main
from domino_mlops.clients.mlflow.registry import MlflowRegistry
from domino_mlops.clients.mlflow.auth import MlflowCredentials
from domino_mlops.errors import ConfigError


@pytest.mark.parametrize(("uri", "words"), [
    ("localhost:5000", "MLFLOW_TRACKING_URI has no scheme: 'localhost:5000'"),
    ("mlflow.example.com", "has no scheme"),
    ("http://", "names no host"),
    ("http://[::1", "not a valid URL"),
    ("http://host:99999", "not a valid URL"),
    ("ftp://host", "no tracking server or store has that scheme"),
])
def test_a_tracking_uri_mlflow_cannot_use_is_a_config_error(uri: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        MlflowRegistry(MlflowCredentials.from_env({}, tracking_uri=uri))
    assert words in str(info.value) and info.value.exit_code == 2 and info.value.hint


@pytest.mark.parametrize("uri", ["sqlite:///tmp/mlflow.db", "file:///tmp/mlruns", "postgresql://db/mlflow"])
def test_a_local_store_is_refused_with_the_server_command_as_hint(uri: str) -> None:
    """Only a tracking server has the REST API we speak (Domino always serves MLflow that way)."""
    with pytest.raises(ConfigError) as info:
        MlflowRegistry(MlflowCredentials.from_env({}, tracking_uri=uri))
    assert "is a local store, not a tracking server" in str(info.value) and info.value.exit_code == 2
    assert f"mlflow server --backend-store-uri {uri}" in info.value.hint


def test_plan_with_a_uri_without_scheme_is_exit_2_with_a_hint(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "model_version.json").write_text('{"p1": [{"name": "churn", "version": 1}]}')
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "localhost:5000")
    assert main(["plan", "--env", "STAGE"]) == 2
    err = capsys.readouterr().err
    assert "error: MLFLOW_TRACKING_URI has no scheme: 'localhost:5000'" in err
    assert "hint: Write the scheme too, for example MLFLOW_TRACKING_URI=http://127.0.0.1:5000" in err
    assert "unexpected" not in err and "bug" not in err


def test_credentials_never_show_the_password() -> None:
    credentials = MlflowCredentials.from_env({}, tracking_uri="http://bob:hunter2-SECRET@mlflow:5000")
    assert "SECRET" not in repr(credentials) and credentials.display_uri == "http://***@mlflow:5000"
    assert "hunter2-SECRET" in credentials.secrets()  # to be masked in Actions
