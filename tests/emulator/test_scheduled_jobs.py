"""Scheduled jobs are kept as defined, checked as Domino would, replaced whole and deleted."""

from __future__ import annotations

import pytest

from domino_emulator import Emulator
from domino_emulator.seed import OTHER_API_KEY
from tests.support.emulator import NO_ID, DominoSession


def _body(me: str, **changes) -> dict:
    return {"title": "score [domino-mlops job k1]", "command": "env DOMINO_ENV=PROD python score.py",
            "schedule": {"cronString": "0 0 6 * * ?", "isCustom": True}, "timezoneId": "Europe/Paris",
            "isPaused": False, "allowConcurrentExecution": False, "hardwareTierIdentifier": "small-k8s",
            "environmentRevisionSpec": "ActiveRevision", "scheduledByUserId": me,
            "notifyOnCompleteEmailAddresses": [], **changes}


def test_a_schedule_is_created_listed_replaced_and_deleted(domino, emu):
    me = domino.ok("GET", "/api/users/v1/self")["user"]
    assert me["userName"] == emu.owner
    base = f"/v4/projects/{emu.project_id}/scheduledjobs"
    created = domino.ok("POST", base, _body(me["id"], mainRepoGitRef={"type": "branches", "value": "main"}))
    assert created["schedule"]["cronString"] == "0 0 6 * * ?" and created["scheduledByUserName"] == emu.owner
    assert created["hardwareTierName"] == "Small" and created["mainRepoGitRef"] == {"type": "branches", "value": "main"}
    assert [s["id"] for s in domino.ok("GET", base)] == [created["id"]]

    paused = domino.ok("PUT", f"{base}/{created['id']}", _body(me["id"], isPaused=True, command="python other.py"))
    assert (paused["isPaused"], paused["command"], paused["id"]) == (True, "python other.py", created["id"])
    assert "mainRepoGitRef" not in paused  # replaced whole: the update left it out

    assert domino.delete(f"{base}/{created['id']}").status_code == 200
    assert domino.ok("GET", base) == [] and domino.delete(f"{base}/{created['id']}").status_code == 404


@pytest.mark.parametrize(("change", "problem"), [
    ({"schedule": {"cronString": "0 6 * * *", "isCustom": True}}, "has 5 fields (Unix cron)"),
    ({"timezoneId": "Mars/Olympus"}, "'Mars/Olympus' is not an IANA time zone"),
    ({"hardwareTierIdentifier": "no-such-tier"}, "hardware tier 'no-such-tier' is not available"),
    ({"overrideEnvironmentId": NO_ID}, f"environment '{NO_ID}' does not exist"),
])
def test_what_domino_would_refuse_is_a_400(domino, emu, change, problem):
    me = domino.ok("GET", "/api/users/v1/self")["user"]["id"]
    refused = domino.post(f"/v4/projects/{emu.project_id}/scheduledjobs", _body(me, **change))
    assert refused.status_code == 400 and problem in refused.json()["message"]
    assert not emu.world.scheduled_jobs


def test_another_projects_schedules_are_out_of_reach(domino, emu):
    me = domino.ok("GET", "/api/users/v1/self")["user"]["id"]
    created = domino.ok("POST", f"/v4/projects/{emu.project_id}/scheduledjobs", _body(me))
    other = DominoSession(emu.url, OTHER_API_KEY)
    assert other.get(f"/v4/projects/{emu.project_id}/scheduledjobs").status_code == 403
    assert other.delete(f"/v4/projects/{emu.project_id}/scheduledjobs/{created['id']}").status_code == 403
    other_project = next(p for p in emu.world.projects if p != emu.project_id)
    assert domino.get(f"/v4/projects/{other_project}/scheduledjobs").status_code == 403


def test_schedules_and_app_instances_survive_a_restart(tmp_path):
    state = tmp_path / "state.json"
    with Emulator(deploy_seconds=0.2, state_file=state) as emu:
        domino = DominoSession(emu.url, emu.api_key)
        me = domino.ok("GET", "/api/users/v1/self")["user"]["id"]
        key = domino.ok("POST", f"/v4/projects/{emu.project_id}/scheduledjobs", _body(me))["id"]
        app = domino.ok("POST", "/v4/modelProducts", {
            "modelProductType": "APP", "projectId": emu.project_id, "name": "dash", "created": 1, "lastUpdated": 1,
            "status": "", "media": [], "tags": [], "stats": {"usageCount": 0}, "id": NO_ID, "entryPoint": "run.sh",
            "permissionsData": {"visibility": "PUBLIC", "accessRequestStatuses": {}, "pendingInvitations": [],
                                "discoverable": True, "appAccessStatus": "ALLOWED"}})["id"]
        domino.ok("POST", f"/v4/modelProducts/{app}/start", {})
        domino.ok("POST", f"/v4/modelProducts/{app}/start", {})
    with Emulator(deploy_seconds=0.2, state_file=state) as again:
        domino = DominoSession(again.url, again.api_key)
        assert [s["id"] for s in domino.ok("GET", f"/v4/projects/{again.project_id}/scheduledjobs")] == [key]
        assert len(domino.ok("GET", f"/v4/modelProducts/{app}/versions")) == 2
        assert domino.ok("GET", f"/v4/modelProducts/{app}")["entryPoint"] == "run.sh"
