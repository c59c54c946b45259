"""The official Domino client (python-domino, PyPI `dominodatalab`) works against the emulator.

That keeps the emulator honest: these are the routes and shapes a real Domino serves it.
"""

from __future__ import annotations

import logging
import time

import pytest
from domino import Domino
from domino.exceptions import RunFailedException

from tests.support.emulator import MODEL_APIS, DominoSession, model_api_body, wait_until


@pytest.fixture
def client(domino_emulator, monkeypatch):
    # The official client calls logging.basicConfig() in its constructor; keep the root logger as it was.
    monkeypatch.setattr(logging, "basicConfig", lambda **_: None)
    return Domino(f"{domino_emulator.owner}/{domino_emulator.project_name}", api_key=domino_emulator.api_key,
                  host=domino_emulator.url)


def test_version_and_project_lookup(client, domino_emulator):
    assert client.deployment_version()["version"] == "6.1.0"
    assert client.project_id == domino_emulator.project_id


def test_hardware_tiers_and_environments(client):
    assert [t["hardwareTier"]["id"] for t in client.hardware_tiers_list()] == ["small-k8s", "medium-k8s", "prod-small"]
    assert client.get_hardware_tier_id_from_name("Prod Small") == "prod-small"
    assert {e["name"] for e in client.environments_list()["data"]} >= {"Domino Standard Environment"}


def test_job_start_status_and_failure(client):
    environment = client.environments_list()["data"][0]["id"]
    job = client.job_start("python train.py", hardware_tier_id="medium-k8s", environment_id=environment,
                           title="train")  # the client validates tier and environment against the server
    assert client.job_status(job["id"])["statuses"]["executionStatus"] in ("Queued", "Running")

    done = client.job_start_blocking(poll_freq=0.05, max_poll_time=30, command="python train.py")
    assert done["statuses"] == {"isCompleted": True, "isArchived": False, "isScheduled": False,
                                "executionStatus": "Succeeded"}
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


def test_model_export(client, domino_emulator, diabetes_model):
    domino = DominoSession(domino_emulator.url, domino_emulator.api_key)
    body = model_api_body(domino_emulator.project_id, "to-export", *diabetes_model,
                          environment_id=client.environments_list()["data"][0]["id"])
    created = domino.ok("POST", MODEL_APIS, body)

    started = client.model_version_export(created["id"], created["activeVersion"]["id"], "registry.example.com",
                                          "user", "password", "models/diabetes", "v1")
    assert set(started) == {"exportId", "status"}
    deadline = time.monotonic() + 30
    while (status := client.model_version_export_status(started["exportId"])["status"]) not in ("complete", "failed"):
        assert time.monotonic() < deadline, status
        time.sleep(0.05)
    assert status == "complete"
