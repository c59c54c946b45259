"""Every id is quoted: a '/', '?', '#' or space inside an id cannot change the route."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domino_mlops.clients.domino import urls as urls
from domino_mlops.errors import ConfigError
from tests.clients.domino_fakes import HOST, make_client


def test_ids_with_slashes_and_spaces_are_quoted():
    assert urls.model_api("a/b c") == "/api/modelServing/v1/modelApis/a%2Fb%20c"
    assert urls.model_api_version("m 1", "v/2") == "/api/modelServing/v1/modelApis/m%201/versions/v%2F2"
    assert urls.start_deployment("m/1", "v?2") == "/v4/models/m%2F1/v%3F2/startModelDeployment"
    assert urls.job("j#1") == "/api/jobs/beta/jobs/j%231"


def test_dot_segments_are_escaped_so_servers_cannot_resolve_them():
    assert urls.model_api("..") == "/api/modelServing/v1/modelApis/%2E%2E"
    assert urls.app(".") == "/v4/modelProducts/%2E"


def test_query_values_are_quoted():
    assert urls.project_by_owner_and_name("al ice", "a/b&c=d") == (
        "/v4/gateway/projects/findProjectByOwnerAndName?ownerName=al%20ice&projectName=a%2Fb%26c%3Dd")
    assert urls.model_apis("p 1", name="churn&x", offset=0, limit=100) == (
        "/api/modelServing/v1/modelApis?projectId=p%201&name=churn%26x&offset=0&limit=100")


@pytest.mark.parametrize("build", [lambda: urls.model_api(""), lambda: urls.model_apis(""),
                                   lambda: urls.apps(""), lambda: urls.project_by_owner_and_name("", "p")])
def test_an_empty_id_is_refused_rather_than_widening_the_route(build):
    with pytest.raises(ConfigError, match="empty"):
        build()


@given(st.text(min_size=1))
def test_any_id_becomes_one_segment_that_unquotes_back(model_id):
    segment = urls.seg(model_id)
    assert not set(segment) & set("/?# ")
    if model_id not in (".", ".."):
        assert unquote(segment) == model_id


def test_quoted_id_is_what_goes_on_the_wire(rsps):
    client, _ = make_client()
    rsps.get(f"{HOST}/api/modelServing/v1/modelApis/team%2Fchurn%20v2", json={"id": "team/churn v2", "name": "c"})
    assert client.model_apis.get("team/churn v2").id == "team/churn v2"
    assert rsps.calls[0].request.path_url == "/api/modelServing/v1/modelApis/team%2Fchurn%20v2"
