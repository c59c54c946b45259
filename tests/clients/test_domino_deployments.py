"""Start/stop/status of versions, image export, and calling a deployed model."""

from __future__ import annotations

import base64
import json
import logging

import pytest
import requests

from domino_mlops.clients.domino.serving_types import DeploymentStatus, ExportStatus
from domino_mlops.errors import AuthenticationFailed, RemoteError
from tests.clients.domino_fakes import HOST, make_client, nonconforming_requests
from tests.support import domino_payloads as p

M, V, X = p.oid(1), p.oid(2), p.oid(3)
MODELS = f"{HOST}/v4/models/{M}/{V}"


def test_start_stop_and_status_use_the_v4_model_manager_routes(rsps):
    client, _ = make_client()
    rsps.post(f"{MODELS}/startModelDeployment", json=p.v4_status("Preparing to build"))
    rsps.get(f"{MODELS}/getModelDeploymentStatus", json=[p.v4_status("Running")])  # the v4 document's list
    rsps.post(f"{MODELS}/stopModelDeployment", json=p.v4_status("not_running"))
    assert client.deployments.start(M, V) == DeploymentStatus("Preparing to build")
    assert client.deployments.status(M, V).is_running
    stopped = client.deployments.stop(M, V)
    assert stopped == DeploymentStatus("not_running") and stopped.is_stopped
    assert nonconforming_requests(rsps) == []


def test_start_is_not_retried_blindly(rsps):
    client, sleeps = make_client(create_attempts=2)
    rsps.post(f"{MODELS}/startModelDeployment", status=503)
    rsps.get(f"{HOST}/api/modelServing/v1/modelApis/{M}", json=p.model_api(1, "churn-stage", active=p.active_version(9)))
    with pytest.raises(RemoteError):
        client.deployments.start(M, V)
    # Another version is active: the start did not happen, so it is sent again, once looked up.
    assert [c.request.method for c in rsps.calls] == ["POST", "GET", "POST", "GET"] and len(sleeps) == 1


def test_a_start_that_happened_though_its_answer_was_lost_is_not_sent_again(rsps):
    client, _ = make_client()
    rsps.post(f"{MODELS}/startModelDeployment", body=requests.ConnectionError("reset"))
    rsps.get(f"{HOST}/api/modelServing/v1/modelApis/{M}",
             json=p.model_api(1, "churn-stage", active=p.active_version(2, status="Preparing to build")))
    assert client.deployments.start(M, V).status == "Preparing to build"
    assert [c.request.method for c in rsps.calls] == ["POST", "GET"]


def test_export_sends_the_registry_details_and_never_logs_the_password(rsps, caplog):
    caplog.set_level(logging.DEBUG)
    client, _ = make_client()
    rsps.post(f"{MODELS}/exportImageToRegistry", status=202, json={"exportId": X, "status": "pending"})
    rsps.get(f"{HOST}/v4/models/{X}/getExportImageStatus",
             json={"exportId": X, "modelId": M, "modelVersionId": V, "status": "complete"})
    rsps.get(f"{HOST}/v4/models/{X}/getExportLogs",
             json={"exportId": X, "modelId": M, "modelVersionId": V, "status": "complete", "logs": "pushed ml/churn:7"})
    started = client.deployments.export_image(M, V, registry_url="registry.example.com", username="bot",
                                              password="pw-SECRET", repository="ml/churn", tag="7")
    assert started == ExportStatus("pending", X)
    assert json.loads(rsps.calls[0].request.body) == {
        "registryUrl": "registry.example.com", "username": "bot", "password": "pw-SECRET",
        "repository": "ml/churn", "tag": "7"}
    assert client.deployments.export_status(X).is_complete
    assert client.deployments.export_logs(X).text == "pushed ml/churn:7"
    assert "pw-SECRET" not in caplog.text
    assert nonconforming_requests(rsps) == []


def test_predict_uses_basic_auth_with_the_model_token_and_wraps_data(rsps):
    client, _ = make_client()
    rsps.post(f"{HOST}/models/{M}/latest/model", json=p.prediction([151.2], version=7))
    prediction = client.deployments.predict(M, {"age": 0.03, "bmi": 0.06}, token="tok-1")
    request = rsps.calls[0].request
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"tok-1:tok-1").decode()
    assert "X-Domino-Api-Key" not in request.headers
    assert json.loads(request.body) == {"data": {"age": 0.03, "bmi": 0.06}}
    assert prediction.result == [151.2] and prediction.release.registered_model_version == 7
    assert nonconforming_requests(rsps) == []


def test_predict_on_a_public_model_api_sends_no_credential(rsps):
    client, _ = make_client()
    rsps.post(f"{HOST}/models/{M}/latest/model", json=p.prediction([1.0, 2.0, 3.0]))
    client.deployments.predict(M, {"age": [1, 2, 3]}, token=None)
    request = rsps.calls[0].request
    assert "Authorization" not in request.headers and "X-Domino-Api-Key" not in request.headers


def test_refused_model_token_is_named_but_not_shown(rsps, caplog):
    caplog.set_level(logging.DEBUG)
    client, _ = make_client()
    rsps.post(f"{HOST}/models/{M}/latest/model", status=401, json={"message": "not a valid access token"})
    with pytest.raises(AuthenticationFailed) as caught:
        client.deployments.predict(M, {"x": 1}, token="tok-SECRET-9", token_source="DOMINO_MODEL_TOKENS[churn]")
    assert "DOMINO_MODEL_TOKENS[churn]" in str(caught.value)
    assert "tok-SECRET-9" not in str(caught.value) + repr(caught.value) + caplog.text
