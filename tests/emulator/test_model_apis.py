"""Model APIs on the emulator: real MLflow models built, deployed, called, replaced and stopped.

Where a test asserts a sequence of states it runs the emulator on a ``ManualClock`` and moves
time itself; the only thing it waits for is the real model load, as a condition.
"""

from __future__ import annotations

import sys

import mlflow.pyfunc
import pandas as pd
import pytest
import requests

from domino_emulator import Emulator
from domino_emulator.clock import ManualClock
from domino_emulator.local.models import register_broken_model
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

THREE_ROWS = [DIABETES_ROW, {**DIABETES_ROW, "age": 60, "bmi": 32, "s5": 5}, {**DIABETES_ROW, "sex": 2, "bp": 80}]


@pytest.fixture
def domino(domino_emulator) -> DominoSession:
    return DominoSession(domino_emulator.url, domino_emulator.api_key)


def _local_prediction(name: str, version: str, rows: list[dict] | None = None) -> list[float]:
    """What MLflow itself predicts for the rows (floats, as the model's signature says)."""
    model = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
    return list(model.predict(pd.DataFrame(rows or [DIABETES_ROW]).astype(float)))


def _create(domino: DominoSession, emu, name: str, model: str, version: str, **changes) -> dict:
    body = {**model_api_body(emu.project_id, name, model, version, environment_id=first_environment(domino)), **changes}
    response = domino.post(MODEL_APIS, body)
    assert response.status_code == 201, response.text
    return response.json()


def _status(domino: DominoSession, model_api_id: str) -> str:
    return domino.ok("GET", f"{MODEL_APIS}/{model_api_id}")["activeVersion"]["deployment"]["status"]


def _deploy_by_hand(domino: DominoSession, clock: ManualClock, model_api_id: str, seconds: float) -> list[str]:
    """Walk a new version through its states by moving the clock (build 20 % + 40 %, start 40 %)."""
    seen = [_status(domino, model_api_id)]
    clock.advance(0.2 * seconds)
    seen.append(_status(domino, model_api_id))
    clock.advance(0.4 * seconds)
    # The model load is real work: wait for it as a condition, the clock stands still meanwhile.
    seen.append(wait_until(lambda: _status(domino, model_api_id), lambda s: s != "Building")[-1])
    clock.advance(0.4 * seconds)
    seen.append(_status(domino, model_api_id))
    return seen


def _build_log(domino: DominoSession, model_api_id: str, version_id: str) -> str:
    answer = domino.ok("GET", f"{MODEL_APIS}/{model_api_id}/versions/{version_id}/buildLogs")
    return "\n".join(line["log"] for line in answer["logs"])


def test_a_registered_model_goes_running_and_predicts_like_mlflow(diabetes_model, mlflow_server):
    name, version = diabetes_model
    clock = ManualClock()
    with Emulator(mlflow_uri=mlflow_server.uri, deploy_seconds=10, clock=clock) as emu:
        domino = DominoSession(emu.url, emu.api_key)
        created = _create(domino, emu, "diabetes", name, version)
        assert created["activeVersion"]["deployment"] == {"status": "Preparing to build", "isPending": True}

        assert _deploy_by_hand(domino, clock, created["id"], 10) == [
            "Preparing to build", "Building", "Starting", "Running"]
        api = domino.ok("GET", f"{MODEL_APIS}/{created['id']}")
        assert api["activeVersion"]["dataPlaneId"] == "000000000000000000000000"  # small-k8s lives in "local"
        assert api["activeVersion"]["deployment"]["isPending"] is False

        token = emu.issue_model_token(created["id"], name="smoke")
        answer = call_model(emu.url, created["id"], token, DIABETES_ROW)
        assert answer.status_code == 200, answer.text
        local = _local_prediction(name, version)
        assert answer.json()["result"] == pytest.approx(local)
        assert answer.json()["release"] == {"harness_version": "0.1", "model_version_number": 1,
                                            "registered_model_name": name, "registered_model_version": int(version)}
        assert answer.json()["request_id"] and isinstance(answer.json()["model_time_in_ms"], int)
        build = domino.ok("GET", f"{MODEL_APIS}/{created['id']}/versions/{api['activeVersion']['id']}/buildLogs")
        assert build["status"] == "Succeeded" and build["buildId"] and {"log", "streamType", "tags", "timeNano",
                                                                        "timestamp"} == set(build["logs"][0])
        assert f"models:/{name}/{version}" in _build_log(domino, created["id"], api["activeVersion"]["id"])


def test_three_rows_give_three_predictions_in_every_documented_form(domino, domino_emulator, diabetes_model):
    name, version = diabetes_model
    created = _create(domino, domino_emulator, "rows", name, version)
    assert wait_for_deployment(domino, created["id"])[-1] == "Running"
    token = domino_emulator.issue_model_token(created["id"])
    local = _local_prediction(name, version, THREE_ROWS)
    columns = {k: [row[k] for row in THREE_ROWS] for k in DIABETES_ROW}

    as_columns = call_model(domino_emulator.url, created["id"], token, columns)  # {"data": {col: [v1, v2, v3]}}
    as_rows = call_model(domino_emulator.url, created["id"], token, body={"parameters": THREE_ROWS})
    as_argument = call_model(domino_emulator.url, created["id"], token, body={"parameters": [columns]})

    for answer in (as_columns, as_rows, as_argument):
        assert answer.status_code == 200, answer.text
        assert answer.json()["result"] == pytest.approx(local) and len(local) == 3
    assert len(set(local)) == 3  # three different rows, three different predictions
    # The contract's `data` is an object: a list there is refused before the model sees it.
    listed = call_model(domino_emulator.url, created["id"], token, THREE_ROWS)
    assert listed.status_code == 400 and "$.data" in listed.json()["message"]
    ragged = call_model(domino_emulator.url, created["id"], token, {"age": [1, 2], "sex": [1]})
    assert ragged.status_code == 400 and "same number" in ragged.json()["message"]


def test_a_model_api_is_restricted_to_its_tokens_unless_public(domino, domino_emulator, diabetes_model):
    created = _create(domino, domino_emulator, "guarded", *diabetes_model)
    wait_for_deployment(domino, created["id"])
    url, model_id = domino_emulator.url, created["id"]
    assert created["access"] == {"isPublic": False, "accessTokens": []}  # Domino's default

    anonymous = call_model(url, model_id, None, DIABETES_ROW)
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith("Basic")
    assert set(anonymous.json()) == {"message"}  # an unpublished route: the v4 error shape
    assert call_model(url, model_id, "not-a-token", DIABETES_ROW).status_code == 401

    issued = requests.post(f"{url}/_emulator/modelApis/{model_id}/accessTokens", json={"name": "ci"}, timeout=5)
    assert issued.status_code == 201 and set(issued.json()) == {"id", "name", "token"}
    token = issued.json()["token"]
    assert call_model(url, model_id, token, DIABETES_ROW).status_code == 200
    listed = domino.ok("GET", f"{MODEL_APIS}/{model_id}")["access"]["accessTokens"]
    assert [t["name"] for t in listed] == ["ci"] and token not in str(listed)  # metadata, never the value
    assert set(listed[0]) == {"id", "name", "created", "createdBy", "lastGenerated", "lastGeneratedBy"}
    assert domino.get(f"{MODEL_APIS}/{model_id}/accessTokens").status_code == 404  # no published route

    opened = requests.put(f"{url}/_emulator/modelApis/{model_id}/access", json={"isPublic": True}, timeout=5)
    assert opened.json()["isPublic"] is True
    assert call_model(url, model_id, None, DIABETES_ROW).status_code == 200
    domino_emulator.set_model_api_public(model_id, public=False)
    assert call_model(url, model_id, None, DIABETES_ROW).status_code == 401
    assert domino_emulator.requests[-1].route == "POST /models/{modelId}/latest/model"  # admin routes: unrecorded


def test_an_unloadable_model_fails_the_deploy_with_a_build_log(domino, domino_emulator, mlflow_server):
    version = register_broken_model(mlflow_server.uri, "broken-model")
    created = _create(domino, domino_emulator, "broken", "broken-model", version)

    assert wait_for_deployment(domino, created["id"])[-1] == "Failed"
    log = _build_log(domino, created["id"], created["activeVersion"]["id"])
    assert "ERROR cannot fetch or load models:/broken-model/" in log and "MLmodel" in log


def test_a_missing_model_package_fails_the_deploy_and_names_the_extra(domino, domino_emulator, diabetes_model,
                                                                      monkeypatch):
    monkeypatch.setitem(sys.modules, "skops.io", None)  # as if skops were not installed
    created = _create(domino, domino_emulator, "no-deps", *diabetes_model)

    assert wait_for_deployment(domino, created["id"])[-1] == "Failed"
    log = _build_log(domino, created["id"], created["activeVersion"]["id"])
    assert "'skops' is missing" in log and "pip install 'domino-emulator[predict]'" in log


def test_a_new_version_takes_over_only_once_running(diabetes_model, mlflow_server):
    name, version = diabetes_model
    clock = ManualClock()
    with Emulator(mlflow_uri=mlflow_server.uri, deploy_seconds=10, clock=clock) as emu:
        domino = DominoSession(emu.url, emu.api_key)
        created = _create(domino, emu, "zero-downtime", name, version)
        _deploy_by_hand(domino, clock, created["id"], 10)
        emu.set_model_api_public(created["id"])

        second = domino.post(f"{MODEL_APIS}/{created['id']}/versions", version_body(emu.project_id, name, version))
        assert second.status_code == 201 and second.json()["number"] == 2 and second.json()["labels"] == []
        assert domino.ok("GET", f"{MODEL_APIS}/{created['id']}")["activeVersion"]["id"] == second.json()["id"]
        clock.advance(3)  # version 2 is building: version 1 keeps answering, whatever the machine's speed
        assert _status(domino, created["id"]) == "Building"
        assert call_model(emu.url, created["id"], None, DIABETES_ROW).json()["release"]["model_version_number"] == 1

        build = f"{MODEL_APIS}/{created['id']}/versions/{second.json()['id']}/buildLogs"
        wait_until(lambda: domino.ok("GET", build)["status"], lambda s: s != "Building")  # the real model load
        clock.advance(3)
        assert _status(domino, created["id"]) == "Starting"
        assert call_model(emu.url, created["id"], None, DIABETES_ROW).json()["release"]["model_version_number"] == 1
        clock.advance(4)
        assert _status(domino, created["id"]) == "Running"
        assert call_model(emu.url, created["id"], None, DIABETES_ROW).json()["release"]["model_version_number"] == 2
        versions = domino.ok("GET", f"{MODEL_APIS}/{created['id']}/versions")
        assert isinstance(versions, list)  # a bare list: the route publishes no paging
        assert [(v["number"], v["deployment"]["status"]) for v in versions] == [(1, "Stopped"), (2, "Running")]
        assert versions[1]["commitId"] == emu.world.project(emu.project_id).commits[0]


def test_legacy_routes_stop_start_and_report(domino, domino_emulator, diabetes_model):
    created = _create(domino, domino_emulator, "legacy", *diabetes_model)
    wait_for_deployment(domino, created["id"])
    model_id, version_id = created["id"], created["activeVersion"]["id"]
    token = domino_emulator.issue_model_token(model_id)

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
    assert {"key": "MLFLOW_MODEL_VERSION", "value": "1"} in domino_emulator.world.model_apis[model_id].environment_variables


def test_list_pages_and_filters(domino, domino_emulator, diabetes_model):
    for i in range(3):
        _create(domino, domino_emulator, f"churn-{i}", *diabetes_model)
    _create(domino, domino_emulator, "other", *diabetes_model)
    path = f"{MODEL_APIS}?projectId={domino_emulator.project_id}"

    first = domino.ok("GET", f"{path}&name=churn&offset=0&limit=2")
    rest = domino.ok("GET", f"{path}&name=churn&offset=2&limit=2")
    assert {k: first["metadata"][k] for k in ("offset", "limit", "totalCount")} == {"offset": 0, "limit": 2,
                                                                                 "totalCount": 3}
    assert first["metadata"]["requestId"] and first["metadata"]["notices"] == []
    assert [a["name"] for a in first["items"] + rest["items"]] == ["churn-0", "churn-1", "churn-2"]
    assert domino.ok("GET", path)["metadata"]["totalCount"] == 4
    by_model = domino.ok("GET", f"{path}&registeredModelName={diabetes_model[0]}&registeredModelVersion=999")
    assert by_model["metadata"]["totalCount"] == 0
    assert domino.get(f"{path}&limit=many").status_code == 400  # typed query parameters are checked too


def test_update_and_delete(domino, domino_emulator, diabetes_model):
    created = _create(domino, domino_emulator, "to-change", *diabetes_model)
    change = {"name": "changed", "description": "d", "environmentId": created["environmentId"], "replicas": 2}
    updated = domino.ok("PUT", f"{MODEL_APIS}/{created['id']}", {**change, "hardwareTierId": "prod-small"})
    assert (updated["name"], updated["replicas"], updated["hardwareTierId"]) == ("changed", 2, "prod-small")
    assert domino.put(f"{MODEL_APIS}/{created['id']}", {**change, "hardwareTierId": "no-such-tier"}).status_code == 400
    assert domino.put(f"{MODEL_APIS}/{created['id']}", {"hardwareTierId": "small-k8s"}).status_code == 400  # not whole

    assert domino.delete(f"{MODEL_APIS}/{created['id']}").status_code == 204
    assert domino.get(f"{MODEL_APIS}/{created['id']}").status_code == 404


def test_a_bad_create_lists_every_problem_and_creates_nothing(domino, domino_emulator):
    body = {"name": "x", "isAsync": "no", "version": {"projectId": domino_emulator.project_id,
                                                      "source": {"type": "Registry"}}}
    response = domino.post(MODEL_APIS, body)

    assert response.status_code == 400
    assert set(response.json()) == {"errors", "requestId"}  # the public API's FailureEnvelopeV1
    errors = response.json()["errors"]
    for expected in ("$: 'description' is a required property", "$.isAsync: 'no' is not of type 'boolean'",
                     "$.version: 'logHttpRequestResponse' is a required property"):
        assert expected in errors
    semantic = domino.post(MODEL_APIS, model_api_body(domino_emulator.project_id, "x", "m", 1,
                                                      environment_id="no-such-environment"))
    assert semantic.status_code == 400 and semantic.json()["errors"] == ["environment 'no-such-environment' does not exist"]
    no_model = model_api_body(domino_emulator.project_id, "x", "m", 1, environment_id=first_environment(domino))
    no_model["version"]["source"] = {"type": "Registry"}
    assert domino.post(MODEL_APIS, no_model).json()["errors"] == [
        "version.source.registeredModelName is required for a Registry source",
        "version.source.registeredModelVersion is required for a Registry source"]
    assert domino.ok("GET", MODEL_APIS)["metadata"]["totalCount"] == 0


def test_an_async_model_api_queues_then_answers(domino, domino_emulator, diabetes_model):
    created = _create(domino, domino_emulator, "async", *diabetes_model, isAsync=True)
    assert wait_for_deployment(domino, created["id"])[-1] == "Running"
    token = domino_emulator.issue_model_token(created["id"])
    url = f"{domino_emulator.url}/api/modelApis/async/v1/{created['id']}"
    bearer = {"Authorization": f"Bearer {token}"}

    def status() -> str:
        return requests.get(prediction, headers=bearer, timeout=5).json()["status"]

    with domino_emulator.hold_async_predictions():  # the queue keeps it Pending until the block ends
        submitted = requests.post(url, json={"parameters": DIABETES_ROW}, headers=bearer, timeout=30)
        assert submitted.status_code == 200, submitted.text
        prediction = f"{url}/{submitted.json()['asyncPredictionId']}"
        assert status() == "Pending"
        assert status() == "Pending"  # still: held, not timed
    seen = wait_until(status, lambda s: s in ("Succeeded", "Failed"), first="Pending")
    assert seen[-1] == "Succeeded" and seen == sorted(seen, key=["Pending", "Processing", "Succeeded"].index)
    answer = requests.get(prediction, headers=bearer, timeout=5).json()
    assert answer["asyncPredictionId"] == submitted.json()["asyncPredictionId"]
    assert answer["result"] == {"prediction": pytest.approx(_local_prediction(*diabetes_model))}
    assert call_model(domino_emulator.url, created["id"], token, DIABETES_ROW).status_code == 400  # not sync
    refused = requests.post(url, json={"parameters": DIABETES_ROW}, timeout=5)
    assert refused.status_code == 401 and set(refused.json()) == {"errors", "requestId"}
    domino_emulator.set_model_api_public(created["id"])
    assert requests.post(url, json={"parameters": DIABETES_ROW}, timeout=5).status_code == 200  # no token needed
