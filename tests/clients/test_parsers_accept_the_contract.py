"""Our parsers accept every answer Domino's published schemas allow (conformance, part c).

For each answer the client reads, payloads are generated from the contract's response schema
(tests/support/schema_strategies.py): optional fields present and absent, nulls where nullable,
unknown extra fields, and the digit-string variants of version numbers seen in field answers.
Each payload is first checked to be valid against the contract (so the generator cannot drift),
then handed to the client method that reads it, which must not raise. Every kind gets at least
200 generated payloads plus the all-optional and only-required extremes; the counts are printed.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domino_mlops.clients.domino import DominoClient
from domino_mlops.clients.domino_apps import Apps
from domino_mlops.clients.domino_serving_types import ModelApi, ModelApiVersion
from domino_mlops.clients.domino_job_types import JobPage
from domino_mlops.clients.domino_scheduled_jobs import NewScheduledJob
from domino_mlops.clients.domino_types import Page
from domino_mlops.clients.http import Reply, _server_message
from domino_mlops.contract import load_contract
from tests.support.schema_strategies import SchemaStrategies, with_variants

CONTRACT = load_contract()
ID = "65f0c0ffee0000000000aa01"
WHEN = datetime(2025, 3, 1, tzinfo=timezone.utc)
EXAMPLES = 200
# Field answers carry these integers as digit strings too (docs/CONTRACT_DECISIONS.md).
NUMBER_VARIANTS = ("registeredModelVersion", "registered_model_version", "model_version_number")
SCHEDULE = NewScheduledJob(title="score", command="python score.py", cron="0 0 6 * * ?", hardware_tier="small-k8s",
                           scheduled_by=ID)


class FakeHttp:
    """Answers every call with one payload, as the HTTP layer would hand it over."""

    def __init__(self, payload: Any) -> None:
        self.payload, self.calls = payload, []

    def call(self, method: str, path: str, **_: Any) -> Reply:
        self.calls.append(f"{method} {path}")
        return Reply(200, self.payload, f"{method} {path}")

    def create_idempotent(self, post: Callable[[], Any], lookup: Callable[[], Any], *, what: str) -> Any:
        return post()

    def close(self) -> None:
        pass


def client_answering(payload: Any) -> DominoClient:
    http = FakeHttp(payload)
    client = DominoClient(http, models_http=http)  # type: ignore[arg-type]
    client.apps = Apps(http, public_api=False)  # type: ignore[arg-type]  # the v4 routes; apps_public() for 6.3's
    return client


def apps_public(payload: Any) -> Apps:
    """The apps client of a Domino that serves the public Apps API, every answer ``payload``."""
    return Apps(FakeHttp(payload), public_api=True)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Answer:
    """One answer the client reads: its route and status, and the client call that reads it."""

    name: str
    method: str
    path: str
    status: int
    read: Callable[[Any], Any]  # payload -> parsed value, through the real client method

    @property
    def schema(self) -> Any:
        route = CONTRACT.by_shape(self.method, self.path)
        assert route is not None, f"{self.method} {self.path} is not in the contract"
        return CONTRACT.response_schema(route, self.status)


def _page(payload: Any, item: Callable[..., Any]) -> Any:
    return Page.from_api(payload, "GET (test)", item)


ANSWERS = (
    Answer("Model API list", "GET", "/api/modelServing/v1/modelApis", 200,
           lambda p: _page(p, ModelApi.from_api)),
    Answer("Model API", "GET", "/api/modelServing/v1/modelApis/{}", 200,
           lambda p: client_answering(p).model_apis.get(ID)),
    Answer("Model API created", "POST", "/api/modelServing/v1/modelApis", 201,
           lambda p: ModelApi.from_api(p, "POST (test)")),
    Answer("Model API updated", "PUT", "/api/modelServing/v1/modelApis/{}", 200,
           lambda p: client_answering(p).model_apis.update(ID, name="n", description="", environment_id=ID,
                                                           replicas=1)),
    Answer("version list", "GET", "/api/modelServing/v1/modelApis/{}/versions", 200,
           lambda p: client_answering(p).model_apis.list_versions(ID)),
    Answer("version", "GET", "/api/modelServing/v1/modelApis/{}/versions/{}", 200,
           lambda p: client_answering(p).model_apis.get_version(ID, ID)),
    Answer("version created", "POST", "/api/modelServing/v1/modelApis/{}/versions", 201,
           lambda p: ModelApiVersion.from_api(p, "POST (test)")),
    Answer("build logs", "GET", "/api/modelServing/v1/modelApis/{}/versions/{}/buildLogs", 200,
           lambda p: client_answering(p).model_apis.logs(ID, ID, "buildLogs").tail()),
    Answer("instance logs", "GET", "/api/modelServing/v1/modelApis/{}/versions/{}/instanceLogs", 200,
           lambda p: client_answering(p).model_apis.logs(ID, ID, "instanceLogs").tail()),
    Answer("export logs", "GET", "/api/modelServing/v1/modelApis/{}/versions/{}/exportLogs", 200,
           lambda p: client_answering(p).model_apis.logs(ID, ID, "exportLogs").tail()),
    Answer("deployment started", "POST", "/v4/models/{}/{}/startModelDeployment", 200,
           lambda p: client_answering(p).deployments.start(ID, ID)),
    Answer("requests by status", "GET", "/v4/modelManager/{}/{}/httpRequests", 200,
           lambda p: client_answering(p).deployments.http_requests(ID, ID, minutes=10)),
    Answer("resource usage", "GET", "/v4/modelManager/{}/{}/usage", 200,
           lambda p: client_answering(p).deployments.usage(ID, ID)),
    Answer("deployment stopped", "POST", "/v4/models/{}/{}/stopModelDeployment", 200,
           lambda p: client_answering(p).deployments.stop(ID, ID)),
    Answer("deployment status", "GET", "/v4/models/{}/{}/getModelDeploymentStatus", 200,
           lambda p: client_answering(p).deployments.status(ID, ID)),
    Answer("export started", "POST", "/v4/models/{}/{}/exportImageToRegistry", 202,
           lambda p: client_answering(p).deployments.export_image(
               ID, ID, registry_url="r", username="u", password="p", repository="x", tag="t")),
    Answer("export status", "GET", "/v4/models/{}/getExportImageStatus", 200,
           lambda p: client_answering(p).deployments.export_status(ID)),
    Answer("export log", "GET", "/v4/models/{}/getExportLogs", 200,
           lambda p: client_answering(p).deployments.export_logs(ID)),
    Answer("prediction", "POST", "/models/{}/latest/model", 200,
           lambda p: client_answering(p).deployments.predict(ID, {"x": 1}, token=None)),
    Answer("hardware tiers (public)", "GET", "/api/hardwaretiers/v1/hardwaretiers", 200,
           lambda p: client_answering(p).all_hardware_tiers()),
    Answer("hardware tiers of a project", "GET", "/v4/projects/{}/hardwareTiers", 200,
           lambda p: client_answering(p).hardware_tiers(ID)),
    Answer("project environments", "GET", "/v4/projects/{}/useableEnvironments", 200,
           lambda p: client_answering(p).project_environments(ID).default()),
    Answer("project", "GET", "/v4/projects/{}", 200, lambda p: client_answering(p).get_project(ID)),
    Answer("project by owner and name", "GET", "/v4/gateway/projects/findProjectByOwnerAndName", 200,
           lambda p: client_answering(p).find_project("o", "n")),
    Answer("job started", "POST", "/api/jobs/v1/jobs", 200,
           lambda p: client_answering(p).jobs.start(ID, "python train.py")),
    Answer("job", "GET", "/api/jobs/beta/jobs/{}", 200, lambda p: client_answering(p).jobs.get(ID)),
    Answer("job logs", "GET", "/api/jobs/beta/jobs/{}/logs", 200,
           lambda p: client_answering(p).jobs.logs(ID).text()),
    Answer("job stopped (v4)", "POST", "/v4/jobs/stop", 200, lambda p: client_answering(p).jobs.stop(ID)),
    Answer("app list", "GET", "/v4/modelProducts", 200, lambda p: client_answering(p).apps.list(ID)),
    Answer("app", "GET", "/v4/modelProducts/{}", 200, lambda p: client_answering(p).apps.get(ID)),
    Answer("app created", "POST", "/v4/modelProducts", 200, lambda p: client_answering(p).apps.create(ID, "a")),
    Answer("app instances", "GET", "/v4/modelProducts/{}/versions", 200,
           lambda p: client_answering(p).apps.instances(ID)),
    Answer("app list (public)", "GET", "/api/apps/beta/apps", 200, lambda p: apps_public(p).list(ID)),
    Answer("app (public)", "GET", "/api/apps/beta/apps/{}", 200, lambda p: apps_public(p).get(ID)),
    Answer("app created (public)", "POST", "/api/apps/beta/apps", 200,
           lambda p: apps_public(p).publish(ID, "a")),
    Answer("app version published", "POST", "/api/apps/beta/apps/{}/versions", 200,
           lambda p: apps_public(p).publish(ID, "a", app_id=ID)),
    Answer("job list", "GET", "/api/jobs/beta/jobs", 200, lambda p: JobPage.from_api(p, "GET (test)")),
    Answer("current user", "GET", "/api/users/v1/self", 200, lambda p: client_answering(p).current_user()),
    Answer("scheduled jobs", "GET", "/v4/projects/{}/scheduledjobs", 200,
           lambda p: client_answering(p).scheduled_jobs.list(ID)),
    Answer("scheduled job created", "POST", "/v4/projects/{}/scheduledjobs", 200,
           lambda p: client_answering(p).scheduled_jobs.create(ID, SCHEDULE)),
    Answer("scheduled job updated", "PUT", "/v4/projects/{}/scheduledjobs/{}", 200,
           lambda p: client_answering(p).scheduled_jobs.update(ID, ID, SCHEDULE)),
    Answer("custom metric values", "GET", "/api/metricValues/v1/{}/{}", 200,
           lambda p: client_answering(p).custom_metrics.read_values(ID, "accuracy", start=WHEN, end=WHEN)),
)

ERRORS = tuple(sorted({json.dumps(CONTRACT.default_errors[source], sort_keys=True)
                       for source in ("public", "v4")})) + (json.dumps(
    {"type": "object", "properties": {"error": {"type": "string"}}}),)  # the public API's 400/404/500


def _run(strategy: st.SearchStrategy[Any], schema: Any, read: Callable[[Any], Any], *, variants: bool,
         examples: int = EXAMPLES) -> int:
    """Feed ``examples`` generated payloads to ``read``; return how many it took."""
    seen = [0]
    validator = CONTRACT.validator(schema)

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy, st.data())
    def feed(payload: Any, data: st.DataObject) -> None:
        problems = [e.message for e in validator.iter_errors(payload)]
        assert not problems, f"the generator made an invalid payload: {problems[:3]}"
        if variants:
            payload = with_variants(payload, NUMBER_VARIANTS, lambda: data.draw(st.booleans()))
        read(payload)
        seen[0] += 1

    feed()
    return seen[0]


@pytest.mark.parametrize("answer", ANSWERS, ids=[a.name for a in ANSWERS])
def test_every_payload_the_schema_allows_is_read(answer: Answer, record_property) -> None:
    schema = answer.schema
    assert schema is not None, f"{answer.name}: the contract declares no body for status {answer.status}"
    generated = _run(SchemaStrategies(CONTRACT.defs).of(schema), schema, answer.read, variants=True)
    assert generated >= EXAMPLES
    for mode in ("minimal", "maximal"):  # the extremes, whatever the random draws were
        extreme = SchemaStrategies(CONTRACT.defs, mode=mode).of(schema)
        generated += _run(extreme, schema, answer.read, variants=False, examples=10)
    record_property("generated_payloads", generated)
    print(f"{answer.name}: {generated} payloads read")


@pytest.mark.parametrize("schema", ERRORS)
def test_every_error_body_the_schemas_allow_gives_a_message_or_nothing(schema: str) -> None:
    def read(payload: Any) -> str:
        message = _server_message(json.dumps(payload).encode())
        assert isinstance(message, str) and len(message) <= 300
        return message

    parsed = json.loads(schema)
    assert _run(SchemaStrategies(CONTRACT.defs).of(parsed), parsed, read, variants=False) >= EXAMPLES


def test_every_answer_the_client_reads_is_covered() -> None:
    """Each route our client calls is read by one of the answers above (or answers nothing we read)."""
    covered = {CONTRACT.by_shape(a.method, a.path).key for a in ANSWERS}  # type: ignore[union-attr]
    unread = {"DELETE /api/modelServing/v1/modelApis/{modelApiId}",  # 204, no body
              "DELETE /v4/projects/{projectId}/scheduledjobs/{scheduledJobKey}",  # 200, no body
              "POST /v4/modelProducts/{modelProductId}/start",  # the answer (an id) is read as text, if at all
              "POST /v4/modelProducts/{modelProductId}/stop",
              "POST /v4/modelProducts/{modelProductId}/visibility",
              "PATCH /api/apps/beta/apps/{appId}",  # an entry point or visibility change: the answer is not read
              "DELETE /api/apps/beta/apps/{appId}/versions/{versionId}/instances/{instanceId}",  # 200, no body
              "POST /api/metricValues/v1",  # 201, no body
              "POST /api/metricAlerts/v1",  # 200, no body
              "GET /{ownerName}/{projectName}/r/notebookSession/{runId}"}  # the app's own page, not Domino's
    missing = {r.key for r in CONTRACT.routes if r.client} - covered - unread
    assert not missing
