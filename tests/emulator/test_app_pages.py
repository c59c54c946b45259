"""An app's life on the emulator's clock: Pending -> Running (or Failed), its page at the URL the
ModelProduct reports (200 while Running, 503 otherwise), access by visibility, and every instance kept."""

from __future__ import annotations

import pytest

from domino_emulator import Emulator
from domino_emulator.clock import ManualClock
from domino_emulator.seed import OTHER_API_KEY
from tests.support.emulator import DominoSession, app_body

APPS = "/v4/modelProducts"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emu(clock):
    with Emulator(deploy_seconds=2.0, clock=clock) as running:
        yield running


def _app(domino: DominoSession, emu: Emulator, name: str = "dashboard") -> str:
    return domino.ok("POST", APPS, app_body(emu.project_id, name))["id"]


def _get(domino: DominoSession, app_id: str) -> dict:
    return domino.ok("GET", f"{APPS}/{app_id}")


def test_an_app_is_pending_then_running_and_its_page_answers_only_then(domino, emu, clock):
    app_id = _app(domino, emu)
    commit = emu.world.project(emu.project_id).commits[0]
    instance = domino.ok("POST", f"{APPS}/{app_id}/start", {"hardwareTierId": "medium-k8s", "commitId": commit})
    pending = _get(domino, app_id)
    assert pending["status"] == "Pending" and "runningAppUrl" not in pending
    session = f"/{emu.owner}/{emu.project_name}/r/notebookSession/{instance}/"
    assert domino.get(session).status_code == 503  # started, not serving yet

    clock.advance(2.0)
    running = _get(domino, app_id)
    assert (running["status"], running["runningAppUrl"], running["runningCommitId"]) == ("Running", session, commit)
    assert running["openUrl"] == f"/modelproducts/{app_id}" and running["hardwareTierId"] == "medium-k8s"
    page = domino.get(session + "health/deep?x=1")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "dashboard" in page.text and "/health/deep" in page.text

    assert domino.ok("POST", f"{APPS}/{app_id}/stop") == instance
    assert _get(domino, app_id)["status"] == "Stopped" and domino.get(session).status_code == 503


def test_who_may_open_the_page_follows_the_visibility(domino, emu, clock):
    app_id = _app(domino, emu)
    instance = domino.ok("POST", f"{APPS}/{app_id}/start", {})
    clock.advance(2.0)
    page = f"/{emu.owner}/{emu.project_name}/r/notebookSession/{instance}/"
    anyone, other_user = DominoSession(emu.url), DominoSession(emu.url, OTHER_API_KEY)
    assert (anyone.get(page).status_code, other_user.get(page).status_code) == (401, 403)  # GRANT_BASED

    assert domino.ok("POST", f"{APPS}/{app_id}/visibility", {"visibility": "AUTHENTICATED"}) == app_id
    assert (anyone.get(page).status_code, other_user.get(page).status_code) == (401, 200)
    domino.ok("POST", f"{APPS}/{app_id}/visibility", {"visibility": "PUBLIC"})
    assert anyone.get(page).status_code == 200
    assert _get(domino, app_id)["permissionsData"]["visibility"] == "PUBLIC"
    refused = domino.post(f"{APPS}/{app_id}/visibility", {"visibility": "EVERYONE"})
    assert refused.status_code == 400 and "EVERYONE" in refused.json()["message"]


def test_an_app_matching_the_failing_pattern_goes_failed_and_serves_nothing(domino, emu, clock):
    app_id = _app(domino, emu, "broken-dashboard")  # the default seed's failing_app_pattern: "broken"
    instance = domino.ok("POST", f"{APPS}/{app_id}/start", {})
    assert _get(domino, app_id)["status"] == "Pending"
    clock.advance(2.0)
    failed = _get(domino, app_id)
    assert failed["status"] == "Failed" and "runningAppUrl" not in failed
    assert domino.get(f"/{emu.owner}/{emu.project_name}/r/notebookSession/{instance}/").status_code == 503


def test_a_broken_start_then_the_previous_commit_put_back(domino, emu, clock):
    """What a pipeline's put-back meets: the new start fails (fault plan), the old commit runs again."""
    app_id = _app(domino, emu)
    project = emu.world.project(emu.project_id)
    project.commits.insert(0, "b" * 40)  # a newer commit, where the app is broken
    old, new = project.commits[1], project.commits[0]
    first = domino.ok("POST", f"{APPS}/{app_id}/start", {"commitId": old})
    clock.advance(2.0)

    emu.set_faults(failing_apps=["dashboard"])
    second = domino.ok("POST", f"{APPS}/{app_id}/start", {"commitId": new})
    clock.advance(2.0)
    assert _get(domino, app_id)["status"] == "Failed"
    emu.set_faults(None)
    third = domino.ok("POST", f"{APPS}/{app_id}/start", {"mainRepoGitRef": {"type": "commitId", "value": old}})
    clock.advance(2.0)

    back = _get(domino, app_id)
    assert (back["status"], back["runningCommitId"], back["latestAppInstanceId"]) == ("Running", old, third)
    instances = domino.ok("GET", f"{APPS}/{app_id}/versions")
    assert [(i["id"], i["status"]) for i in instances] == [(first, "Stopped"), (second, "Failed"), (third, "Running")]
    assert instances[0]["publishingUsername"] == emu.owner and instances[0]["duration"] == 2
    session = f"/{emu.owner}/{emu.project_name}/r/notebookSession"
    assert domino.get(f"{session}/{first}/").status_code == 503  # replaced by a newer start
    assert domino.get(f"{session}/{third}/").status_code == 200


def test_unknown_sessions_and_commits_are_refused(domino, emu):
    app_id = _app(domino, emu)
    unknown_commit = domino.post(f"{APPS}/{app_id}/start", {"commitId": "c" * 40})
    assert unknown_commit.status_code == 400 and "is not in project" in unknown_commit.json()["message"]
    assert domino.get(f"/{emu.owner}/{emu.project_name}/r/notebookSession/{'0' * 24}/").status_code == 404
    assert domino.get(f"/nobody/nothing/r/notebookSession/{'0' * 24}/").status_code == 404


def test_a_seeded_running_app_serves_its_page(clock):
    seed = {"apps": [{"project": "demo-user/demo-project", "name": "portal", "status": "Running",
                      "visibility": "PUBLIC"}]}
    with Emulator(deploy_seconds=2.0, clock=clock, world=seed) as emu:
        domino = DominoSession(emu.url, emu.api_key)
        (app,) = domino.ok("GET", f"{APPS}?projectId={emu.project_id}")
        assert app["status"] == "Running" and app["permissionsData"]["visibility"] == "PUBLIC"
        assert DominoSession(emu.url).get(app["runningAppUrl"]).status_code == 200
