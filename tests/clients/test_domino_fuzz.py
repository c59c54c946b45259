"""Fuzzing the Domino client with server answers: HTML pages, truncated JSON, random JSON of the
wrong shape, huge and deeply nested bodies, under any status. Whatever comes back, a call either
returns or raises one of our exceptions (a DominoMlopsError) that names the endpoint it called;
never KeyError, TypeError, RecursionError or a loop that keeps paging.

`responses` serves the answers (every request of an example gets the same one), so thousands of
examples run in seconds; tests/clients/test_http_hostile.py does the socket-level cases on a
real server. The fast variant runs in the normal suite, the stress one under `make stress`.
"""

from __future__ import annotations

import json
import re

import pytest
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domino_mlops.clients.domino.serving_types import RegistrySource
from domino_mlops.errors import DominoMlopsError, NotFound
from tests.clients.domino_fakes import API_KEY, make_client
from tests.support import domino_payloads as payloads

MAX_BODY = 4096  # "huge" is anything past the client's limit; a small limit keeps examples fast

CALLS = {
    "find_project": lambda c: c.find_project("owner", "proj"),
    "get_project": lambda c: c.get_project("p1"),
    "hardware_tiers": lambda c: c.hardware_tiers("p1"),
    "all_hardware_tiers": lambda c: c.all_hardware_tiers(),
    "project_environments": lambda c: c.project_environments("p1"),
    "model_apis.list": lambda c: c.model_apis.list("p1"),
    "model_apis.find": lambda c: c.model_apis.find("p1", "churn"),
    "model_apis.get": lambda c: c.model_apis.get("m1"),
    "model_apis.create": lambda c: c.model_apis.create(project_id="p1", name="churn", environment_id="e1",
                                                       source=RegistrySource("churn", 2), request_id="r1"),
    "model_apis.update": lambda c: c.model_apis.update("m1", name="churn", description="", environment_id="e1",
                                                       replicas=1),
    "model_apis.delete": lambda c: c.model_apis.delete("m1"),
    "model_apis.list_versions": lambda c: c.model_apis.list_versions("m1"),
    "model_apis.get_version": lambda c: c.model_apis.get_version("m1", "v1"),
    "model_apis.create_version": lambda c: c.model_apis.create_version("m1", project_id="p1",
                                                                       source=RegistrySource("churn", 2),
                                                                       request_id="r1"),
    "model_apis.logs": lambda c: c.model_apis.logs("m1", "v1"),
    "deployments.start": lambda c: c.deployments.start("m1", "v1"),
    "deployments.stop": lambda c: c.deployments.stop("m1", "v1"),
    "deployments.status": lambda c: c.deployments.status("m1", "v1"),
    "deployments.export_status": lambda c: c.deployments.export_status("x1"),
    "deployments.export_logs": lambda c: c.deployments.export_logs("x1"),
    "deployments.predict": lambda c: c.deployments.predict("m1", {"x": 1}, token="model-token"),
    "jobs.start": lambda c: c.jobs.start("p1", "python train.py"),
    "jobs.get": lambda c: c.jobs.get("j1"),
    "jobs.logs": lambda c: c.jobs.logs("j1"),
    "jobs.stop": lambda c: c.jobs.stop("j1"),
    "apps.list": lambda c: c.apps.list("p1"),
    "apps.find": lambda c: c.apps.find("p1", "dash"),
    "apps.get": lambda c: c.apps.get("a1"),
    "apps.create": lambda c: c.apps.create("p1", "dash"),
    "apps.start": lambda c: c.apps.start("a1"),
    "apps.stop": lambda c: c.apps.stop("a1"),
}

# Field names Domino's answers use, so random objects hit the parsers' real paths.
FIELDS = ["id", "name", "items", "metadata", "totalCount", "offset", "limit", "status", "versions", "project",
          "hardwareTiers", "environments", "isArchived", "activeVersion", "versionNumber", "source", "type",
          "registeredModelName", "registeredModelVersion", "deploymentStatus", "state", "job", "logs",
          "content", "result", "errors", "message", "error", "selectedEnvironment", "dataPlane", "exportId",
          "modelApiId", "description", "createdAt", "isCompleted", "statuses", "runCommand", "hwTierId"]
HTML = b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"

scalars = st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.floats() | st.text(max_size=10)


def json_values(big: bool) -> st.SearchStrategy:
    keys = st.sampled_from(FIELDS) | st.text(max_size=6)
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=5 if big else 3)
                        | st.dictionaries(keys, inner, max_size=8 if big else 4), max_leaves=80 if big else 16)


# Answers of the right shape (pages that claim a billion items included), to be bent below.
SHAPED = [payloads.page([payloads.model_api(1)], limit=1, total=10**9), payloads.model_api(2),
          payloads.page([payloads.version(1)]), payloads.version(3), payloads.v4_status(),
          payloads.public_tiers(*[payloads.public_tier(f"t{i}") for i in range(100)]), payloads.project(),
          payloads.environments(("e1", "Default", "v1"), selected="e1"), payloads.public_job(), payloads.v4_job(),
          payloads.public_job_logs(("stdout", "hi")), payloads.app(), payloads.log_lines("x")]


@st.composite
def bent(draw, big: bool) -> object:
    """A right-shaped answer with a few values swapped for random ones (wrong types, nulls, ...)."""
    doc = json.loads(json.dumps(draw(st.sampled_from(SHAPED))))
    for _ in range(draw(st.integers(0, 6 if big else 3))):
        node, key = doc, None
        while isinstance(node, (dict, list)) and node and draw(st.booleans()):
            key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else range(len(node))))
            parent, node = node, node[key]
        if key is not None:
            parent[key] = draw(json_values(big))
    return doc


def bodies(big: bool) -> st.SearchStrategy[bytes]:
    as_json = (json_values(big) | bent(big)).map(lambda v: json.dumps(v).encode())
    return st.one_of(
        st.just(HTML), st.just(b""),
        as_json,
        st.tuples(as_json, st.floats(0, 1)).map(lambda p: p[0][: int(len(p[0]) * p[1])]),  # truncated
        st.integers(1, 100_000 if big else 5000).map(lambda n: b"[" * n + b"]" * n),  # deep
        st.integers(MAX_BODY // 2, 4 * MAX_BODY).map(lambda n: b"[" + b"0," * (n // 2) + b"0]"),  # huge
        st.binary(max_size=200),
    )


STATUSES = st.sampled_from([200, 201, 202, 204, 301, 302, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503]) | (
    st.integers(200, 599))


def check_call(name: str, status: int, body: bytes, content_type: str) -> None:
    client, _ = make_client(max_body_bytes=MAX_BODY)  # sleeps are recorded, never waited
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            mock.add(method, re.compile(r".*"), body=body, status=status, content_type=content_type)
        try:
            CALLS[name](client)
        except DominoMlopsError as exc:
            message = str(exc)
            called = {f"{c.request.method} {c.request.path_url}" for c in mock.calls} | {
                c.request.url for c in mock.calls}
            named = any(endpoint in message for endpoint in called)
            domain = isinstance(exc, NotFound) and "owner/proj" in message  # "Domino has no project owner/proj"
            assert named or domain, (type(exc).__name__, message, called)
            assert "\n" not in message and len(message) < 2000, message
            assert API_KEY not in message and "model-token" not in message
        except Exception as exc:  # noqa: BLE001 - the point: nothing else may escape
            pytest.fail(f"{name} let {type(exc).__name__} escape on {status} {body[:80]!r}: {exc}")


FAST = settings(derandomize=True, max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
STRESS = settings(derandomize=True, max_examples=10_000, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
CONTENT_TYPES = st.sampled_from(["application/json", "text/html", "text/plain", "application/json; charset=latin-1"])


@FAST
@given(st.sampled_from(sorted(CALLS)), STATUSES, bodies(big=False), CONTENT_TYPES)
def test_any_answer_ends_in_a_result_or_our_error_naming_the_endpoint(name, status, body, content_type) -> None:
    check_call(name, status, body, content_type)


@pytest.mark.stress
@STRESS
@given(st.sampled_from(sorted(CALLS)), STATUSES, bodies(big=True), CONTENT_TYPES)
def test_any_answer_ends_in_a_result_or_our_error_naming_the_endpoint_stress(name, status, body,
                                                                             content_type) -> None:
    check_call(name, status, body, content_type)


@pytest.mark.parametrize(("name", "page"), [
    ("model_apis.list", payloads.page([payloads.model_api(1)], limit=1, total=10**9)),
    ("all_hardware_tiers", payloads.public_tiers(*[payloads.public_tier(f"t{i}") for i in range(100)])),
])
def test_paging_stops_when_the_server_repeats_a_page(name: str, page: dict) -> None:
    client, _ = make_client()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add("GET", re.compile(r".*"), json=page)
        with pytest.raises(DominoMlopsError, match="repeats the previous one") as info:
            CALLS[name](client)
        assert len(mock.calls) == 2 and mock.calls[0].request.path_url.split("?")[0] in str(info.value)
