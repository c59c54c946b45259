"""Start/stop/status of versions, image export, and calling a deployed model."""

from __future__ import annotations

import base64
import json
import logging

import pytest

from domino_mlops.clients.domino_serving_types import DeploymentStatus, ExportStatus
from domino_mlops.errors import AuthenticationFailed, RemoteError
from tests.clients.domino_fakes import HOST, make_client

LEGACY = f"{HOST}/v4/models/m1/v1"


def test_start_stop_and_status_use_the_legacy_routes(rsps):
    client, _ = make_client()
    rsps.post(f"{LEGACY}/startModelDeployment", status=200)
    rsps.get(f"{LEGACY}/getModelDeploymentStatus", json={"modelId": "m1", "modelVersionId": "v1", "status": "Running"})
    rsps.post(f"{LEGACY}/stopModelDeployment", json={"modelId": "m1", "modelVersionId": "v1", "status": "not_running"})
    assert client.deployments.start("m1", "v1") is None
    assert client.deployments.status("m1", "v1").is_running
    stopped = client.deployments.stop("m1", "v1")
    assert stopped == DeploymentStatus("not_running") and stopped.is_stopped


def test_start_is_not_retried(rsps):
    client, sleeps = make_client()
    rsps.post(f"{LEGACY}/startModelDeployment", status=503)
    with pytest.raises(RemoteError):
        client.deployments.start("m1", "v1")
    assert len(rsps.calls) == 1 and sleeps == []


def test_export_sends_the_registry_details_and_never_logs_the_password(rsps, caplog):
    caplog.set_level(logging.DEBUG)
    client, _ = make_client()
    rsps.post(f"{LEGACY}/exportImageToRegistry", json={"exportId": "x1", "status": "pending"})
    rsps.get(f"{HOST}/v4/models/x1/getExportImageStatus", json={"status": "complete"})
    started = client.deployments.export_image("m1", "v1", registry_url="registry.example.com", username="bot",
                                              password="pw-SECRET", repository="ml/churn", tag="7")
    assert started == ExportStatus("pending", "x1")
    assert json.loads(rsps.calls[0].request.body) == {
        "registryUrl": "registry.example.com", "username": "bot", "password": "pw-SECRET",
        "repository": "ml/churn", "tag": "7"}
    assert client.deployments.export_status("x1").is_complete
    assert "pw-SECRET" not in caplog.text


def test_predict_uses_basic_auth_with_the_model_token_and_wraps_data(rsps):
    client, _ = make_client()
    rsps.post(f"{HOST}/models/m1/latest/model", json={
        "result": [151.2], "request_id": "r1", "model_time_in_ms": 3,
        "release": {"harness_version": "0.1", "model_version_number": 2,
                    "registered_model_name": "churn", "registered_model_version": 7}})
    prediction = client.deployments.predict("m1", "tok-1", {"age": 0.03, "bmi": 0.06})
    request = rsps.calls[0].request
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"tok-1:tok-1").decode()
    assert "X-Domino-Api-Key" not in request.headers
    assert json.loads(request.body) == {"data": {"age": 0.03, "bmi": 0.06}}
    assert prediction.result == [151.2] and prediction.release.registered_model_version == 7


def test_refused_model_token_is_named_but_not_shown(rsps, caplog):
    caplog.set_level(logging.DEBUG)
    client, _ = make_client()
    rsps.post(f"{HOST}/models/m1/latest/model", status=401, json={"message": "not a valid access token"})
    with pytest.raises(AuthenticationFailed) as caught:
        client.deployments.predict("m1", "tok-SECRET-9", {"x": 1})
    assert "Model API access token" in str(caught.value)
    assert "tok-SECRET-9" not in str(caught.value) + repr(caught.value) + caplog.text
