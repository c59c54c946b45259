"""Apps through /v4/modelProducts (a Domino without the public Apps API: its list answers 404):
list, create (looked up after ambiguity), start, stop, status, visibility and instances; and a
running app's own page, asked with the credential on the Domino host only. The public API and the
v4 fallback against the emulator: tests/apply/test_apps_published.py."""

from __future__ import annotations

import json

import pytest
import requests

from domino_mlops.clients.domino.app_types import App
from domino_mlops.clients.http import RETRY_BUDGET
from domino_mlops.errors import BadResponse, ConfigError, RemoteError
from tests.clients.domino_fakes import API_KEY, HOST, calls_to, make_client, nonconforming_requests
from tests.support import domino_payloads as p

APPS = f"{HOST}/v4/modelProducts"
A1 = p.oid(1)


@pytest.fixture(autouse=True)
def v4_only(rsps):
    """A Domino that predates the public Apps API: the probe of its list is the gateway's 404."""
    rsps.get(f"{HOST}/api/apps/beta/apps", status=404, json={"message": "no such route"})


def test_list_find_and_get(rsps):
    client, _ = make_client()
    rsps.get(APPS, json=[p.app(1, "dash", "Stopped")])
    rsps.get(f"{APPS}/{A1}", json=p.app(1, "dash", "Running"))
    assert client.apps.list(p.PROJECT) == (App(A1, "dash", "Stopped", p.PROJECT, visibility="GRANT_BASED"),)
    assert rsps.calls[1].request.params == {"projectId": p.PROJECT}  # after the probe of the public list
    assert client.apps.find(p.PROJECT, "dash").id == A1 and client.apps.find(p.PROJECT, "other") is None
    assert client.apps.get(A1).is_running
    assert nonconforming_requests(rsps) == []


def test_create_sends_a_whole_published_model_product_and_returns_its_id(rsps):
    client, _ = make_client()
    rsps.post(APPS, json=p.app(2, "dash", ""))
    assert client.apps.create(p.PROJECT, "dash") == p.oid(2)
    body = json.loads(rsps.calls[0].request.body)
    assert (body["modelProductType"], body["projectId"], body["name"]) == ("APP", p.PROJECT, "dash")
    assert isinstance(body["created"], str)  # a date-time, as the v4 document has it
    assert nonconforming_requests(rsps) == []


def test_create_that_timed_out_but_happened_is_not_duplicated(rsps):
    client, _ = make_client()
    rsps.post(APPS, body=requests.ReadTimeout("read timed out"))
    rsps.get(APPS, json=[p.app(3, "dash", "")])
    assert client.apps.create(p.PROJECT, "dash") == p.oid(3)
    assert len(calls_to(rsps, "POST", "/v4/modelProducts")) == 1


def test_start_omits_nulls_and_builds_the_git_ref(rsps):
    client, _ = make_client()
    rsps.post(f"{APPS}/{A1}/start", json=A1)
    rsps.post(f"{APPS}/{A1}/stop", json=A1)
    client.apps.start(A1, hardware_tier_id="small-k8s", branch="main")
    client.apps.stop(A1)
    assert json.loads(rsps.calls[0].request.body) == {"hardwareTierId": "small-k8s",
                                                      "mainRepoGitRef": {"type": "branches", "value": "main"}}
    assert rsps.calls[1].request.url == f"{APPS}/{A1}/stop"
    assert nonconforming_requests(rsps) == []


def test_start_from_commit_and_branch_at_once_is_refused():
    client, _ = make_client()
    with pytest.raises(ConfigError, match="not both"):
        client.apps.start(A1, commit_id="abc", branch="main")


def test_create_carries_visibility_entry_point_and_description(rsps):
    client, _ = make_client()
    rsps.post(APPS, json=p.app(2, "dash", ""))
    client.apps.create(p.PROJECT, "dash", description="sales", visibility="PUBLIC", entry_point="apps/run.sh",
                       hardware_tier_id="small-k8s")
    body = json.loads(rsps.calls[0].request.body)
    assert body["permissionsData"]["visibility"] == "PUBLIC" and body["entryPoint"] == "apps/run.sh"
    assert (body["description"], body["hardwareTierId"]) == ("sales", "small-k8s") and "environmentId" not in body
    assert nonconforming_requests(rsps) == []
    with pytest.raises(ConfigError, match="'EVERYONE' is not an app visibility"):
        client.apps.create(p.PROJECT, "dash", visibility="EVERYONE")


def test_visibility_instances_and_the_started_instance(rsps):
    client, _ = make_client()
    rsps.post(f"{APPS}/{A1}/visibility", json=A1)
    rsps.post(f"{APPS}/{A1}/start", json=p.oid(7))
    rsps.get(f"{APPS}/{A1}/versions", json=[
        {"id": p.oid(6), "started": p.NOW_MS, "duration": 60, "publishingUserId": p.USER,
         "publishingUsername": "alice", "status": "Stopped", "goalIds": []},
        {"id": p.oid(7), "started": p.NOW_MS, "duration": 5, "publishingUserId": p.USER,
         "publishingUsername": "alice", "status": "Running", "goalIds": []}])
    client.apps.set_visibility(A1, "AUTHENTICATED")
    assert json.loads(rsps.calls[1].request.body) == {"visibility": "AUTHENTICATED"}  # after the probe
    assert client.apps.start(A1, commit_id="c" * 40) == p.oid(7)
    assert [(i.id, i.status, i.published_by) for i in client.apps.instances(A1)] == [
        (p.oid(6), "Stopped", "alice"), (p.oid(7), "Running", "alice")]
    assert nonconforming_requests(rsps) == []


def _running(url: str) -> App:
    return App(A1, "dash", "Running", p.PROJECT, running_url=url)


def test_a_page_is_asked_on_the_host_with_the_domino_credential(rsps):
    client, _ = make_client({"DOMINO_API_HOST": HOST, "DOMINO_USER_API_KEY": API_KEY})
    session = "/alice/proj/r/notebookSession/abc/"
    rsps.get(f"{HOST}{session}health", body="<html>ok</html>", content_type="text/html")
    page = client.apps.page(_running(session), "/health")
    assert (page.status, page.text, page.url) == (200, "<html>ok</html>", f"{session}health")
    assert rsps.calls[0].request.headers["X-Domino-Api-Key"] == API_KEY
    absolute = client.apps.page(_running(f"{HOST}{session}"), "health", authenticated=False)
    assert absolute.status == 200 and "X-Domino-Api-Key" not in rsps.calls[1].request.headers
    assert nonconforming_requests(rsps) == []


def test_a_page_elsewhere_is_asked_without_the_credential_and_a_stopped_app_not_at_all(rsps):
    client, _ = make_client()
    rsps.get("https://apps.example/alice/p/r/notebookSession/abc/", status=401, json={"message": "log in"})
    page = client.apps.page(_running("https://apps.example/alice/p/r/notebookSession/abc/"))
    assert (page.status, page.credential, page.verified) == (401, False, False)
    assert "X-Domino-Api-Key" not in rsps.calls[0].request.headers
    with pytest.raises(ConfigError, match="reports no running URL"):
        client.apps.page(App(A1, "dash", "Pending"))
    assert len(rsps.calls) == 1


def test_a_login_redirect_is_reported_not_followed(rsps):
    client, _ = make_client()
    rsps.get(f"{HOST}/a/p/r/notebookSession/x/", status=302, headers={"Location": f"{HOST}/login?next=/a"})
    page = client.apps.page(_running("/a/p/r/notebookSession/x/"))
    assert (page.status, page.redirect, page.verified) == (302, f"{HOST}/login?next=/a", False)
    assert len(rsps.calls) == 1  # the login page is not asked


def test_a_page_behind_the_api_proxy_still_goes_to_the_host(rsps):
    client, _ = make_client({"DOMINO_API_HOST": HOST, "DOMINO_API_PROXY": "http://localhost:8899"})
    rsps.get(f"{HOST}/a/p/r/notebookSession/x/", body="hi")
    assert client.apps.page(_running("/a/p/r/notebookSession/x/")).text == "hi"


def test_a_page_that_does_not_answer_says_why(rsps):
    client, sleeps = make_client()
    rsps.get(f"{HOST}/a/p/r/notebookSession/x/", status=503, json={"message": "app is not running"})
    with pytest.raises(RemoteError, match="app is not running"):
        client.apps.page(_running("/a/p/r/notebookSession/x/"))
    # A starting app gets the retries any GET gets: repeated while the call's budget lasts.
    assert len(sleeps) > 1 and sum(sleeps) <= RETRY_BUDGET
