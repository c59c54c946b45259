"""Jobs: public start/get/logs ({"job": ...} envelopes), v4 stop."""

from __future__ import annotations

import json

import pytest
import requests

from domino_mlops.errors import BadResponse, Unreachable
from tests.clients.domino_fakes import HOST, make_client

JOB = {"id": "j1", "number": 4, "projectId": "p1", "title": "smoke", "jobRunCommand": "python smoke.py",
       "statuses": {"isCompleted": False, "isArchived": False, "isScheduled": False, "executionStatus": "Queued"}}


def test_start_sends_only_the_keys_given(rsps):
    client, _ = make_client()
    rsps.post(f"{HOST}/api/jobs/v1/jobs", json={"job": JOB})
    job = client.jobs.start("p1", "python smoke.py", title="smoke", hardware_tier_id="small")
    assert json.loads(rsps.calls[0].request.body) == {"projectId": "p1", "runCommand": "python smoke.py",
                                                      "title": "smoke", "hardwareTierId": "small"}
    assert job.id == "j1" and job.status == "Queued" and not job.is_completed


def test_start_is_never_retried(rsps):
    client, sleeps = make_client()
    rsps.post(f"{HOST}/api/jobs/v1/jobs", body=requests.ReadTimeout("read timed out"))
    with pytest.raises(Unreachable, match="read timeout"):
        client.jobs.start("p1", "python smoke.py")
    assert len(rsps.calls) == 1 and sleeps == []


def test_get_and_logs(rsps):
    client, _ = make_client()
    done = {**JOB, "statuses": {**JOB["statuses"], "isCompleted": True, "executionStatus": "Failed"}}
    rsps.get(f"{HOST}/api/jobs/beta/jobs/j1", json={"job": done})
    rsps.get(f"{HOST}/api/jobs/beta/jobs/j1/logs", json={"logContent": [{"logType": "stdout", "log": "boom\n"}]})
    job = client.jobs.get("j1")
    assert job.failed and not job.succeeded
    assert client.jobs.logs("j1").text() == "boom\n"


def test_a_bare_job_where_the_envelope_belongs_is_a_bad_response(rsps):
    client, _ = make_client()
    rsps.get(f"{HOST}/api/jobs/beta/jobs/j1", json=JOB)
    with pytest.raises(BadResponse, match=r"\$.job is missing"):
        client.jobs.get("j1")


def test_stop_uses_the_v4_route(rsps):
    client, _ = make_client()
    rsps.post(f"{HOST}/v4/jobs/stop", status=200)
    client.jobs.stop("p1", "j1", commit_results=False)
    assert json.loads(rsps.calls[0].request.body) == {"projectId": "p1", "jobId": "j1", "commitResults": False}
