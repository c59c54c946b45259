"""Jobs, apps and image exports progress over time, and fail when they should."""

from __future__ import annotations

from domino_emulator import Emulator
from domino_emulator.clock import ManualClock
from domino_emulator.seed import OTHER_API_KEY
from tests.support.emulator import MODEL_APIS, NO_ID, DominoSession, app_body, model_api_body, wait_until


JOB_ORDER = ["Queued", "Running", "Succeeded"]


def _status(domino: DominoSession, job_id: str) -> str:
    return domino.ok("GET", f"/api/jobs/beta/jobs/{job_id}")["job"]["status"]["executionStatus"]


def test_a_job_is_queued_runs_and_succeeds(domino, emu):
    started = domino.post("/api/jobs/v1/jobs", {"projectId": emu.project_id, "runCommand": "python train.py",
                                                "title": "train", "hardwareTier": "medium-k8s"})
    assert started.status_code == 200, started.text  # the public start answers 200, not 201
    job = started.json()["job"]
    assert job["status"]["executionStatus"] == "Queued" and job["runCommand"] == "python train.py"
    assert job["startedById"] == emu.world.project(emu.project_id).owner_id

    seen = wait_until(lambda: _status(domino, job["id"]), lambda s: s in ("Succeeded", "Failed"),
                      first=job["status"]["executionStatus"])
    # A poll may miss the short Running phase on a busy machine; the order never changes.
    assert seen[0] == "Queued" and seen[-1] == "Succeeded" and seen == sorted(seen, key=JOB_ORDER.index)
    done = domino.ok("GET", f"/v4/jobs/{job['id']}")
    assert done["statuses"]["isCompleted"] is True and done["stageTime"]["completedTime"]
    assert done["startedBy"]["username"] == emu.owner and emu.world.jobs[job["id"]].hardware_tier_id == "medium-k8s"
    public = domino.ok("GET", f"/api/jobs/beta/jobs/{job['id']}")["job"]
    assert set(public["stageTimes"]) == {"submissionTime", "startTime", "completedTime"}
    logs = domino.ok("GET", f"/api/jobs/beta/jobs/{job['id']}/logs")
    assert logs["logs"]["isComplete"] is True
    assert [(x["logType"], x["log"]) for x in logs["logs"]["logContent"] if x["logType"] == "stdOut"][0] == (
        "stdOut", "$ python train.py")
    stdout_only = domino.ok("GET", f"/api/jobs/beta/jobs/{job['id']}/logs?logType=stdOut")["logs"]["logContent"]
    assert {x["logType"] for x in stdout_only} == {"stdOut"} and len(stdout_only) == 2


def test_an_unknown_hardware_tier_or_command_less_start_is_400(domino, emu):
    unknown_tier = domino.post("/api/jobs/v1/jobs", {"projectId": emu.project_id, "runCommand": "x",
                                                     "hardwareTier": "no-such-tier"})
    no_command = domino.post("/api/jobs/v1/jobs", {"projectId": emu.project_id})

    # The public document declares this route's 400 as {"error": "..."}.
    assert unknown_tier.status_code == 400 and "no-such-tier" in unknown_tier.json()["error"]
    assert no_command.status_code == 400 and "$: 'runCommand' is a required property" in no_command.json()["error"]
    assert not emu.world.jobs


def test_a_job_whose_command_matches_the_failing_pattern_fails(domino, emu):
    job = domino.ok("POST", "/v4/jobs/start", {"projectId": emu.project_id, "commandToRun": "python fail.py"})

    assert wait_until(lambda: _status(domino, job["id"]), lambda s: s in ("Succeeded", "Failed"))[-1] == "Failed"
    assert domino.ok("GET", f"/v4/jobs/{job['id']}")["statuses"]["isCompleted"] is True


def test_a_stopped_job_says_so_and_a_restart_runs_it_again():
    clock = ManualClock()  # the job is stopped while it runs because the test holds time still
    with Emulator(deploy_seconds=0.2, clock=clock) as emu:
        domino = DominoSession(emu.url, emu.api_key)
        job = domino.ok("POST", "/v4/jobs/start", {"projectId": emu.project_id, "commandToRun": "sleep 60"})
        clock.advance(0.1)
        assert _status(domino, job["id"]) == "Running"
        stopped = domino.ok("POST", "/v4/jobs/stop", {"projectId": emu.project_id, "jobId": job["id"],
                                                      "commitResults": True})
        clock.advance(1.0)
        assert stopped["statuses"]["executionStatus"] == _status(domino, job["id"]) == "Stopped"
        _restart(domino, emu, job["id"])


def _restart(domino: DominoSession, emu: Emulator, job_id: str) -> None:
    again = domino.post("/v4/jobs/restart", {"jobId": job_id, "shouldUseOriginalInputCommit": True})
    assert again.status_code == 200, again.text  # a literal route, not GET /v4/jobs/{jobId} (was 405)
    assert (again.json()["number"], again.json()["jobRunCommand"]) == (2, "sleep 60")
    listed = domino.ok("GET", f"/v4/jobs?projectId={emu.project_id}&order_by=number&sort_by=asc&page_no=1")
    assert [j["id"] for j in listed["jobs"]] == [job_id, again.json()["id"]] and listed["totalCount"] == 2


def test_an_app_goes_pending_then_running_then_stops(domino, emu):
    app = domino.ok("POST", "/v4/modelProducts", app_body(emu.project_id, "dashboard"))
    assert app["id"] != NO_ID and app["status"] == "Stopped"

    instance = domino.ok("POST", f"/v4/modelProducts/{app['id']}/start", {"hardwareTierId": "small-k8s"})
    assert domino.ok("GET", f"/v4/modelProducts/{app['id']}")["latestAppInstanceId"] == instance
    seen = wait_until(lambda: domino.ok("GET", f"/v4/modelProducts/{app['id']}")["status"], lambda s: s == "Running")
    assert seen[-1] == "Running" and set(seen) <= {"Pending", "Running"}
    assert [a["id"] for a in domino.ok("GET", f"/v4/modelProducts?projectId={emu.project_id}")] == [app["id"]]

    assert domino.ok("POST", f"/v4/modelProducts/{app['id']}/stop") == instance
    assert domino.ok("GET", f"/v4/modelProducts/{app['id']}")["status"] == "Stopped"


def _export(domino: DominoSession, emu, model: str, version: str) -> list[str]:
    body = model_api_body(emu.project_id, "exported", model, version, environment_id=next(iter(emu.world.environments)))
    body["version"]["shouldDeploy"] = False  # an image can be exported without serving the version
    created = domino.ok("POST", MODEL_APIS, body)
    assert "activeVersion" not in created
    version_id = domino.ok("GET", f"{MODEL_APIS}/{created['id']}/versions")[0]["id"]
    response = domino.post(f"/v4/models/{created['id']}/{version_id}/exportImageToRegistry",
                           {"registryUrl": "registry.example.com", "username": "u", "password": "p",
                            "repository": "models/exported", "tag": "v1"})
    assert response.status_code == 202, response.text
    (started,) = response.json()  # an array of ModelExportVersionStatusApiResponse (v4 document)
    assert (started["status"], started["modelId"], started["modelVersionId"]) == ("pending", created["id"], version_id)
    export_id = started["exportId"]
    return wait_until(lambda: domino.ok("GET", f"/v4/models/{export_id}/getExportImageStatus")["status"],
                      lambda s: s in ("complete", "failed"), first=started["status"])


def test_an_export_goes_to_complete(domino_emulator, diabetes_model):
    domino = DominoSession(domino_emulator.url, domino_emulator.api_key)

    seen = _export(domino, domino_emulator, *diabetes_model)
    assert seen[0] == "pending" and seen[-1] == "complete" and set(seen) <= {"pending", "building", "complete"}
    export = next(iter(domino_emulator.world.exports.values()))
    logs = domino.ok("GET", f"/v4/models/{export.id}/getExportLogs")
    assert logs["status"] == "complete" and "Pushed registry.example.com/models/exported:v1" in logs["logs"]
    public = domino.ok("GET", f"{MODEL_APIS}/{export.model_api_id}/versions/{export.version_id}/exportLogs")
    assert public["status"] == "complete" and [x["log"] for x in public["logs"]] == logs["logs"].splitlines()
    sent = [r for r in domino_emulator.requests if r.path.endswith("/exportImageToRegistry")]
    assert sent[0].body["password"] == "***"  # secrets never reach the request log


def test_an_export_of_a_version_that_cannot_build_fails(domino, emu):
    # This emulator has no MLflow behind it, so no version can build.
    assert _export(domino, emu, "m", "1")[-1] == "failed"
    export = next(iter(emu.world.exports))
    assert "no MLflow tracking URI" in domino.ok("GET", f"/v4/models/{export}/getExportImageStatus")["errorMessage"]


def test_a_job_sees_the_variables_of_its_env_prefix(domino, emu):
    command = "env DOMINO_ENV=STAGE 'MESSAGE=two words' python validate.py --min-auc 0.8"
    job = domino.ok("POST", "/api/jobs/v1/jobs", {"projectId": emu.project_id, "runCommand": command})["job"]
    assert job["runCommand"] == command
    assert emu.world.jobs[job["id"]].variables == {"DOMINO_ENV": "STAGE", "MESSAGE": "two words"}
    wait_until(lambda: _status(domino, job["id"]), lambda s: s == "Succeeded")
    setup = domino.ok("GET", f"/api/jobs/beta/jobs/{job['id']}/logs?logType=prepareOutput")["logs"]["logContent"]
    assert "Environment variables: DOMINO_ENV=STAGE, MESSAGE=two words" in [x["log"] for x in setup]
    plain = domino.ok("POST", "/api/jobs/v1/jobs", {"projectId": emu.project_id, "runCommand": "python a.py"})
    assert emu.world.jobs[plain["job"]["id"]].variables == {}


def test_a_failed_job_leaves_its_last_lines_in_the_log(domino, emu):
    job = domino.ok("POST", "/api/jobs/v1/jobs", {"projectId": emu.project_id, "runCommand": "python fail.py"})["job"]
    assert wait_until(lambda: _status(domino, job["id"]), lambda s: s in ("Succeeded", "Failed"))[-1] == "Failed"
    content = domino.ok("GET", f"/api/jobs/beta/jobs/{job['id']}/logs?limit=3")["logs"]["logContent"]
    assert [(x["logType"], x["log"]) for x in content] == [
        ("stdErr", '  File "fail.py", line 1, in <module>'), ("stdErr", "RuntimeError: emulated failure"),
        ("stdOut", "(emulated) command matched the failing pattern 'fail': exit code 1")]


def test_the_public_job_list_pages_newest_first_and_filters():
    clock = ManualClock()
    with Emulator(deploy_seconds=1.0, clock=clock) as emu:
        domino = DominoSession(emu.url, emu.api_key)
        ids = [domino.ok("POST", "/api/jobs/v1/jobs", {"projectId": emu.project_id, "runCommand": f"python {n}.py",
                                                       "title": f"t{n}"})["job"]["id"] for n in range(5)]
        clock.advance(2.0)
        domino.ok("POST", "/api/jobs/v1/jobs", {"projectId": emu.project_id, "runCommand": "python late.py"})
        listing = f"/api/jobs/beta/jobs?projectId={emu.project_id}"
        first = domino.ok("GET", listing + "&limit=2")
        assert [j["number"] for j in first["jobs"]] == [6, 5]
        assert (first["metadata"]["offset"], first["metadata"]["limit"], first["metadata"]["totalCount"]) == (0, 2, 6)
        second = domino.ok("GET", listing + "&limit=2&offset=2")
        assert [j["id"] for j in second["jobs"]] == [ids[3], ids[2]] and second["jobs"][0]["title"] == "t3"
        oldest = domino.ok("GET", listing + "&ascending=true&limit=1")["jobs"][0]
        assert oldest["id"] == ids[0]
        assert [j["number"] for j in domino.ok("GET", listing + "&statusFilter=active")["jobs"]] == [6]
        assert len(domino.ok("GET", listing + "&statusFilter=completed")["jobs"]) == 5
        other = DominoSession(emu.url, OTHER_API_KEY)
        assert other.get(listing).status_code == 403
