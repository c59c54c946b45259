"""Jobs: public start/get/logs ({"job": ...} envelopes, NewJobV1 requests), v4 stop."""

from __future__ import annotations

import json

import pytest
import requests

from domino_mlops.errors import BadResponse, ConfigError, Unreachable
from tests.clients.domino_fakes import HOST, make_client, nonconforming_requests
from tests.support import domino_payloads as p

J = p.oid(1)


def test_start_sends_only_the_keys_given_with_the_published_names(rsps):
    client, _ = make_client()
    rsps.post(f"{HOST}/api/jobs/v1/jobs", json=p.public_job(1, status="Queued"))  # start answers 200
    job = client.jobs.start(p.PROJECT, "python smoke.py", title="smoke", hardware_tier="small-k8s")
    assert json.loads(rsps.calls[0].request.body) == {"projectId": p.PROJECT, "runCommand": "python smoke.py",
                                                      "title": "smoke", "hardwareTier": "small-k8s"}
    assert job.id == J and job.status == "Queued" and not job.is_completed
    assert nonconforming_requests(rsps) == []


def test_start_from_a_branch_sends_the_git_ref(rsps):
    client, _ = make_client()
    rsps.post(f"{HOST}/api/jobs/v1/jobs", json=p.public_job(1, status="Queued"))
    client.jobs.start(p.PROJECT, "python train.py", branch="main", environment_id=p.ENV)
    body = json.loads(rsps.calls[0].request.body)
    assert body["mainRepoGitRef"] == {"refType": "branches", "value": "main"} and body["environmentId"] == p.ENV
    assert nonconforming_requests(rsps) == []
    with pytest.raises(ConfigError, match="not both"):
        client.jobs.start(p.PROJECT, "x", commit_id="c" * 40, branch="main")


def test_start_is_never_retried(rsps):
    client, sleeps = make_client()
    rsps.post(f"{HOST}/api/jobs/v1/jobs", body=requests.ReadTimeout("read timed out"))
    with pytest.raises(Unreachable, match="read timeout"):
        client.jobs.start(p.PROJECT, "python smoke.py")
    assert len(rsps.calls) == 1 and sleeps == []


def test_get_and_logs(rsps):
    client, _ = make_client()
    rsps.get(f"{HOST}/api/jobs/beta/jobs/{J}", json=p.public_job(1, status="Failed"))
    rsps.get(f"{HOST}/api/jobs/beta/jobs/{J}/logs",
             json=p.public_job_logs(("prepareOutput", "pulling image"), ("stdOut", "boom\n")))
    job = client.jobs.get(J)
    assert job.failed and not job.succeeded
    assert client.jobs.logs(J).text() == "boom\n"
    assert nonconforming_requests(rsps) == []


def test_a_bare_job_where_the_envelope_belongs_is_a_bad_response(rsps):
    client, _ = make_client()
    rsps.get(f"{HOST}/api/jobs/beta/jobs/{J}", json=p.public_job(1)["job"])
    with pytest.raises(BadResponse, match=r"\$.job is missing"):
        client.jobs.get(J)


def test_stop_uses_the_v4_route_with_its_published_body(rsps):
    client, _ = make_client()
    rsps.post(f"{HOST}/v4/jobs/stop", json=p.v4_job(1, status="Stopped"))
    stopped = client.jobs.stop(J, commit_results=False)
    assert json.loads(rsps.calls[0].request.body) == {"jobId": J, "commitResults": False}
    assert stopped.status == "Stopped"
    assert nonconforming_requests(rsps) == []
