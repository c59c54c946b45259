"""DominoClient's own calls: version, projects, hardware tiers, environments; garbage answers."""

from __future__ import annotations

import pytest

from domino_mlops.clients.domino import DominoClient
from domino_mlops.clients.domino_types import ComputeEnvironment, HardwareTier, Project
from domino_mlops.errors import BadResponse, NotFound
from tests.clients.domino_fakes import HOST, make_client

FIND = f"{HOST}/v4/gateway/projects/findProjectByOwnerAndName"


def test_constructing_a_client_calls_nothing(rsps):
    DominoClient.from_env({"DOMINO_API_HOST": HOST, "DOMINO_USER_API_KEY": "k"})
    assert len(rsps.calls) == 0


def test_version(rsps):
    client, _ = make_client()
    rsps.get(f"{HOST}/version", json={"version": "6.1.0", "buildId": "b1", "commitId": "c1"})
    version = client.version()
    assert (version.version, version.build_id, version.commit_id) == ("6.1.0", "b1", "c1")


def test_find_project_by_owner_and_name(rsps):
    client, _ = make_client()
    rsps.get(FIND, json={"id": "p1", "name": "churn", "ownerUsername": "alice", "visibility": "Private"})
    assert client.find_project("alice", "churn") == Project("p1", "churn", "alice")
    assert rsps.calls[0].request.params == {"ownerName": "alice", "projectName": "churn"}


@pytest.mark.parametrize("answer", [{"status": 200, "json": {}}, {"status": 404, "json": {"message": "no"}}])
def test_unknown_project_is_not_found_naming_it(rsps, answer):
    client, _ = make_client()
    rsps.get(FIND, **answer)
    with pytest.raises(NotFound, match="no project alice/ghost"):
        client.find_project("alice", "ghost")


def test_get_project_by_id(rsps):
    client, _ = make_client()
    rsps.get(f"{HOST}/v4/projects/p1", json={"id": "p1", "name": "churn", "ownerUsername": "alice"})
    assert client.get_project("p1").name == "churn"


def test_hardware_tiers_of_a_project_with_their_data_planes(rsps):
    client, _ = make_client()
    rsps.get(f"{HOST}/v4/projects/p1/hardwareTiers", json=[
        {"hardwareTier": {"id": "small", "name": "Small", "hwtFlags": {"isDefault": True},
                          "dataPlaneId": "local", "dataPlaneName": "Local"}},
        {"hardwareTier": {"id": "gpu-eu", "name": "GPU EU", "hwtFlags": {"isDefault": False},
                          "dataPlaneId": "dp-eu", "dataPlaneName": "eu-west"}},
    ])
    tiers = client.hardware_tiers("p1")
    assert [t.id for t in tiers] == ["small", "gpu-eu"]
    assert tiers[0].is_default and tiers[1].data_plane_name == "eu-west"


@pytest.mark.parametrize("wrapped", [True, False])
def test_all_hardware_tiers_public_route_wrapped_or_bare(rsps, wrapped):
    client, _ = make_client()
    tier = {"id": "small", "name": "Small", "isDefault": True, "dataPlaneId": "local", "dataPlaneName": "Local"}
    rsps.get(f"{HOST}/api/hardwaretiers/v1/hardwaretiers", json={"hardwareTiers": [tier]} if wrapped else [tier])
    assert client.all_hardware_tiers() == (HardwareTier("small", "Small", True, "local", "Local"),)


def test_environments(rsps):
    client, _ = make_client()
    env = {"id": "e1", "name": "Domino Standard", "visibility": "Global"}
    rsps.get(f"{HOST}/v1/environments", json={"data": [env]})
    assert client.environments() == (ComputeEnvironment("e1", "Domino Standard", "Global"),)


# --- garbage in, BadResponse out (never a KeyError or TypeError) ------------------------------------------


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ({"body": "<html><title>Sign in to Domino</title></html>", "content_type": "text/html"}, "not JSON"),
        ({"body": '{"version": "6.1', "content_type": "application/json"}, "not JSON"),
        ({"json": ["6.1.0"]}, "$ should be an object, got a list"),
        ({"json": {"buildId": "b"}}, "$.version is missing"),
        ({"json": {"version": 6.1}}, "$.version should be a string, got a number"),
    ],
)
def test_garbage_version_answers_are_bad_responses(rsps, answer, problem):
    client, _ = make_client()
    rsps.get(f"{HOST}/version", **answer)
    with pytest.raises(BadResponse) as caught:
        client.version()
    assert problem in str(caught.value) and "GET /version" in str(caught.value)


def test_list_where_object_expected_and_missing_id_on_model_api(rsps):
    client, _ = make_client()
    rsps.get(f"{HOST}/api/modelServing/v1/modelApis/m1", json=[{"id": "m1"}])
    rsps.get(f"{HOST}/api/modelServing/v1/modelApis/m2", json={"name": "churn"})
    with pytest.raises(BadResponse, match="should be an object, got a list"):
        client.model_apis.get("m1")
    with pytest.raises(BadResponse, match=r"\$.id is missing"):
        client.model_apis.get("m2")


def test_environments_answer_without_its_list_is_a_bad_response(rsps):
    client, _ = make_client()
    rsps.get(f"{HOST}/v1/environments", json={"data": {"id": "e1"}})
    with pytest.raises(BadResponse, match=r"\$.data should be a list"):
        client.environments()
