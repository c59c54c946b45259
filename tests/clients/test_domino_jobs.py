"""Jobs: public start/list/get/logs ({"job": ...} envelopes, NewJobV1 requests), v4 stop; variables
through an env prefix, and the title marker that finds a job again."""

from __future__ import annotations

import json

import pytest
import requests

from domino_mlops.clients.domino.job_types import job_marker, marked_title, marker_key
from domino_mlops.clients.domino.jobs import Jobs, command_with_variables
from domino_mlops.errors import BadResponse, ConfigError, Unreachable
from tests.clients.domino_fakes import HOST, calls_to, make_client, nonconforming_requests
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


def test_variables_reach_the_job_through_an_env_prefix(rsps):
    client, _ = make_client()
    rsps.post(f"{HOST}/api/jobs/v1/jobs", json=p.public_job(1, status="Queued"))
    client.jobs.start(p.PROJECT, "python validate.py", variables={"DOMINO_ENV": "STAGE", "NOTE": "two words"})
    assert json.loads(rsps.calls[0].request.body)["runCommand"] == (
        "env DOMINO_ENV=STAGE 'NOTE=two words' python validate.py")
    assert command_with_variables("python x.py") == "python x.py"  # nothing to set: the command as it is
    assert command_with_variables("x", [("A", "it's")]) == "env 'A=it'\"'\"'s' x"
    with pytest.raises(ConfigError, match="'1X' is not an environment variable name"):
        command_with_variables("x", {"1X": "a"})


def test_a_marked_start_puts_the_marker_in_the_title_and_is_not_repeated(rsps):
    client, sleeps = make_client()
    rsps.post(f"{HOST}/api/jobs/v1/jobs", body=requests.ReadTimeout("read timed out"))
    rsps.get(f"{HOST}/api/jobs/beta/jobs", json=p.job_page(
        p.marked_job(9, "validate [domino-mlops job other]"), p.marked_job(8, "validate [domino-mlops job k1]"),
        total=2))
    job = client.jobs.start(p.PROJECT, "python validate.py", title="validate", marker="k1")
    assert json.loads(rsps.calls[0].request.body)["title"] == "validate [domino-mlops job k1]"
    assert job.id == p.oid(8) and job.marker == "k1"  # it had started: found, not started twice
    assert len(calls_to(rsps, "POST", "/api/jobs/v1/jobs")) == 1
    assert nonconforming_requests(rsps) == []


def test_find_marked_pages_newest_first_within_the_scan_limit(rsps):
    client, _ = make_client()
    client.jobs = Jobs(client._http, page_size=2, scan_limit=5)
    pages = [p.job_page(p.marked_job(i, f"t{i}"), p.marked_job(i - 1, f"t{i - 1}"), offset=10 - i, total=10)
             for i in (10, 8, 6)]
    for page in pages:
        rsps.get(f"{HOST}/api/jobs/beta/jobs", json=page)
    assert client.jobs.find_marked(p.PROJECT, "k1") is None  # five jobs looked at, then it stops
    sent = [c.request.params for c in rsps.calls]
    assert [(q["offset"], q["limit"], q["sortBy"], q["ascending"]) for q in sent] == [
        ("0", "2", "number", "false"), ("2", "2", "number", "false"), ("4", "2", "number", "false")]
    assert nonconforming_requests(rsps) == []


def test_a_short_list_ends_the_search(rsps):
    client, _ = make_client()
    rsps.get(f"{HOST}/api/jobs/beta/jobs", json=p.job_page(p.marked_job(1, "t [domino-mlops job k2]"), total=1))
    assert client.jobs.find_marked(p.PROJECT, "k2").id == p.oid(1)
    assert client.jobs.find_marked(p.PROJECT, "k3") is None and len(rsps.calls) == 2


def test_a_failed_jobs_last_lines(rsps):
    client, _ = make_client()
    rsps.get(f"{HOST}/api/jobs/beta/jobs/{J}/logs", json=p.public_job_logs(
        ("prepareOutput", "pulling image"), ("stdOut", "epoch 1\n"), ("stdErr", "Traceback:\n  line 3\n"),
        ("stdOut", "AUC 0.61 < 0.8")))
    logs = client.jobs.logs(J)
    assert logs.tail(3) == ("Traceback:", "  line 3", "AUC 0.61 < 0.8")
    assert logs.tail(10) == ("epoch 1", "Traceback:", "  line 3", "AUC 0.61 < 0.8") and logs.tail(0) == ()


def test_markers_are_well_formed():
    assert marker_key("nightly [domino-mlops job 3f2a.STAGE]") == "3f2a.STAGE" and marker_key("train") is None
    assert marked_title("", "k") == "[domino-mlops job k]" and marked_title("t", None) == "t"
    with pytest.raises(ValueError, match="job marker key"):
        job_marker("has space")
