"""Model APIs on the emulator: real MLflow models built, deployed, called, replaced and stopped."""

from __future__ import annotations

import sys

import mlflow.pyfunc
import pandas as pd
import pytest
import requests

from domino_mlops.emulator import Emulator
from tests.support.emulator import (
    DIABETES_ROW,
    MODEL_APIS,
    DominoSession,
    call_model,
    first_environment,
    model_api_body,
    version_body,
    wait_for_deployment,
    wait_until,
)
from domino_mlops.local.models import register_broken_model


@pytest.fixture
def domino(domino_emulator) -> DominoSession:
    return DominoSession(domino_emulator.url, domino_emulator.api_key)


def _local_prediction(name: str, version: str) -> list[float]:
    """What MLflow itself predicts for the test row (floats, as the model's signature says)."""
    model = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
    return list(model.predict(pd.DataFrame([DIABETES_ROW]).astype(float)))


def _create(domino: DominoSession, emu, name: str, model: str, version: str) -> dict:
    body = model_api_body(emu.project_id, name, model, version, environment_id=first_environment(domino))
    response = domino.post(MODEL_APIS, body)
    assert response.status_code == 201, response.text
    return response.json()


def test_a_registered_model_goes_running_and_predicts_like_mlflow(diabetes_model, mlflow_server):
    name, version = diabetes_model
    # Slower than the fixture's 0.2 s, so that a poll every 20 ms sees every state.
    with Emulator(mlflow_uri=mlflow_server.uri, deploy_seconds=1.5) as emu:
        domino = DominoSession(emu.url, emu.api_key)
        created = _create(domino, emu, "diabetes", name, version)
        assert created["activeVersion"]["deployment"] == {"status": "Preparing to build", "isPending": True}

        seen = wait_for_deployment(domino, created["id"], first=created["activeVersion"]["deployment"]["status"])
        assert seen == ["Preparing to build", "Building", "Starting", "Running"]
        api = domino.ok("GET", f"{MODEL_APIS}/{created['id']}")
        assert api["activeVersion"]["dataPlaneId"] == "000000000000000000000000"  # small-k8s lives in "local"
        assert api["activeVersion"]["deployment"]["isPending"] is False

        token = domino.ok("POST", f"{MODEL_APIS}/{created['id']}/accessTokens", {"name": "smoke"})["token"]
        answer = call_model(emu.url, created["id"], token, DIABETES_ROW)
        assert answer.status_code == 200, answer.text
        local = _local_prediction(name, version)
        assert answer.json()["result"] == pytest.approx(local)
        assert answer.json()["release"] == {"harness_version": "0.1", "model_version_number": 1,
                                            "registered_model_name": name, "registered_model_version": int(version)}
        assert answer.json()["request_id"] and isinstance(answer.json()["model_time_in_ms"], int)

        rows = call_model(emu.url, created["id"], token, [DIABETES_ROW, DIABETES_ROW])
        columns = call_model(emu.url, created["id"], token, {k: [v] for k, v in DIABETES_ROW.items()})
        assert rows.json()["result"] == pytest.approx(local * 2)
        assert columns.json()["result"] == pytest.approx(local)
        log = domino.get(f"{MODEL_APIS}/{created['id']}/versions/{api['activeVersion']['id']}/buildLogs").text
        assert f"models:/{name}/{version}" in log and "Build complete" in log


def test_calling_a_model_needs_its_access_token(domino, domino_emulator, diabetes_model):
    created = _create(domino, domino_emulator, "guarded", *diabetes_model)
    wait_for_deployment(domino, created["id"])
    token = domino.post(f"{MODEL_APIS}/{created['id']}/accessTokens", {"name": "t"}).json()["token"]

    assert call_model(domino_emulator.url, created["id"], "not-a-token", DIABETES_ROW).status_code == 401
    listed = domino.ok("GET", f"{MODEL_APIS}/{created['id']}/accessTokens")
    assert [t["name"] for t in listed] == ["t"] and "token" not in listed[0]
    bad = call_model(domino_emulator.url, created["id"], token, {"age": [1, 2], "sex": [1]})
    assert bad.status_code == 400 and "same number" in bad.json()["message"]


def test_an_unloadable_model_fails_the_deploy_with_a_build_log(domino, domino_emulator, mlflow_server):
    version = register_broken_model(mlflow_server.uri, "broken-model")
    created = _create(domino, domino_emulator, "broken", "broken-model", version)

    assert wait_for_deployment(domino, created["id"])[-1] == "Failed"
    log = domino.get(f"{MODEL_APIS}/{created['id']}/versions/{created['activeVersion']['id']}/buildLogs").text
    assert "ERROR cannot fetch or load models:/broken-model/" in log and "MLmodel" in log


def test_a_missing_model_package_fails_the_deploy_and_names_the_extra(domino, domino_emulator, diabetes_model,
                                                                      monkeypatch):
    monkeypatch.setitem(sys.modules, "skops.io", None)  # as if skops were not installed
    created = _create(domino, domino_emulator, "no-deps", *diabetes_model)

    assert wait_for_deployment(domino, created["id"])[-1] == "Failed"
    log = domino.get(f"{MODEL_APIS}/{created['id']}/versions/{created['activeVersion']['id']}/buildLogs").text
    assert "'skops' is missing" in log and "pip install 'domino-mlops[emulator]'" in log


def test_a_new_version_takes_over_only_once_running(domino, domino_emulator, diabetes_model):
    name, version = diabetes_model
    created = _create(domino, domino_emulator, "zero-downtime", name, version)
    wait_for_deployment(domino, created["id"])
    token = domino.post(f"{MODEL_APIS}/{created['id']}/accessTokens", {"name": "t"}).json()["token"]
    domino_emulator.set_faults(slow_deploy_seconds=1.0)  # time enough to call the model meanwhile

    second = domino.post(f"{MODEL_APIS}/{created['id']}/versions",
                         version_body(domino_emulator.project_id, name, version, labels={"pr": "7"}))
    assert second.status_code == 201 and second.json()["number"] == 2
    assert domino.ok("GET", f"{MODEL_APIS}/{created['id']}")["activeVersion"]["id"] == second.json()["id"]
    # Still building: the first version keeps answering.
    assert call_model(domino_emulator.url, created["id"], token, DIABETES_ROW).json()["release"][
        "model_version_number"] == 1

    assert wait_for_deployment(domino, created["id"])[-1] == "Running"
    assert call_model(domino_emulator.url, created["id"], token, DIABETES_ROW).json()["release"][
        "model_version_number"] == 2
    versions = domino.ok("GET", f"{MODEL_APIS}/{created['id']}/versions")
    assert versions["metadata"]["totalCount"] == 2
    assert [v["deployment"]["status"] for v in versions["items"]] == ["Stopped", "Running"]
    assert versions["items"][1]["labels"] == {"pr": "7"}


def test_legacy_routes_stop_start_and_report(domino, domino_emulator, diabetes_model):
    created = _create(domino, domino_emulator, "legacy", *diabetes_model)
    wait_for_deployment(domino, created["id"])
    model_id, version_id = created["id"], created["activeVersion"]["id"]
    token = domino.post(f"{MODEL_APIS}/{model_id}/accessTokens", {"name": "t"}).json()["token"]

    stopped = domino.ok("POST", f"/v4/models/{model_id}/{version_id}/stopModelDeployment", {})
    assert stopped == {"modelId": model_id, "modelVersionId": version_id, "status": "not_running"}
    assert domino.ok("GET", f"/v4/models/{model_id}/{version_id}/getModelDeploymentStatus")["status"] == "Stopped"
    assert call_model(domino_emulator.url, model_id, token, DIABETES_ROW).status_code == 503

    started = domino.ok("POST", f"/v4/models/{model_id}/{version_id}/startModelDeployment", {})
    assert wait_for_deployment(domino, model_id, first=started["status"]) == ["Starting", "Running"]
    assert call_model(domino_emulator.url, model_id, token, DIABETES_ROW).status_code == 200

    added = domino.ok("POST", f"/models/{model_id}/environmentVariables/add",
                      {"vars": [{"name": "MLFLOW_MODEL_VERSION", "value": "1"}]})
    assert {"name": "MLFLOW_MODEL_VERSION", "value": "1"} in added["vars"]
    api = domino.ok("GET", f"{MODEL_APIS}/{model_id}")
    assert {"key": "MLFLOW_MODEL_VERSION", "value": "1"} in api["environmentVariables"]


def test_list_pages_and_filters_by_name(domino, domino_emulator, diabetes_model):
    for i in range(3):
        _create(domino, domino_emulator, f"churn-{i}", *diabetes_model)
    _create(domino, domino_emulator, "other", *diabetes_model)
    path = f"{MODEL_APIS}?projectId={domino_emulator.project_id}"

    first = domino.ok("GET", f"{path}&name=churn&offset=0&limit=2")
    rest = domino.ok("GET", f"{path}&name=churn&offset=2&limit=2")
    assert first["metadata"] == {"offset": 0, "limit": 2, "totalCount": 3}
    assert [a["name"] for a in first["items"] + rest["items"]] == ["churn-0", "churn-1", "churn-2"]
    assert domino.ok("GET", path)["metadata"]["totalCount"] == 4


def test_update_and_delete(domino, domino_emulator, diabetes_model):
    created = _create(domino, domino_emulator, "to-change", *diabetes_model)
    updated = domino.ok("PUT", f"{MODEL_APIS}/{created['id']}",
                        {"name": "changed", "description": "d", "environmentId": created["environmentId"],
                         "replicas": 2, "hardwareTierId": "prod-small"})
    assert (updated["name"], updated["replicas"], updated["hardwareTierId"]) == ("changed", 2, "prod-small")
    assert domino.put(f"{MODEL_APIS}/{created['id']}", {"hardwareTierId": "no-such-tier"}).status_code == 400

    assert domino.delete(f"{MODEL_APIS}/{created['id']}").status_code == 204
    assert domino.get(f"{MODEL_APIS}/{created['id']}").status_code == 404


def test_a_bad_create_lists_every_problem_and_creates_nothing(domino, domino_emulator):
    body = {"name": "x", "isAsync": "no", "version": {"projectId": domino_emulator.project_id,
                                                      "source": {"type": "Registry"}}}
    response = domino.post(MODEL_APIS, body)

    assert response.status_code == 400
    errors = response.json()["errors"]
    for expected in ("body.description is required", "body.isAsync must be true or false",
                     "body.version.source.registeredModelName is required",
                     "body.version.logHttpRequestResponse is required"):
        assert expected in errors
    assert domino.ok("GET", MODEL_APIS)["metadata"]["totalCount"] == 0


def test_an_async_model_api_queues_then_answers(domino, domino_emulator, diabetes_model):
    body = model_api_body(domino_emulator.project_id, "async", *diabetes_model,
                          environment_id=first_environment(domino))
    created = domino.ok("POST", MODEL_APIS, {**body, "isAsync": True})
    assert wait_for_deployment(domino, created["id"])[-1] == "Running"
    token = domino.post(f"{MODEL_APIS}/{created['id']}/accessTokens", {"name": "t"}).json()["token"]
    url = f"{domino_emulator.url}/api/modelApis/async/v1/{created['id']}"
    bearer = {"Authorization": f"Bearer {token}"}

    submitted = requests.post(url, json={"parameters": DIABETES_ROW}, headers=bearer, timeout=30)
    assert submitted.status_code == 200, submitted.text
    prediction = f"{url}/{submitted.json()['asyncPredictionId']}"
    seen = wait_until(lambda: requests.get(prediction, headers=bearer, timeout=5).json()["status"],
                      lambda s: s != "queued")
    assert seen == ["queued", "succeeded"]
    answer = requests.get(prediction, headers=bearer, timeout=5).json()
    assert answer["result"] == pytest.approx(_local_prediction(*diabetes_model))
    assert call_model(domino_emulator.url, created["id"], token, DIABETES_ROW).status_code == 400  # not sync
    assert requests.post(url, json={"parameters": DIABETES_ROW}, timeout=5).status_code == 401
