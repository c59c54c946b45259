"""The official Domino client (python-domino, PyPI `dominodatalab` 2.2.0) works against the emulator.

That keeps the emulator honest from the other side: these are the routes, bodies and reads of
the client Domino ships. Every test also holds the traffic it caused to the contract: each
request python-domino sent passed the contract's checks, and each answer validates.
"""

from __future__ import annotations

import logging

import pytest
from domino import Domino
from domino.exceptions import RunFailedException

from domino_emulator.contract import load_contract
from domino_emulator import Emulator
from tests.support.emulator import MODEL_APIS, DominoSession, model_api_body, wait_until


@pytest.fixture
def emu(mlflow_server):
    with Emulator(mlflow_uri=mlflow_server.uri, deploy_seconds=0.2, record_responses=True) as running:
        yield running
        _assert_traffic_follows_the_contract(running)


@pytest.fixture
def client(emu, monkeypatch):
    # The official client calls logging.basicConfig() in its constructor; keep the root logger as it was.
    monkeypatch.setattr(logging, "basicConfig", lambda **_: None)
    return Domino(f"{emu.owner}/{emu.project_name}", api_key=emu.api_key, host=emu.url)


def _assert_traffic_follows_the_contract(emu: Emulator) -> None:
    contract = load_contract()
    assert emu.requests, "the test sent nothing"
    for record in emu.requests:
        assert record.route is not None, f"python-domino called a route the emulator lacks: {record.method} {record.path}"
        route = contract.by_shape(record.method, record.route.split(" ", 1)[1])
        assert record.status != 400 or "invalid request" not in str(record.response), (
            f"the contract refused python-domino's request to {record.route}: {record.response}")
        assert contract.check_response(route, record.status, record.response) == [], (record.route, record.response)


def test_version_project_lookup_and_projects_list(client, emu):
    assert client.deployment_version()["version"] == "6.1.0"
    assert client.project_id == emu.project_id
    assert [p["name"] for p in client.projects_list()] == [emu.project_name]
    assert client.projects_list(relationship="Collaborating") == []


def test_hardware_tiers_and_environments(client):
    assert [t["hardwareTier"]["id"] for t in client.hardware_tiers_list()] == ["small-k8s", "medium-k8s", "prod-small"]
    assert client.get_hardware_tier_id_from_name("Prod Small") == "prod-small"
    listed = client.environments_list()["data"]
    assert {e["name"] for e in listed} >= {"Domino Standard Environment"}
    environment = client.get_environment(listed[0]["id"])["environment"]
    assert (environment["id"], environment["name"]) == (listed[0]["id"], listed[0]["name"])


def test_job_start_status_list_restart_and_failure(client, emu):
    environment = client.environments_list()["data"][0]["id"]
    job = client.job_start("python train.py", hardware_tier_id="medium-k8s", environment_id=environment,
                           title="train")  # the client validates tier and environment against the server
    assert client.job_status(job["id"])["statuses"]["executionStatus"] in ("Queued", "Running", "Succeeded")

    done = client.job_start_blocking(poll_freq=0.05, max_poll_time=30, command="python train.py")
    assert done["statuses"] == {"isCompleted": True, "isArchived": False, "isScheduled": False,
                                "executionStatus": "Succeeded"}
    restarted = client.job_restart(done["id"])
    assert restarted.status_code == 200 and restarted.json()["jobRunCommand"] == "python train.py"
    listed = client.jobs_list(emu.project_id, page_size=10)
    assert listed["totalCount"] == 3 and [j["number"] for j in listed["jobs"]] == [3, 2, 1]
    assert [r["id"] for r in client.runs_list()["data"]] == [job["id"], done["id"], restarted.json()["id"]]
    assert "python train.py" in client.get_run_log(done["id"])
    with pytest.raises(RunFailedException):
        client.job_start_blocking(poll_freq=0.05, max_poll_time=30, command="python fail.py")


def test_app_start_and_status(client):
    assert client.app_id is None
    client.app_publish(hardware_tier_id="small-k8s")
    app_id = client.app_id

    seen = wait_until(lambda: client.app_get_status(app_id), lambda s: s == "Running", timeout=10)
    assert seen[-1] == "Running" and set(seen) <= {"Pending", "Running"}
    client.app_unpublish()
    assert client.app_get_status(app_id) == "Stopped"


def test_model_publish_versions_and_list(client, emu):
    environment = client.environments_list()["data"][0]["id"]
    published = client.model_publish("model.py", "predict", environment, "from-files", "published by python-domino")
    model_id = published["data"]["_id"]
    assert (published["data"]["name"], published["data"]["description"]) == ("from-files",
                                                                             "published by python-domino")

    second = client.model_version_publish(model_id, "model.py", "predict", environment, "v2")
    assert second["number"] == 2
    versions = client.model_versions_get(model_id)["data"]
    assert [(v["metadata"]["number"], v["modelId"]["value"]) for v in versions] == [(1, model_id), (2, model_id)]
    assert client.models_list() == {"objectType": "list", "data": [{"id": model_id, "name": "from-files"}]}
    # A File source cannot be served by the emulator: the version builds, fails and says why.
    domino = DominoSession(emu.url, emu.api_key)
    assert wait_until(lambda: domino.ok("GET", f"{MODEL_APIS}/{model_id}")["activeVersion"]["deployment"]["status"],
                      lambda s: s == "Failed")[-1] == "Failed"


def test_model_export_status_and_logs(client, emu, diabetes_model):
    domino = DominoSession(emu.url, emu.api_key)
    body = model_api_body(emu.project_id, "to-export", *diabetes_model,
                          environment_id=client.environments_list()["data"][0]["id"])
    created = domino.ok("POST", MODEL_APIS, body)

    # python-domino returns the answer as sent: the v4 document's array of one export status.
    (started,) = client.model_version_export(created["id"], created["activeVersion"]["id"], "registry.example.com",
                                             "user", "password", "models/diabetes", "v1")
    assert started["status"] == "pending" and started["modelId"] == created["id"]
    seen = wait_until(lambda: client.model_version_export_status(started["exportId"])["status"],
                      lambda s: s in ("complete", "failed"))
    assert seen[-1] == "complete"
    logs = client.model_version_export_logs(started["exportId"])
    assert logs["status"] == "complete" and "Pushed registry.example.com/models/diabetes:v1" in logs["logs"]
