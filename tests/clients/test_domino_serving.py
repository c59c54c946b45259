"""Model APIs and versions: request shapes, paging, and creates that never duplicate."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from domino_mlops.clients.domino_serving import ModelApis, VersionOptions
from domino_mlops.clients.domino_serving_types import REQUEST_ID_LABEL, RegistrySource
from domino_mlops.errors import RemoteError
from tests.clients.domino_fakes import HOST, calls_to, make_client, make_http

BASE = "/api/modelServing/v1/modelApis"
SOURCE = RegistrySource("churn", 7)


def model_api(i: int | str, name: str = "churn", **extra) -> dict:
    return {"id": f"m{i}", "name": name, "environmentId": "e1", "replicas": 1, **extra}


def version(i: int, request_id: str, source: RegistrySource = SOURCE) -> dict:
    return {"id": f"v{i}", "number": i, "modelApiId": "m1", "projectId": "p1", "source": source.to_api(),
            "labels": {REQUEST_ID_LABEL: request_id}, "deployment": {"status": "Preparing to build", "isPending": True}}


def paged(items: list[dict]):
    """A responses callback that pages ``items`` by the request's offset and limit."""

    def answer(request):
        query = parse_qs(urlsplit(request.url).query)
        offset, limit = int(query["offset"][0]), int(query["limit"][0])
        body = {"items": items[offset:offset + limit],
                "metadata": {"offset": offset, "limit": limit, "totalCount": len(items)}}
        return 200, {}, json.dumps(body)

    return answer


def test_list_follows_pages_until_total_count(rsps):
    model_apis = ModelApis(make_http()[0], page_size=2)
    rsps.add_callback("GET", f"{HOST}{BASE}", callback=paged([model_api(i, f"api-{i}") for i in range(5)]))
    apis = model_apis.list("p1")
    assert [a.id for a in apis] == ["m0", "m1", "m2", "m3", "m4"]
    queries = [parse_qs(urlsplit(c.request.url).query) for c in rsps.calls]
    assert [q["offset"] for q in queries] == [["0"], ["2"], ["4"]]
    assert all(q["projectId"] == ["p1"] and q["limit"] == ["2"] for q in queries)


def test_list_stops_on_an_empty_page_even_if_total_count_lies(rsps):
    client, _ = make_client()
    rsps.get(f"{HOST}{BASE}", json={"items": [], "metadata": {"offset": 0, "limit": 100, "totalCount": 9}})
    assert client.model_apis.list("p1") == ()
    assert len(rsps.calls) == 1


def test_find_matches_the_exact_name_and_skips_archived(rsps):
    client, _ = make_client()
    rsps.get(f"{HOST}{BASE}", json={"items": [model_api(1, "churn-v2"), model_api(2, "churn", isArchived=True),
                                              model_api(3, "churn")],
                                    "metadata": {"offset": 0, "limit": 100, "totalCount": 3}})
    assert client.model_apis.find("p1", "churn").id == "m3"
    assert parse_qs(urlsplit(rsps.calls[0].request.url).query)["name"] == ["churn"]


def test_create_sends_the_contracts_body(rsps):
    client, _ = make_client()
    rsps.post(f"{HOST}{BASE}", status=201, json=model_api(1))
    client.model_apis.create(project_id="p1", name="churn", environment_id="e1", source=SOURCE,
                             hardware_tier_id="small", replicas=2,
                             environment_variables={"MLFLOW_MODEL_NAME": "churn", "A": "1"}, request_id="r-1")
    assert json.loads(rsps.calls[0].request.body) == {
        "name": "churn", "description": "", "environmentId": "e1", "isAsync": False,
        "strictNodeAntiAffinity": False,
        "environmentVariables": [{"key": "A", "value": "1"}, {"key": "MLFLOW_MODEL_NAME", "value": "churn"}],
        "hardwareTierId": "small", "replicas": 2,
        "version": {"projectId": "p1", "source": {"type": "Registry", "registeredModelName": "churn",
                                                  "registeredModelVersion": 7},
                    "description": "", "logHttpRequestResponse": True, "monitoringEnabled": False,
                    "recordInvocation": True, "shouldDeploy": True, "labels": {REQUEST_ID_LABEL: "r-1"}},
    }


def test_create_that_timed_out_but_happened_is_not_duplicated(rsps):
    client, _ = make_client()
    rsps.post(f"{HOST}{BASE}", body=requests.ReadTimeout("read timed out"))
    rsps.get(f"{HOST}{BASE}", json={"items": [model_api(1)], "metadata": {"offset": 0, "limit": 100, "totalCount": 1}})
    api = client.model_apis.create(project_id="p1", name="churn", environment_id="e1", source=SOURCE)
    assert api.id == "m1"
    assert len(calls_to(rsps, "POST", BASE)) == 1


def test_create_that_failed_ambiguously_and_did_not_happen_is_posted_once_more(rsps):
    client, _ = make_client()
    rsps.post(f"{HOST}{BASE}", status=503)
    rsps.post(f"{HOST}{BASE}", status=201, json=model_api(2))
    rsps.get(f"{HOST}{BASE}", json={"items": [], "metadata": {"offset": 0, "limit": 100, "totalCount": 0}})
    api = client.model_apis.create(project_id="p1", name="churn", environment_id="e1", source=SOURCE)
    assert api.id == "m2"
    assert [c.request.method for c in rsps.calls] == ["POST", "GET", "POST"]
    bodies = [json.loads(c.request.body) for c in calls_to(rsps, "POST", BASE)]
    assert bodies[0] == bodies[1]  # the same request id both times


def test_version_create_finds_its_own_version_by_source_and_request_id(rsps):
    client, _ = make_client()
    path = f"{BASE}/m1/versions"
    rsps.post(f"{HOST}{path}", body=requests.ConnectionError("connection reset"))
    rsps.get(f"{HOST}{path}", json={"items": [version(1, "someone-else"), version(2, "r-42"),
                                              version(3, "r-42", RegistrySource("churn", 6))],
                                    "metadata": {"offset": 0, "limit": 100, "totalCount": 3}})
    created = client.model_apis.create_version("m1", project_id="p1", source=SOURCE, request_id="r-42")
    assert created.id == "v2"
    assert len(calls_to(rsps, "POST", path)) == 1


def test_version_create_body_is_the_version_object_alone_with_our_label(rsps):
    model_apis = ModelApis(make_http()[0], new_request_id=lambda: "r-fixed")
    rsps.post(f"{HOST}{BASE}/m1/versions", status=201, json=version(4, "r-fixed"))
    model_apis.create_version("m1", project_id="p1", source=SOURCE,
                              options=VersionOptions(description="from CI", should_deploy=False))
    body = json.loads(rsps.calls[0].request.body)
    assert body["labels"] == {REQUEST_ID_LABEL: "r-fixed"}
    assert body["description"] == "from CI" and body["shouldDeploy"] is False
    assert "version" not in body and body["source"]["type"] == "Registry"


def test_version_create_not_found_after_failures_raises_the_error(rsps):
    client, _ = make_client()
    path = f"{BASE}/m1/versions"
    rsps.post(f"{HOST}{path}", status=502)
    rsps.get(f"{HOST}{path}", json={"items": [], "metadata": {"offset": 0, "limit": 100, "totalCount": 0}})
    with pytest.raises(RemoteError):
        client.model_apis.create_version("m1", project_id="p1", source=SOURCE)
    assert len(calls_to(rsps, "POST", path)) == 2


def test_get_version_and_list_versions(rsps):
    client, _ = make_client()
    rsps.get(f"{HOST}{BASE}/m1/versions/v1", json=version(1, "r"))
    rsps.get(f"{HOST}{BASE}/m1/versions", json=[version(1, "r"), version(2, "s")])  # bare list: one page
    assert client.model_apis.get_version("m1", "v1").status == "Preparing to build"
    assert [v.number for v in client.model_apis.list_versions("m1")] == [1, 2]


def test_update_puts_every_setting_and_is_retried_as_idempotent(rsps):
    client, sleeps = make_client()
    rsps.put(f"{HOST}{BASE}/m1", status=503)
    rsps.put(f"{HOST}{BASE}/m1", json=model_api(1, replicas=3))
    api = client.model_apis.update("m1", name="churn", description="d", environment_id="e1", replicas=3,
                                   hardware_tier_id="small")
    assert api.replicas == 3 and len(sleeps) == 1
    assert json.loads(rsps.calls[1].request.body) == {"name": "churn", "description": "d", "environmentId": "e1",
                                                      "replicas": 3, "hardwareTierId": "small"}


def test_delete(rsps):
    client, _ = make_client()
    rsps.delete(f"{HOST}{BASE}/m1", status=204)
    assert client.model_apis.delete("m1") is None


def test_access_tokens(rsps):
    client, _ = make_client()
    rsps.post(f"{HOST}{BASE}/m1/accessTokens", status=201,
              json={"id": "t1", "name": "smoke", "token": "tok-SECRET", "createdAt": "2026-01-01"})
    rsps.get(f"{HOST}{BASE}/m1/accessTokens", json=[{"id": "t1", "name": "smoke", "createdAt": 1767225600000}])
    token = client.model_apis.create_access_token("m1", "smoke")
    assert token.token == "tok-SECRET" and "tok-SECRET" not in repr(token)
    assert json.loads(rsps.calls[0].request.body) == {"name": "smoke"}
    listed = client.model_apis.list_access_tokens("m1")
    assert [t.id for t in listed] == ["t1"] and listed[0].token is None
    assert listed[0].created_at == 1767225600000  # epoch ms, or a date string as created above
