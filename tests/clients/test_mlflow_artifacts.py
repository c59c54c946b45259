"""A version's files without `mlflow`: through the tracking server's artifact proxy (a real
`mlflow server --serve-artifacts`), and the edges a hostile or odd server brings (`responses`)."""

from __future__ import annotations

import builtins
import os

import pytest
import responses

from domino_mlops.clients.mlflow import artifacts as mlflow_artifacts
from domino_mlops.clients.mlflow.registry import MlflowRegistry
from domino_mlops.clients.mlflow.artifacts import proxied_path
from domino_mlops.clients.mlflow.auth import MlflowCredentials
from domino_mlops.errors import BadResponse, ConfigError, NotFound, RemoteError
from domino_emulator.local.models import register_diabetes_model

URI = "http://mlflow.invalid"
API = f"{URI}/api/2.0/mlflow"
PROXY = f"{URI}/api/2.0/mlflow-artifacts/artifacts"


def registry(uri: str = URI) -> MlflowRegistry:
    return MlflowRegistry(MlflowCredentials.from_env({}, tracking_uri=uri), retry_budget=0, sleep=lambda s: None)


def test_the_whole_model_folder_is_downloaded_through_the_proxy(mlflow_server, tmp_path) -> None:
    name = "artifacts-download"
    version = register_diabetes_model(mlflow_server.uri, name)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(mlflow_artifacts, "_ENV_LOCK", None)  # the proxy path never takes the fallback's lock
        folder = registry(mlflow_server.uri).download_model(name, version, str(tmp_path / "model"))
    files = sorted(str(p.relative_to(folder)) for p in (tmp_path / "model").rglob("*") if p.is_file())
    assert {"MLmodel", "input_example.json", "requirements.txt"} <= set(files), files
    assert "sklearn" in (tmp_path / "model" / "MLmodel").read_text()


@pytest.mark.parametrize(("uri", "path"), [
    ("mlflow-artifacts:/1/models/m-1/artifacts", "1/models/m-1/artifacts"),
    ("mlflow-artifacts://mlflow.invalid/1/a", "1/a"),
    (f"{PROXY}/1/a", "1/a"),
    ("mlflow-artifacts://elsewhere.example/1/a", None),  # another server: not ours to send our token to
    ("http://elsewhere.example/api/2.0/mlflow-artifacts/artifacts/1/a", None),
    ("mlflow-artifacts:/1/../../etc", None),
    ("s3://bucket/1/a", None),
])
def test_which_locations_the_proxy_serves(uri: str, path: str | None) -> None:
    assert proxied_path(uri, URI) == path


def _located(mocked: responses.RequestsMock, uri: str = "mlflow-artifacts:/1/m/artifacts") -> None:
    mocked.get(f"{API}/model-versions/get-download-uri", json={"artifact_uri": uri})


def test_no_input_example_is_none_but_a_server_error_is_an_error() -> None:
    with responses.RequestsMock() as mocked:
        _located(mocked)
        mocked.get(f"{PROXY}/1/m/artifacts/input_example.json", status=404,
                   json={"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "No such artifact"})
        assert registry().input_example("m", "1") is None
    with responses.RequestsMock() as mocked:
        _located(mocked)
        mocked.get(f"{PROXY}/1/m/artifacts/input_example.json", status=503, json={"message": "later"})
        with pytest.raises(RemoteError, match="answered 503"):
            registry().input_example("m", "1")


def test_a_run_location_is_followed_to_the_runs_artifacts() -> None:
    with responses.RequestsMock() as mocked:
        _located(mocked, "runs:/r1/model")
        mocked.get(f"{API}/runs/get", json={"run": {"info": {"artifact_uri": "mlflow-artifacts:/0/r1/artifacts"}}})
        mocked.get(f"{PROXY}/0/r1/artifacts/model/input_example.json", json={"columns": ["a"], "data": [[1]]})
        assert registry().input_example("m", "1") == {"columns": ["a"], "data": [[1]]}


@pytest.mark.parametrize("hostile", ["..", "../../outside", "/etc/passwd", "a/b", ""])
def test_a_listing_that_would_write_outside_the_folder_is_refused(tmp_path, hostile: str) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        _located(mocked)
        mocked.get(PROXY, json={"files": [{"path": hostile, "is_dir": False, "file_size": 1}]})
        with pytest.raises(BadResponse):
            registry().download_model("m", "1", str(tmp_path / "model"))
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_a_model_folder_with_no_files_is_not_found(tmp_path) -> None:
    with responses.RequestsMock() as mocked:
        _located(mocked)
        mocked.get(PROXY, json={})  # what MLflow answers for a folder that is not there
        with pytest.raises(NotFound, match="lists no files"):
            registry().download_model("m", "1", str(tmp_path / "model"))


def test_a_file_larger_than_the_bound_stops_the_download(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(mlflow_artifacts, "MAX_FILE_BYTES", 1000)
    with responses.RequestsMock() as mocked:
        _located(mocked)
        mocked.get(PROXY, json={"files": [{"path": "model.pkl", "is_dir": False, "file_size": 5000}]})
        mocked.get(f"{PROXY}/1/m/artifacts/model.pkl", body=b"x" * 5000)
        with pytest.raises(BadResponse, match="larger than 1000 bytes"):
            registry().download_model("m", "1", str(tmp_path / "model"))


def test_another_store_without_mlflow_installed_names_the_scheme_and_the_ways_out(tmp_path, monkeypatch) -> None:
    real_import = builtins.__import__

    def no_mlflow(name: str, *args: object, **kwargs: object) -> object:
        if name == "mlflow" or name.startswith("mlflow."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_mlflow)
    with responses.RequestsMock() as mocked:
        _located(mocked, "s3://bucket/models/m/1")
        with pytest.raises(ConfigError) as info:
            registry().download_model("m", "1", str(tmp_path / "model"))
    assert "s3:" in str(info.value) and "mlflow-skinny" in info.value.hint and "--serve-artifacts" in info.value.hint
    assert "MLFLOW_TRACKING_TOKEN" not in os.environ
