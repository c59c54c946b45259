"""DominoClient's own calls: projects, hardware tiers, compute environments; garbage answers."""

from __future__ import annotations

import pytest

from domino_mlops.clients.domino.client import DominoClient
from domino_mlops.clients.domino.types import HardwareTier, Project
from domino_mlops.errors import BadResponse, CredentialsExpired, NotFound, RemoteError
from tests.clients.domino_fakes import HOST, make_client, nonconforming_requests
from tests.support import domino_payloads as p

FIND = f"{HOST}/v4/gateway/projects/findProjectByOwnerAndName"


def test_constructing_a_client_calls_nothing(rsps):
    DominoClient.from_env({"DOMINO_API_HOST": HOST, "DOMINO_USER_API_KEY": "k"})
    assert len(rsps.calls) == 0


def test_find_project_by_owner_and_name(rsps):
    client, _ = make_client()
    rsps.get(FIND, json=p.gateway_project("churn", "alice"))
    assert client.find_project("alice", "churn") == Project(p.PROJECT, "churn", "alice")
    assert rsps.calls[0].request.params == {"ownerName": "alice", "projectName": "churn"}
    assert nonconforming_requests(rsps) == []


@pytest.mark.parametrize("answer", [{"status": 200, "json": {}}, {"status": 404, "json": {"message": "no"}},
                                    {"status": 403, "json": {"message": "no"}}])  # the v4 document's answer
def test_unknown_project_is_not_found_naming_it(rsps, answer):
    client, _ = make_client()
    rsps.get(FIND, **answer)
    with pytest.raises(NotFound, match="no project alice/ghost"):
        client.find_project("alice", "ghost")


def test_get_project_by_id(rsps):
    client, _ = make_client()
    rsps.get(f"{HOST}/v4/projects/{p.PROJECT}", json=p.project("churn", "alice"))
    assert client.get_project(p.PROJECT) == Project(p.PROJECT, "churn", "alice")


def test_hardware_tiers_of_a_project_with_their_data_planes(rsps):
    client, _ = make_client()
    rsps.get(f"{HOST}/v4/projects/{p.PROJECT}/hardwareTiers", json=[
        p.v4_tier("small-k8s", "000000000000000000000000", "local", default=True),
        p.v4_tier("gpu-eu", p.oid(0xd1), "eu-west"),
    ])
    tiers = client.hardware_tiers(p.PROJECT)
    assert [t.id for t in tiers] == ["small-k8s", "gpu-eu"]
    assert tiers[0].is_default and tiers[1].data_plane_name == "eu-west" and tiers[1].data_plane_id == p.oid(0xd1)
    assert nonconforming_requests(rsps) == []


def test_all_hardware_tiers_follow_the_public_routes_pages(rsps):
    client, _ = make_client()
    first = [p.public_tier(f"t{i}", default=i == 0) for i in range(100)]
    rsps.get(f"{HOST}/api/hardwaretiers/v1/hardwaretiers", json=p.public_tiers(*first))
    rsps.get(f"{HOST}/api/hardwaretiers/v1/hardwaretiers", json=p.public_tiers(p.public_tier("last", data_plane="dp")))
    tiers = client.all_hardware_tiers()
    assert len(tiers) == 101 and tiers[0].is_default and tiers[-1] == HardwareTier("last", "Last", False, "dp", None, 1.0)
    assert [c.request.params for c in rsps.calls] == [{"offset": "0", "limit": "100"}, {"offset": "100", "limit": "100"}]
    assert nonconforming_requests(rsps) == []


def test_project_environments(rsps):
    client, _ = make_client()
    rsps.get(f"{HOST}/v4/projects/{p.PROJECT}/useableEnvironments",
             json=p.environments((p.ENV, "Domino Standard", "Global"), selected=p.ENV))
    found = client.project_environments(p.PROJECT)
    assert found.default().id == p.ENV and found.selected_id == p.ENV
    assert nonconforming_requests(rsps) == []


# --- garbage in, BadResponse out (never a KeyError or TypeError) ------------------------------------------


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ({"body": "<html><title>Sign in to Domino</title></html>", "content_type": "text/html"}, "not JSON"),
        ({"body": '{"environments": [', "content_type": "application/json"}, "not JSON"),
        ({"json": [{"id": "e1"}]}, "$ should be an object, got a list"),
        ({"json": {"currentlySelectedEnvironment": None}}, "$.environments is missing"),
        ({"json": {"environments": {"id": "e1"}}}, "$.environments should be a list"),
    ],
)
def test_garbage_environment_answers_are_bad_responses(rsps, answer, problem):
    client, _ = make_client()
    rsps.get(f"{HOST}/v4/projects/{p.PROJECT}/useableEnvironments", **answer)
    with pytest.raises(BadResponse) as caught:
        client.project_environments(p.PROJECT)
    assert problem in str(caught.value) and "useableEnvironments" in str(caught.value)


def test_list_where_object_expected_and_missing_id_on_model_api(rsps):
    client, _ = make_client()
    rsps.get(f"{HOST}/api/modelServing/v1/modelApis/m1", json=[{"id": "m1"}])
    rsps.get(f"{HOST}/api/modelServing/v1/modelApis/m2", json={"name": "churn"})
    with pytest.raises(BadResponse, match="should be an object, got a list"):
        client.model_apis.get("m1")
    with pytest.raises(BadResponse, match=r"\$.id is missing"):
        client.model_apis.get("m2")


@pytest.mark.parametrize(("method", "path", "error"), [
    ("POST", "/v4/jobs/start", CredentialsExpired),  # the v4 document's Relogin answer
    ("POST", "/v4/jobs/restart", CredentialsExpired),
    ("POST", "/v4/jobs/stop", RemoteError),  # no Relogin answer: a conflict like any other
    ("GET", "/api/modelServing/v1/modelApis", RemoteError),  # the public document declares no 409
])
def test_a_409_means_expired_credentials_only_where_the_document_says_so(rsps, method, path, error):
    client, _ = make_client()
    rsps.add(method, f"{HOST}{path}", status=409, json={"message": "conflict"})
    with pytest.raises(error) as caught:
        client._http.call(method, path)
    assert type(caught.value) is error
