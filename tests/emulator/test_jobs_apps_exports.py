"""Jobs, apps and image exports progress over time, and fail when they should."""

from __future__ import annotations

import pytest

from domino_mlops.emulator import Emulator
from tests.support.emulator import MODEL_APIS, DominoSession, model_api_body, wait_until


@pytest.fixture
def emu():
    with Emulator(deploy_seconds=0.2) as running:
        yield running


@pytest.fixture
def domino(emu) -> DominoSession:
    return DominoSession(emu.url, emu.api_key)


def _status(domino: DominoSession, job_id: str) -> str:
    return domino.ok("GET", f"/api/jobs/beta/jobs/{job_id}")["job"]["statuses"]["executionStatus"]


def test_a_job_is_queued_runs_and_succeeds(domino, emu):
    started = domino.post("/api/jobs/v1/jobs", {"projectId": emu.project_id, "runCommand": "python train.py",
                                                "title": "train", "hardwareTierId": "medium-k8s"})
    assert started.status_code == 201
    job = started.json()["job"]
    assert job["statuses"]["executionStatus"] == "Queued" and job["jobRunCommand"] == "python train.py"

    seen = wait_until(lambda: _status(domino, job["id"]), lambda s: s in ("Succeeded", "Failed"),
                      first=job["statuses"]["executionStatus"])
    assert seen == ["Queued", "Running", "Succeeded"]
    done = domino.ok("GET", f"/v4/jobs/{job['id']}")
    assert done["statuses"]["isCompleted"] is True and done["stageTime"]["completedTime"]
    assert done["startedBy"]["username"] == emu.owner and done["hardwareTierId"] == "medium-k8s"
    logs = domino.ok("GET", f"/api/jobs/beta/jobs/{job['id']}/logs")["logContent"]
    assert {"logType": "stdout", "log": "$ python train.py"} in logs


def test_a_job_whose_command_matches_the_failing_pattern_fails(domino, emu):
    job = domino.ok("POST", "/v4/jobs/start", {"projectId": emu.project_id, "commandToRun": "python fail.py"})

    assert wait_until(lambda: _status(domino, job["id"]), lambda s: s in ("Succeeded", "Failed"))[-1] == "Failed"
    assert domino.ok("GET", f"/v4/jobs/{job['id']}")["statuses"]["isCompleted"] is True


def test_a_stopped_job_says_so(domino, emu):
    job = domino.ok("POST", "/v4/jobs/start", {"projectId": emu.project_id, "commandToRun": "sleep 60"})
    domino.ok("POST", "/v4/jobs/stop", {"projectId": emu.project_id, "jobId": job["id"], "commitResults": True})

    assert _status(domino, job["id"]) == "Stopped"


def test_an_app_goes_pending_then_running_then_stops(domino, emu):
    app = domino.ok("POST", "/v4/modelProducts", {"modelProductType": "APP", "projectId": emu.project_id,
                                                  "name": "dashboard", "id": "000000000000000000000000"})
    assert app["id"] != "000000000000000000000000" and app["status"] == "Stopped"

    started = domino.ok("POST", f"/v4/modelProducts/{app['id']}/start", {"hardwareTierId": "small-k8s"})
    seen = wait_until(lambda: domino.ok("GET", f"/v4/modelProducts/{app['id']}")["status"], lambda s: s == "Running",
                      first=started["status"])
    assert seen == ["Pending", "Running"]
    assert [a["id"] for a in domino.ok("GET", f"/v4/modelProducts?projectId={emu.project_id}")] == [app["id"]]

    domino.ok("POST", f"/v4/modelProducts/{app['id']}/stop")
    assert domino.ok("GET", f"/v4/modelProducts/{app['id']}")["status"] == "Stopped"


def _export(domino: DominoSession, emu, model: str, version: str) -> list[str]:
    body = model_api_body(emu.project_id, "exported", model, version, environment_id=next(iter(emu.world.environments)))
    body["version"]["shouldDeploy"] = False  # an image can be exported without serving the version
    created = domino.ok("POST", MODEL_APIS, body)
    assert created["activeVersion"] is None
    version_id = domino.ok("GET", f"{MODEL_APIS}/{created['id']}/versions")["items"][0]["id"]
    started = domino.ok("POST", f"/v4/models/{created['id']}/{version_id}/exportImageToRegistry",
                        {"registryUrl": "registry.example.com", "username": "u", "password": "p",
                         "repository": "models/exported", "tag": "v1"})
    assert started["status"] == "pending"
    export_id = started["exportId"]
    return wait_until(lambda: domino.ok("GET", f"/v4/models/{export_id}/getExportImageStatus")["status"],
                      lambda s: s in ("complete", "failed"), first=started["status"])


def test_an_export_goes_to_complete(domino_emulator, diabetes_model):
    domino = DominoSession(domino_emulator.url, domino_emulator.api_key)

    assert _export(domino, domino_emulator, *diabetes_model) == ["pending", "building", "complete"]
    export = next(iter(domino_emulator.world.exports))
    status = domino.ok("GET", f"/v4/models/{export}/getExportImageStatus")
    assert status["imageReference"] == "registry.example.com/models/exported:v1"
    sent = [r for r in domino_emulator.requests if r.path.endswith("/exportImageToRegistry")]
    assert sent[0].body["password"] == "***"  # secrets never reach the request log


def test_an_export_of_a_version_that_cannot_build_fails(domino, emu):
    # This emulator has no MLflow behind it, so no version can build.
    assert _export(domino, emu, "m", "1")[-1] == "failed"
