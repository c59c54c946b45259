"""Apps through /v4/modelProducts: list, create (looked up after ambiguity), start, stop, status."""

from __future__ import annotations

import json

import pytest
import requests

from domino_mlops.clients.domino_types import App
from domino_mlops.errors import ConfigError
from tests.clients.domino_fakes import HOST, calls_to, make_client, nonconforming_requests
from tests.support import domino_payloads as p

APPS = f"{HOST}/v4/modelProducts"
A1 = p.oid(1)


def test_list_find_and_get(rsps):
    client, _ = make_client()
    rsps.get(APPS, json=[p.app(1, "dash", "Stopped")])
    rsps.get(f"{APPS}/{A1}", json=p.app(1, "dash", "Running"))
    assert client.apps.list(p.PROJECT) == (App(A1, "dash", "Stopped", p.PROJECT),)
    assert rsps.calls[0].request.params == {"projectId": p.PROJECT}
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
