"""Scheduled jobs through the v4 routes: published bodies, the marker that finds one again, the caller."""

from __future__ import annotations

import json

import pytest
import requests

from domino_mlops.clients.domino.job_types import GitRef
from domino_mlops.clients.domino.scheduled_jobs import NewScheduledJob
from domino_mlops.errors import ConfigError
from tests.clients.domino_fakes import HOST, calls_to, make_client, nonconforming_requests
from tests.support import domino_payloads as p

BASE = f"{HOST}/v4/projects/{p.PROJECT}/scheduledjobs"
NIGHTLY = NewScheduledJob(title="score", command="python score.py", cron="0 0 6 * * ?", hardware_tier="small-k8s",
                          scheduled_by=p.USER, timezone="Europe/Paris", environment_id=p.ENV, branch="main",
                          variables={"DOMINO_ENV": "PROD"}, marker="k1")


def test_create_sends_the_published_body_with_marker_and_variables(rsps):
    client, _ = make_client()
    rsps.post(BASE, json=p.scheduled_job(1, "score [domino-mlops job k1]"))
    created = client.scheduled_jobs.create(p.PROJECT, NIGHTLY)
    body = json.loads(rsps.calls[0].request.body)
    assert body == {
        "title": "score [domino-mlops job k1]", "command": "env DOMINO_ENV=PROD python score.py",
        "schedule": {"cronString": "0 0 6 * * ?", "isCustom": True}, "timezoneId": "Europe/Paris",
        "isPaused": False, "allowConcurrentExecution": False, "hardwareTierIdentifier": "small-k8s",
        "environmentRevisionSpec": "ActiveRevision", "scheduledByUserId": p.USER,
        "notifyOnCompleteEmailAddresses": [], "overrideEnvironmentId": p.ENV,
        "mainRepoGitRef": {"type": "branches", "value": "main"}}
    assert (created.id, created.marker, created.cron, created.scheduled_by) == (p.oid(1), "k1", "0 0 6 * * ?", "alice")
    assert nonconforming_requests(rsps) == []


def test_a_create_that_timed_out_but_happened_is_found_by_its_marker(rsps):
    client, _ = make_client()
    rsps.post(BASE, body=requests.ReadTimeout("read timed out"))
    rsps.get(BASE, json=[p.scheduled_job(1, "other"), p.scheduled_job(2, "score [domino-mlops job k1]")])
    assert client.scheduled_jobs.create(p.PROJECT, NIGHTLY).id == p.oid(2)
    assert len(calls_to(rsps, "POST", f"/v4/projects/{p.PROJECT}/scheduledjobs")) == 1


def test_update_replaces_and_delete_removes(rsps):
    client, _ = make_client()
    rsps.put(f"{BASE}/{p.oid(1)}", json={**p.scheduled_job(1), "isPaused": True,
                                          "mainRepoGitRef": {"type": "commitId", "value": "c" * 40}})
    rsps.delete(f"{BASE}/{p.oid(1)}")
    paused = NewScheduledJob(title="score", command="python score.py", cron="0 0 6 * * ?", hardware_tier="small-k8s",
                             scheduled_by=p.USER, commit_id="c" * 40, paused=True)
    updated = client.scheduled_jobs.update(p.PROJECT, p.oid(1), paused)
    assert json.loads(rsps.calls[0].request.body)["mainRepoGitRef"] == {"type": "commitId", "value": "c" * 40}
    assert updated.is_paused and updated.git_ref == GitRef("commitId", "c" * 40)
    client.scheduled_jobs.delete(p.PROJECT, p.oid(1))
    assert rsps.calls[1].request.method == "DELETE"
    assert nonconforming_requests(rsps) == []
    with pytest.raises(ConfigError, match="not both"):
        NewScheduledJob("t", "c", "0 0 6 * * ?", "s", p.USER, branch="b", commit_id="c" * 40).to_api()


def test_the_caller_is_who_schedules(rsps):
    client, _ = make_client()
    rsps.get(f"{HOST}/api/users/v1/self", json={"user": {"id": p.USER, "userName": "alice", "firstName": "A",
                                                          "lastName": "B", "fullName": "A B", "avatarUrl": ""},
                                                 "metadata": {"requestId": "r", "notices": []}})
    me = client.current_user()
    assert (me.id, me.user_name) == (p.USER, "alice")
    assert nonconforming_requests(rsps) == []
