"""Apps through /v4/modelProducts: list, create (looked up after ambiguity), start, stop, status."""

from __future__ import annotations

import json

import pytest
import requests

from domino_mlops.clients.domino_types import App
from domino_mlops.errors import ConfigError
from tests.clients.domino_fakes import HOST, calls_to, make_client

APPS = f"{HOST}/v4/modelProducts"


def test_list_find_and_get(rsps):
    client, _ = make_client()
    rsps.get(APPS, json=[{"id": "a1", "name": "dash", "status": "Stopped", "projectId": "p1"}])
    rsps.get(f"{APPS}/a1", json={"id": "a1", "name": "dash", "status": "Running", "projectId": "p1"})
    assert client.apps.list("p1") == (App("a1", "dash", "Stopped", "p1"),)
    assert rsps.calls[0].request.params == {"projectId": "p1"}
    assert client.apps.find("p1", "dash").id == "a1" and client.apps.find("p1", "other") is None
    assert client.apps.get("a1").is_running


def test_create_sends_an_app_model_product_and_returns_its_id(rsps):
    client, _ = make_client()
    rsps.post(APPS, json={"id": "a2"})
    assert client.apps.create("p1", "dash") == "a2"
    body = json.loads(rsps.calls[0].request.body)
    assert (body["modelProductType"], body["projectId"], body["name"]) == ("APP", "p1", "dash")


def test_create_that_timed_out_but_happened_is_not_duplicated(rsps):
    client, _ = make_client()
    rsps.post(APPS, body=requests.ReadTimeout("read timed out"))
    rsps.get(APPS, json=[{"id": "a3", "name": "dash", "status": "", "projectId": "p1"}])
    assert client.apps.create("p1", "dash") == "a3"
    assert len(calls_to(rsps, "POST", "/v4/modelProducts")) == 1


def test_start_omits_nulls_and_builds_the_git_ref(rsps):
    client, _ = make_client()
    rsps.post(f"{APPS}/a1/start", status=200)
    rsps.post(f"{APPS}/a1/stop", status=200)
    client.apps.start("a1", hardware_tier_id="small", branch="main")
    client.apps.stop("a1")
    assert json.loads(rsps.calls[0].request.body) == {"hardwareTierId": "small",
                                                      "mainRepoGitRef": {"type": "branches", "value": "main"}}
    assert rsps.calls[1].request.url == f"{APPS}/a1/stop"


def test_start_from_commit_and_branch_at_once_is_refused():
    client, _ = make_client()
    with pytest.raises(ConfigError, match="not both"):
        client.apps.start("a1", commit_id="abc", branch="main")
