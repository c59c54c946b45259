"""MLflow's REST reads over the house HTTP layer: what a real server will not do on demand."""

from __future__ import annotations

import pytest
import responses

from domino_mlops.clients.mlflow.auth import MlflowCredentials
from domino_mlops.clients.mlflow.reader import MlflowReader
from domino_mlops.clients.mlflow.rest import MlflowRest
from domino_mlops.errors import BadResponse, RemoteError

URI = "http://mlflow.test"
MODELS = f"{URI}/api/2.0/mlflow/registered-models/search"
VERSIONS = f"{URI}/api/2.0/mlflow/model-versions/search"
CRASH = {"error_code": "INTERNAL_ERROR", "message": "SystemError: AST constructor recursion depth mismatch"}


def reader() -> MlflowReader:
    credentials = MlflowCredentials.from_env({}, tracking_uri=URI)
    return MlflowReader(credentials, rest=MlflowRest(credentials, environ={}, sleep=lambda s: None))


@responses.activate
def test_a_500_of_a_search_is_asked_again() -> None:
    """MLflow on Python 3.11 fails a `name IN (...)` parse now and then under concurrent requests."""
    responses.get(MODELS, status=500, json=CRASH)
    responses.get(MODELS, json={"registered_models": [{"name": "churn", "aliases": [{"alias": "staging",
                                                                                     "version": "2"}]}]})
    responses.get(VERSIONS, json={"model_versions": [{"name": "churn", "version": "2", "tags": [
        {"key": "k", "value": "v"}]}]})
    model = reader().models(["churn"])["churn"]
    assert model.version("2").aliases == ("staging",) and model.version("2").tag_map == {"k": "v"}


@responses.activate
def test_a_third_500_is_an_error_naming_the_server() -> None:
    responses.get(MODELS, status=500, json=CRASH)
    with pytest.raises(RemoteError) as caught:
        reader().models(["churn"])
    assert caught.value.status == 500 and URI in caught.value.message and len(responses.calls) == 3


@responses.activate
def test_a_page_token_that_comes_back_is_refused() -> None:
    responses.get(MODELS, json={"registered_models": [{"name": "churn"}], "next_page_token": "again"})
    with pytest.raises(BadResponse, match="next_page_token came back twice"):
        reader().models(["churn"])


@responses.activate
def test_a_version_that_is_not_a_number_is_a_bad_answer_from_mlflow() -> None:
    responses.get(MODELS, json={"registered_models": [{"name": "churn"}]})
    responses.get(VERSIONS, json={"model_versions": [{"name": "churn", "version": "two"}]})
    with pytest.raises(BadResponse) as caught:
        reader().models(["churn"])
    assert caught.value.service == "MLflow" and "not a number" in caught.value.message


@responses.activate
def test_rows_without_latest_versions_are_read_whole_and_a_bad_one_is_a_bad_answer() -> None:
    """A server (or proxy) whose `registered-models/search` rows carry no latest_versions costs the
    version search, as before; latest_versions of the wrong shape is MLflow's error, not a crash."""
    responses.get(MODELS, json={"registered_models": [{"name": "churn", "aliases": [{"alias": "staging",
                                                                                     "version": "2"}]}]})
    responses.get(VERSIONS, json={"model_versions": [{"name": "churn", "version": "2"}]})
    model = reader().models(["churn"], enough=lambda m: m.version("2") is not None)["churn"]
    assert model.complete and model.version("2").aliases == ("staging",) and len(responses.calls) == 2

    responses.replace(responses.GET, MODELS, json={"registered_models": [{"name": "churn", "latest_versions": {}}]})
    with pytest.raises(BadResponse, match="registered-models/search"):
        reader().models(["churn"], enough=lambda m: True)
