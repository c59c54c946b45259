"""Model APIs and versions: request shapes (held to Domino's published schemas), paging, and
creates that never duplicate."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from domino_mlops.clients.domino.serving import ModelApis, VersionOptions
from domino_mlops.clients.domino.serving_types import RegistrySource, VersionSettings, request_marker
from domino_mlops.errors import RemoteError
from tests.clients.domino_fakes import HOST, calls_to, make_client, make_http, nonconforming_requests
from tests.support import domino_payloads as p

BASE = "/api/modelServing/v1/modelApis"
SOURCE = RegistrySource("churn", 7)
M1 = p.oid(1)
PROJECT = p.PROJECT
ENV = p.ENV
RID = "0f8e1ab2-1111-4222-8333-944455556666"


def version(i: int, request_id: str | None, source: RegistrySource = SOURCE) -> dict:
    marker = request_marker(request_id) if request_id else ""
    return p.version(i, 1, name=source.registered_model_name, registered_version=source.registered_model_version,
                     number=i, status="Preparing to build", description=f"churn {marker}".strip())


def paged(items: list[dict]):
    """A responses callback that pages ``items`` by the request's offset and limit."""

    def answer(request):
        query = parse_qs(urlsplit(request.url).query)
        offset, limit = int(query["offset"][0]), int(query["limit"][0])
        return 200, {}, json.dumps(p.page(items[offset:offset + limit], offset, limit, len(items)))

    return answer


def test_list_follows_pages_until_total_count(rsps):
    model_apis = ModelApis(make_http()[0], page_size=2)
    rsps.add_callback("GET", f"{HOST}{BASE}", callback=paged([p.model_api(i, f"api-{i}") for i in range(5)]))
    apis = model_apis.list(PROJECT)
    assert [a.name for a in apis] == [f"api-{i}" for i in range(5)]
    queries = [parse_qs(urlsplit(c.request.url).query) for c in rsps.calls]
    assert [q["offset"] for q in queries] == [["0"], ["2"], ["4"]]
    assert all(q["projectId"] == [PROJECT] and q["limit"] == ["2"] for q in queries)
    assert nonconforming_requests(rsps) == []


def test_list_stops_on_an_empty_page_even_if_total_count_lies(rsps):
    client, _ = make_client()
    rsps.get(f"{HOST}{BASE}", json=p.page([], limit=100, total=9))
    assert client.model_apis.list(PROJECT) == ()
    assert len(rsps.calls) == 1


def test_find_matches_the_exact_name_and_skips_archived(rsps):
    client, _ = make_client()
    rsps.get(f"{HOST}{BASE}", json=p.page([p.model_api(1, "churn-v2"), p.model_api(2, "churn", isArchived=True),
                                           p.model_api(3, "churn")], limit=100, total=3))
    assert client.model_apis.find(PROJECT, "churn").id == p.oid(3)
    assert parse_qs(urlsplit(rsps.calls[0].request.url).query)["name"] == ["churn"]


def test_create_sends_the_published_body(rsps):
    client, _ = make_client()
    rsps.post(f"{HOST}{BASE}", status=201, json=p.model_api(1))
    settings = VersionSettings(log_http_request_response=True, monitoring_enabled=True, record_invocation=False)
    client.model_apis.create(project_id=PROJECT, name="churn", environment_id=ENV, source=SOURCE,
                             hardware_tier_id="small-k8s", replicas=2,
                             environment_variables={"MLFLOW_MODEL_NAME": "churn", "A": "1"}, request_id=RID,
                             version=VersionOptions(settings, description="churn v7"))
    assert json.loads(rsps.calls[0].request.body) == {
        "name": "churn", "description": "", "environmentId": ENV, "isAsync": False,
        "strictNodeAntiAffinity": False,
        "environmentVariables": [{"key": "A", "value": "1"}, {"key": "MLFLOW_MODEL_NAME", "value": "churn"}],
        "hardwareTierId": "small-k8s", "replicas": 2,
        "version": {"projectId": PROJECT, "source": {"type": "Registry", "registeredModelName": "churn",
                                                     "registeredModelVersion": 7},
                    "description": f"churn v7 {request_marker(RID)}", "logHttpRequestResponse": True,
                    "monitoringEnabled": True, "recordInvocation": False, "shouldDeploy": True},
    }
    assert nonconforming_requests(rsps) == []


def test_create_that_timed_out_but_happened_is_not_duplicated(rsps):
    client, _ = make_client()
    rsps.post(f"{HOST}{BASE}", body=requests.ReadTimeout("read timed out"))
    rsps.get(f"{HOST}{BASE}", json=p.page([p.model_api(1)], limit=100, total=1))
    api = client.model_apis.create(project_id=PROJECT, name="churn", environment_id=ENV, source=SOURCE)
    assert api.id == M1
    assert len(calls_to(rsps, "POST", BASE)) == 1


def test_create_that_failed_ambiguously_and_did_not_happen_is_posted_once_more(rsps):
    client, _ = make_client()
    rsps.post(f"{HOST}{BASE}", status=503)
    rsps.post(f"{HOST}{BASE}", status=201, json=p.model_api(2))
    rsps.get(f"{HOST}{BASE}", json=p.page([], limit=100, total=0))
    api = client.model_apis.create(project_id=PROJECT, name="churn", environment_id=ENV, source=SOURCE)
    assert api.id == p.oid(2)
    assert [c.request.method for c in rsps.calls] == ["POST", "GET", "POST"]
    bodies = [json.loads(c.request.body) for c in calls_to(rsps, "POST", BASE)]
    assert bodies[0] == bodies[1]  # the same request id both times


def test_version_create_finds_its_own_version_by_source_and_request_marker(rsps):
    client, _ = make_client()
    path = f"{BASE}/{M1}/versions"
    rsps.post(f"{HOST}{path}", body=requests.ConnectionError("connection reset"))
    other = "9a9a9a9a-1111-4222-8333-944455556666"
    rsps.get(f"{HOST}{path}", json=[version(1, other), version(2, RID), version(3, RID, RegistrySource("churn", 6)),
                                    version(4, None)])
    created = client.model_apis.create_version(M1, project_id=PROJECT, source=SOURCE, request_id=RID)
    assert created.id == p.oid(2)
    assert len(calls_to(rsps, "POST", path)) == 1
    assert nonconforming_requests(rsps) == []


def test_version_create_body_is_the_published_request_with_the_marker_in_the_description(rsps):
    model_apis = ModelApis(make_http()[0], new_request_id=lambda: RID)
    rsps.post(f"{HOST}{BASE}/{M1}/versions", status=201, json=version(4, RID))
    model_apis.create_version(M1, project_id=PROJECT, source=SOURCE,
                              options=VersionOptions(description="from CI", should_deploy=False))
    body = json.loads(rsps.calls[0].request.body)
    assert "labels" not in body  # the create request has no labels
    assert body["description"] == f"from CI {request_marker(RID)}" and body["shouldDeploy"] is False
    assert {"projectId", "source", "logHttpRequestResponse", "monitoringEnabled"} <= set(body)
    assert "version" not in body and body["source"]["type"] == "Registry"
    assert nonconforming_requests(rsps) == []


def test_version_create_not_found_after_failures_raises_the_error(rsps):
    client, _ = make_client()
    path = f"{BASE}/{M1}/versions"
    rsps.post(f"{HOST}{path}", status=502)
    rsps.get(f"{HOST}{path}", json=[])
    with pytest.raises(RemoteError):
        client.model_apis.create_version(M1, project_id=PROJECT, source=SOURCE)
    # Posted again after each lookup until the retry budget was spent; never without a lookup.
    assert [c.request.method for c in rsps.calls] == ["POST", "GET"] * len(calls_to(rsps, "POST", path))
    assert len(calls_to(rsps, "POST", path)) > 2


def test_get_version_and_list_versions_as_a_bare_list(rsps):
    client, _ = make_client()
    rsps.get(f"{HOST}{BASE}/{M1}/versions/{p.oid(1)}", json=version(1, RID))
    rsps.get(f"{HOST}{BASE}/{M1}/versions", json=[version(1, RID), version(2, None)])
    assert client.model_apis.get_version(M1, p.oid(1)).status == "Preparing to build"
    assert [v.number for v in client.model_apis.list_versions(M1)] == [1, 2]
    assert urlsplit(calls_to(rsps, "GET", f"{BASE}/{M1}/versions")[0].request.url).query == ""  # not paged
    assert nonconforming_requests(rsps) == []


def test_logs_of_a_version(rsps):
    client, _ = make_client()
    rsps.get(f"{HOST}{BASE}/{M1}/versions/{p.oid(2)}/buildLogs", json=p.log_lines("building", "ERROR no model"))
    assert client.model_apis.logs(M1, p.oid(2)).tail(1) == ("ERROR no model",)


def test_update_puts_the_required_settings_and_is_retried_as_idempotent(rsps):
    client, sleeps = make_client()
    rsps.put(f"{HOST}{BASE}/{M1}", status=503)
    rsps.put(f"{HOST}{BASE}/{M1}", json=p.model_api(1, replicas=3))
    api = client.model_apis.update(M1, name="churn", description="d", environment_id=ENV, replicas=3)
    assert api.replicas == 3 and len(sleeps) == 1
    assert json.loads(rsps.calls[1].request.body) == {"name": "churn", "description": "d", "environmentId": ENV,
                                                      "replicas": 3}
    assert nonconforming_requests(rsps) == []


def test_delete(rsps):
    client, _ = make_client()
    rsps.delete(f"{HOST}{BASE}/{M1}", status=204)
    assert client.model_apis.delete(M1) is None


def test_there_is_no_token_route_to_call():
    """No published route returns a model access token's value: the client has none."""
    client, _ = make_client()
    assert not any("token" in name.lower() for name in dir(client.model_apis))
