"""The emulator follows the contract: every route of Domino's published API (and the unpublished
ones the contract lists with evidence), driven over real HTTP, answers what the contract says.

One emulator (``record_responses=True``, the session's real MLflow server and diabetes model)
takes the whole tour: a success on every contract route, then for each route the errors that
apply to it (401 without a credential, 403 with another project's, 404 for ids that name
nothing), then the 400s generated from the request schemas. The last test validates every
answer the emulator recorded against the contract, date-time formats included.
"""

from __future__ import annotations

import base64
import datetime
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
import requests
from jsonschema import Draft202012Validator, FormatChecker

from domino_mlops.contract import load_contract
from domino_mlops.emulator import Emulator
from domino_mlops.emulator.seed import ADMIN_API_KEY, OTHER_API_KEY
from domino_mlops.emulator.server import build_router
from tests.support.contract_cases import Broken, Generator
from tests.support.emulator import (
    DIABETES_ROW,
    MODEL_APIS,
    NO_ID,
    app_body,
    model_api_body,
    version_body,
    wait_until,
)

CONTRACT = load_contract()
GENERATOR = Generator(CONTRACT)
BROKEN = [case for route in CONTRACT.routes if route.request is not None for case in GENERATOR.broken(route)]

# Routes where another project's credential cannot be refused: nothing they read belongs to a
# project, or the caller is a Model API's token holder, not a Domino user.
NO_403 = {
    "GET /version": "public, no credential at all",
    "GET /v4/gateway/projects": "lists the caller's own projects",
    "GET /api/hardwaretiers/v1/hardwaretiers": "hardware tiers are global",
    "GET /api/users/v1/self": "the caller's own user",
    "GET /api/environments/v1/environments/{environmentId}": "environments are global",
    "GET /v1/environments": "environments are global",
    "GET /v4/users": "users are global",
    "GET /v4/environments/defaultEnvironment": "environments are global",
    "POST /models/{modelId}/latest/model": "a Model API access token, not a Domino credential",
    "POST /api/modelApis/async/v1/{asyncModelId}": "a Model API access token, not a Domino credential",
    "GET /api/modelApis/async/v1/{asyncModelId}/{asyncPredictionId}": "a Model API access token",
}
NO_404 = {
    "GET /version": "names nothing",
    "GET /api/users/v1/self": "names nothing",
    "GET /v4/gateway/projects": "names nothing",
    "GET /api/hardwaretiers/v1/hardwaretiers": "names nothing",
    "GET /v1/environments": "names nothing",
    "GET /v4/users": "names nothing",
    "GET /v4/gateway/projects/findProjectByOwnerAndName":
        "the v4 document declares no 404: an unknown project is a 403",
    "GET /v4/environments/defaultEnvironment": "names nothing",
    "GET /api/serviceAccounts/v1/serviceAccounts": "names nothing",
    "POST /api/serviceAccounts/v1/serviceAccounts": "names nothing",
}
NO_401 = {"GET /version": "public: python-domino calls it before authenticating"}


@dataclass(frozen=True)
class Call:
    """One request to a contract route: path parameters, query, body (None: none) and headers."""

    method: str
    template: str
    params: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"

    def path(self) -> str:
        return self.template.format(**self.params)


@dataclass
class Tour:
    emu: Emulator
    domino: dict[str, str]  # headers of the demo project's API key
    successes: dict[str, Call] = field(default_factory=dict)  # the first success of each route
    exercised: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    skipped: dict[str, list[str]] = field(default_factory=dict)  # error checks that do not apply, and why

    def send(self, call: Call, expect: int) -> requests.Response:
        response = requests.request(call.method, self.emu.url + call.path(), params=call.query or None,
                                    data=None if call.body is None else json.dumps(call.body),
                                    headers={"Content-Type": "application/json", **call.headers}, timeout=30)
        assert response.status_code == expect, f"{call.key} -> {response.status_code}, not {expect}: {response.text}"
        self.exercised[call.key].add(expect)
        if 200 <= expect < 300:
            self.successes.setdefault(call.key, call)
        return response

    def ok(self, method: str, template: str, expect: int = 200, *, headers: dict[str, str] | None = None,
           **parts: Any) -> Any:
        call = Call(method, template, headers=self.domino if headers is None else headers, **parts)
        response = self.send(call, expect)
        return response.json() if response.content else None


def _basic(token: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{token}:{token}".encode()).decode()}


def _run_model_api(tour: Tour, api_id: str) -> None:
    def status() -> str:
        return tour.ok("GET", MODEL_APIS + "/{modelApiId}", params={"modelApiId": api_id})[
            "activeVersion"]["deployment"]["status"]

    assert wait_until(status, lambda s: s in ("Running", "Failed"))[-1] == "Running"


def _success_tour(tour: Tour, model: tuple[str, str]) -> None:
    """A success on every contract route, in an order that gives each the objects it needs."""
    emu = tour.emu
    project, owner, name = emu.project_id, emu.owner, emu.project_name
    mine = {"ownerName": owner, "projectName": name}
    ok = tour.ok

    ok("GET", "/version", headers={})
    ok("GET", "/v4/gateway/projects", query={"relationship": "Owned", "showCompleted": "false"})
    ok("GET", "/v4/gateway/projects/findProjectByOwnerAndName", query={"ownerName": owner, "projectName": name})
    ok("GET", "/v4/projects/{projectId}", params={"projectId": project})
    ok("GET", "/v4/projects/{projectId}/hardwareTiers", params={"projectId": project})
    ok("GET", "/v4/projects/{projectId}/useableEnvironments", params={"projectId": project})
    ok("GET", "/api/hardwaretiers/v1/hardwaretiers", query={"offset": "1", "limit": "2"})
    me = ok("GET", "/api/users/v1/self")["user"]["id"]
    environment = ok("GET", "/v1/environments")["data"][0]["id"]
    ok("GET", "/api/environments/v1/environments/{environmentId}", params={"environmentId": environment})
    commit = ok("GET", "/v1/projects/{ownerName}/{projectName}/commits", params=mine)[0]
    # python-domino's get_user_id and get_default_environment.
    ok("GET", "/v4/users", query={"userName": emu.owner})
    ok("GET", "/v4/environments/defaultEnvironment")

    # Service accounts (admin only): an account, a token that works as a Bearer credential.
    admin = {"X-Domino-Api-Key": ADMIN_API_KEY}
    accounts = "/api/serviceAccounts/v1/serviceAccounts"
    account = ok("POST", accounts, headers=admin, body={"username": "deployer", "email": "ops@example.com"})
    ok("GET", accounts, headers=admin, query={"includeDeactivated": "true", "offset": "0", "limit": "5"})
    idp = {"serviceAccountIdpId": account["serviceAccount"]["idpId"]}
    issued = ok("POST", accounts + "/{serviceAccountIdpId}/tokens", params=idp, headers=admin, body={"name": "ci"})
    assert ok("GET", "/api/users/v1/self", headers={"Authorization": f"Bearer {issued['token']}"})["user"][
        "userName"] == "deployer"
    ok("POST", accounts + "/{serviceAccountIdpId}/tokens/{tokenName}/invalidate", params={**idp, "tokenName": "ci"},
       headers=admin)

    # Model APIs: one synchronous (restricted, with a token), one async, one to delete.
    sync = ok("POST", MODEL_APIS, 201, body=model_api_body(project, "sync", *model, environment_id=environment))
    asynchronous = ok("POST", MODEL_APIS, 201,
                      body={**model_api_body(project, "async", *model, environment_id=environment), "isAsync": True})
    doomed = ok("POST", MODEL_APIS, 201, body=model_api_body(project, "doomed", *model, environment_id=environment))
    ok("GET", MODEL_APIS, query={"projectId": project, "offset": "0", "limit": "10"})
    sync_id, v1 = sync["id"], sync["activeVersion"]["id"]
    api = {"modelApiId": sync_id}
    _run_model_api(tour, sync_id)
    _run_model_api(tour, asynchronous["id"])
    ok("PUT", MODEL_APIS + "/{modelApiId}", params=api,
       body={"name": "sync", "description": "changed", "environmentId": environment, "replicas": 2})
    ok("DELETE", MODEL_APIS + "/{modelApiId}", 204, params={"modelApiId": doomed["id"]})
    # The errors of DELETE aim at a Model API that still exists (a 403 must not be a 404).
    tour.successes["DELETE " + MODEL_APIS + "/{modelApiId}"] = Call("DELETE", MODEL_APIS + "/{modelApiId}", api,
                                                                     headers=tour.domino)
    v2 = ok("POST", MODEL_APIS + "/{modelApiId}/versions", 201, params=api,
            body=version_body(project, *model, shouldDeploy=False, commitId=commit))["id"]
    ok("GET", MODEL_APIS + "/{modelApiId}/versions", params=api)
    version = {**api, "modelApiVersionId": v1}
    ok("GET", MODEL_APIS + "/{modelApiId}/versions/{modelApiVersionId}", params=version)
    ok("GET", MODEL_APIS + "/{modelApiId}/versions/{modelApiVersionId}/buildLogs", params=version)
    ok("GET", MODEL_APIS + "/{modelApiId}/versions/{modelApiVersionId}/instanceLogs", params=version,
       query={"tail": "true", "maxResults": "5"})

    token = emu.issue_model_token(sync_id, name="conformance")
    predicted = ok("POST", "/models/{modelId}/latest/model", params={"modelId": sync_id}, headers=_basic(token),
                   body={"data": DIABETES_ROW})
    assert predicted["release"]["model_version_number"] == 1
    # The metrics count that call (emulator/metrics.py): one 200 of version 1 in the last minutes.
    measured = {"modelId": sync_id, "modelVersionId": v1}
    counted = ok("GET", "/v4/modelManager/{modelId}/{modelVersionId}/httpRequests", params=measured,
                 query={"timeRangeMinutes": "10", "limit": "50"})["snapshots"]
    assert [(s["status"], s["requestCount"]) for s in counted] == [(200, 1)]
    assert ok("GET", "/v4/modelManager/{modelId}/{modelVersionId}/usage", params=measured)["snapshots"]
    async_token = emu.issue_model_token(asynchronous["id"])
    bearer = {"Authorization": f"Bearer {async_token}"}
    handle = ok("POST", "/api/modelApis/async/v1/{asyncModelId}", params={"asyncModelId": asynchronous["id"]},
                headers=bearer, body={"parameters": DIABETES_ROW})["asyncPredictionId"]
    prediction = {"asyncModelId": asynchronous["id"], "asyncPredictionId": handle}
    assert wait_until(lambda: ok("GET", "/api/modelApis/async/v1/{asyncModelId}/{asyncPredictionId}",
                                 params=prediction, headers=bearer)["status"],
                      lambda s: s in ("Succeeded", "Failed"))[-1] == "Succeeded"

    legacy = {"modelId": sync_id, "modelVersionId": v2}
    export = ok("POST", "/v4/models/{modelId}/{modelVersionId}/exportImageToRegistry", 202, params=legacy,
                body={"registryUrl": "registry.example.com", "username": "u", "password": "p",
                      "repository": "models/conformance", "tag": "v1"})[0]["exportId"]
    assert wait_until(lambda: ok("GET", "/v4/models/{exportId}/getExportImageStatus", params={"exportId": export})[
        "status"], lambda s: s in ("complete", "failed"))[-1] == "complete"
    ok("GET", "/v4/models/{exportId}/getExportLogs", params={"exportId": export})
    ok("GET", MODEL_APIS + "/{modelApiId}/versions/{modelApiVersionId}/exportLogs",
       params={**api, "modelApiVersionId": v2})
    ok("POST", "/v4/models/{modelId}/{modelVersionId}/startModelDeployment", params=legacy)
    ok("GET", "/v4/models/{modelId}/{modelVersionId}/getModelDeploymentStatus", params=legacy)
    ok("POST", "/v4/models/{modelId}/{modelVersionId}/stopModelDeployment", params=legacy)
    ok("POST", "/models/{modelId}/environmentVariables/add", params={"modelId": sync_id},
       body={"vars": [{"name": "STAGE", "value": "conformance"}]})

    # python-domino's /v1 model routes (a File source: it builds and fails, which is fine here).
    published = ok("POST", "/v1/models", body={"name": "files", "description": "", "projectId": project,
                                               "file": "model.py", "function": "predict",
                                               "environmentId": environment, "excludeFiles": []})["data"]["_id"]
    ok("POST", "/v1/models/{modelId}/versions", params={"modelId": published},
       body={"projectId": project, "file": "model.py", "function": "predict", "environmentId": environment})
    ok("GET", "/v1/models/{modelId}/versions", params={"modelId": published})
    ok("GET", "/v1/projects/{ownerName}/{projectName}/models", params=mine)

    # Jobs: public and v4, stop, restart, list, logs, and the /v1 runs.
    job = ok("POST", "/api/jobs/v1/jobs", body={"projectId": project, "runCommand": "python train.py",
                                                "hardwareTier": "small-k8s", "title": "train"})["job"]["id"]
    done = wait_until(lambda: ok("GET", "/api/jobs/beta/jobs/{jobId}", params={"jobId": job})["job"]["status"],
                      lambda s: s["isCompleted"])
    assert done[-1]["executionStatus"] == "Succeeded"
    ok("GET", "/api/jobs/beta/jobs/{jobId}/logs", params={"jobId": job}, query={"logType": "stdOut", "limit": "10"})
    long = ok("POST", "/v4/jobs/start", body={"projectId": project, "commandToRun": "sleep 60", "title": None,
                                              "mainRepoGitRef": None, "environmentId": environment})["id"]
    ok("GET", "/v4/jobs/{jobId}", params={"jobId": long})
    ok("GET", "/v4/jobs/{jobId}/runtimeExecutionDetails", params={"jobId": long})
    ok("POST", "/v4/jobs/stop", body={"jobId": long, "commitResults": False})
    ok("POST", "/v4/jobs/restart", body={"jobId": job, "shouldUseOriginalInputCommit": True})
    ok("GET", "/v4/jobs", query={"projectId": project, "page_size": "2", "page_no": "1", "sort_by": "asc"})
    ok("GET", "/api/jobs/beta/jobs", query={"projectId": project, "offset": "0", "limit": "5", "sortBy": "number",
                                             "ascending": "false", "statusFilter": "all"})
    ok("GET", "/v1/projects/{ownerName}/{projectName}/runs", params=mine)
    ok("GET", "/v1/projects/{ownerName}/{projectName}/run/{runId}/stdout", params={**mine, "runId": job})

    # Scheduled jobs: one kept, one deleted.
    scheduled = {"title": "nightly", "command": "python score.py",
                 "schedule": {"cronString": "0 0 6 * * ?", "isCustom": True}, "timezoneId": "UTC",
                 "isPaused": False, "allowConcurrentExecution": False, "hardwareTierIdentifier": "small-k8s",
                 "environmentRevisionSpec": "ActiveRevision", "scheduledByUserId": me,
                 "notifyOnCompleteEmailAddresses": []}
    schedules = "/v4/projects/{projectId}/scheduledjobs"
    kept = ok("POST", schedules, params={"projectId": project}, body=scheduled)["id"]
    ok("GET", schedules, params={"projectId": project})
    ok("PUT", schedules + "/{scheduledJobKey}", params={"projectId": project, "scheduledJobKey": kept},
       body={**scheduled, "isPaused": True, "overrideEnvironmentId": environment})
    doomed_schedule = ok("POST", schedules, params={"projectId": project}, body=scheduled)["id"]
    ok("DELETE", schedules + "/{scheduledJobKey}", params={"projectId": project, "scheduledJobKey": doomed_schedule})

    # Custom metrics of a model Model Monitor knows (routes_custom_metrics: no published route registers one).
    monitored = emu.add_monitored_model(project, "exported-churn")
    at = "2025-03-01T12:00:00Z"
    ok("POST", "/api/metricValues/v1", 201, body={"newMetricValues": [
        {"modelMonitoringId": monitored, "metric": "accuracy", "value": 0.9, "referenceTimestamp": at,
         "tags": [{"key": "region", "value": "eu"}]}]})
    read = ok("GET", "/api/metricValues/v1/{modelMonitoringId}/{metric}",
              params={"modelMonitoringId": monitored, "metric": "accuracy"},
              query={"startingReferenceTimestampInclusive": at, "endingReferenceTimestampInclusive": at})
    assert [v["value"] for v in read["metricValues"]] == [0.9]  # both ends included
    ok("POST", "/api/metricAlerts/v1", body={"modelMonitoringId": monitored, "metric": "accuracy", "value": 0.5,
                                             "targetRange": {"condition": "greaterThan", "lowerLimit": 0.8}})

    # Apps: the running app's own page too (HTML, not JSON).
    app = ok("POST", "/v4/modelProducts", body=app_body(project, "dashboard"))["id"]
    ok("GET", "/v4/modelProducts", query={"projectId": project})
    assert [a["id"] for a in ok("GET", "/v4/modelProducts")] == [app]  # projectId is optional (v4 document)
    instance = ok("POST", "/v4/modelProducts/{modelProductId}/start", params={"modelProductId": app},
                  body={"hardwareTierId": "small-k8s", "environmentId": environment})
    product = wait_until(lambda: ok("GET", "/v4/modelProducts/{modelProductId}", params={"modelProductId": app}),
                         lambda a: a["status"] in ("Running", "Failed"))[-1]
    assert product["runningAppUrl"] == f"/{owner}/{name}/r/notebookSession/{instance}/"
    ok("POST", "/v4/modelProducts/{modelProductId}/visibility", params={"modelProductId": app},
       body={"visibility": "GRANT_BASED_STRICT"})
    page = tour.send(Call("GET", "/{ownerName}/{projectName}/r/notebookSession/{runId}",
                          {**mine, "runId": instance}, headers=tour.domino), 200)
    assert page.headers["Content-Type"].startswith("text/html") and "dashboard" in page.text
    ok("GET", "/v4/modelProducts/{modelProductId}/versions", params={"modelProductId": app})
    ok("POST", "/v4/modelProducts/{modelProductId}/stop", params={"modelProductId": app})

    # Apps through the public API: versions and instances.
    public = "/api/apps/beta/apps"
    made = ok("POST", public, body={"name": "public-dashboard", "projectId": project, "visibility": "AUTHENTICATED",
                                    "entryPoint": "app.sh", "version": {"hardwareTierId": "small-k8s",
                                                                        "gitRef": {"type": "commitId", "value": commit}}})
    ok("GET", public, query={"projectId": project, "name": "public-dashboard"})
    ok("PATCH", public + "/{appId}", params={"appId": made["id"]}, body={"entryPoint": "run.sh"})
    version = ok("POST", public + "/{appId}/versions", params={"appId": made["id"]},
                 body={"hardwareTierId": "small-k8s", "environmentId": environment})
    ids = {"appId": made["id"], "versionId": version["id"]}
    shown = wait_until(lambda: ok("GET", public + "/{appId}", params={"appId": made["id"]}),
                       lambda a: a["currentVersion"]["currentInstance"]["status"] in ("Running", "Failed"))[-1]
    assert shown["entryPoint"] == "run.sh" and shown["currentVersion"]["id"] == version["id"]
    ok("GET", public + "/{appId}/versions", params={"appId": made["id"]})
    ok("GET", public + "/{appId}/versions/{versionId}", params=ids)
    ok("GET", public + "/{appId}/versions/{versionId}/instances", params=ids)
    running = {**ids, "instanceId": version["currentInstance"]["id"]}
    ok("GET", public + "/{appId}/versions/{versionId}/instances/{instanceId}", params=running)
    ok("DELETE", public + "/{appId}/versions/{versionId}/instances/{instanceId}", params=running)


# How a success call becomes a 404: the ids it names replaced by ids that name nothing.
_PATH_IDS = {"ownerName": "nobody", "projectName": "nothing"}
_BODY_IDS: dict[str, Callable[[Any], Any]] = {
    "POST " + MODEL_APIS: lambda b: {**b, "version": {**b["version"], "projectId": NO_ID}},
    "POST /v1/models": lambda b: {**b, "projectId": NO_ID},
    "POST /api/jobs/v1/jobs": lambda b: {**b, "projectId": NO_ID},
    "POST /v4/jobs/start": lambda b: {**b, "projectId": NO_ID},
    "POST /v4/jobs/stop": lambda b: {**b, "jobId": NO_ID},
    "POST /v4/jobs/restart": lambda b: {**b, "jobId": NO_ID},
    "POST /v4/modelProducts": lambda b: {**b, "projectId": NO_ID},
    "POST /api/apps/beta/apps": lambda b: {**b, "projectId": NO_ID},
    "POST /api/metricValues/v1": lambda b: {"newMetricValues": [
        {**v, "modelMonitoringId": NO_ID} for v in b["newMetricValues"]]},
    "POST /api/metricAlerts/v1": lambda b: {**b, "modelMonitoringId": NO_ID},
}
_QUERY_IDS = {"projectId": NO_ID, "ownerName": "nobody", "projectName": "nothing"}


def _not_found(call: Call) -> Call | None:
    if call.key in NO_404:
        return None
    return replace(call, params={k: _PATH_IDS.get(k, NO_ID) for k in call.params},
                   query={k: _QUERY_IDS.get(k, v) for k, v in call.query.items()},
                   body=_BODY_IDS.get(call.key, lambda b: b)(call.body))


def _error_tour(tour: Tour) -> dict[str, list[str]]:
    """401, 403 and 404 on every route they apply to; the reasons for the ones they do not."""
    skipped: dict[str, list[str]] = defaultdict(list)
    other = {"X-Domino-Api-Key": OTHER_API_KEY}
    for route in CONTRACT.routes:
        call = tour.successes[route.key]
        if route.key in NO_401:
            skipped[route.key].append(f"401: {NO_401[route.key]}")
        else:
            tour.send(replace(call, headers={}), 401)
        if route.key in NO_403:
            skipped[route.key].append(f"403: {NO_403[route.key]}")
        else:
            tour.send(replace(call, headers=other), 403)
        missing = _not_found(call)
        if missing is None:
            skipped[route.key].append(f"404: {NO_404[route.key]}")
        else:
            tour.send(missing, 404)
    # No route at all, and a route's path with another method: the gateway's 404 and the route's 405.
    tour.send(Call("GET", "/no/such/route", headers=tour.domino), 404)
    tour.send(Call("DELETE", "/version"), 405)
    return skipped


@pytest.fixture(scope="module")
def tour(mlflow_server, diabetes_model):
    with Emulator(mlflow_uri=mlflow_server.uri, deploy_seconds=0.2, record_responses=True) as emu:
        driven = Tour(emu, {"X-Domino-Api-Key": emu.api_key})
        _success_tour(driven, diabetes_model)
        driven.skipped = _error_tour(driven)
        yield driven


def test_the_route_table_is_the_contract_both_ways():
    served = {(r.method, r.template) for r in build_router().routes if r.contract is not None}
    published = {(r.method, r.path) for r in CONTRACT.routes}
    emulator_only = [r.template for r in build_router().routes if r.contract is None]

    assert served == published  # same methods, same paths, same parameter names
    assert all(t.startswith("/_emulator/") for t in emulator_only)


def test_every_contract_route_answers_with_success_and_its_errors(tour):
    assert sorted(tour.successes) == sorted(r.key for r in CONTRACT.routes)  # every route, no exception
    for route in CONTRACT.routes:
        errors = tour.exercised[route.key] - set(range(200, 300))
        expected = {401, 403, 404} - {int(s.split(":")[0]) for s in tour.skipped.get(route.key, [])}
        assert expected <= errors, (route.key, errors, tour.skipped.get(route.key))
    # What could not be exercised, and why (the report of this test when it fails).
    assert {k: v for k, v in tour.skipped.items()} == {
        key: [f"{code}: {why}" for code, table in (("401", NO_401), ("403", NO_403), ("404", NO_404))
              if (why := table.get(key))]
        for key in {*NO_401, *NO_403, *NO_404}}


def test_the_generated_bodies_are_what_the_contract_says():
    for route in CONTRACT.routes:
        if route.request is not None:
            assert CONTRACT.check_request(route, GENERATOR.valid_body(route)) == [], route.key
    assert all(CONTRACT.check_request(case.route, case.body) for case in BROKEN)  # each one is refused
    assert len({case.route.key for case in BROKEN}) == sum(1 for r in CONTRACT.routes if r.request is not None)


@pytest.mark.parametrize("case", BROKEN, ids=[case.id for case in BROKEN])
def test_a_body_the_contract_refuses_is_a_400_listing_every_problem(tour, case: Broken):
    call = tour.successes[case.route.key]
    response = requests.request(call.method, tour.emu.url + call.path(), params=call.query or None,
                                data=None if case.body is None else json.dumps(case.body),
                                headers={"Content-Type": "application/json", **call.headers}, timeout=30)
    problems = CONTRACT.check_request(case.route, case.body)

    assert response.status_code == 400, response.text
    answer = response.json()
    declared = case.route.responses.get("400") or {}
    if case.route.source == "public" and "error" in declared.get("properties", {}):  # the document's {"error"}
        assert set(answer) == {"error"} and all(p in answer["error"] for p in problems)
    elif case.route.source == "public":
        assert set(answer) == {"errors", "requestId"} and answer["errors"] == problems
    else:
        assert set(answer) == {"message"} and all(p in answer["message"] for p in problems)
    assert CONTRACT.check_response(case.route, 400, answer) == []


def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    datetime.datetime.fromisoformat(value)  # raises on anything but ISO 8601
    return True


FORMATS = FormatChecker()
FORMATS.checks("date-time", raises=ValueError)(_date_time)


def _strict_problems(schema: Any, body: Any) -> list[str]:
    """The contract's check plus ``format: date-time`` (jsonschema only annotates formats by default)."""
    validator = Draft202012Validator({**schema, "$defs": CONTRACT.defs} if isinstance(schema, dict) else schema,
                                     format_checker=FORMATS)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(body)]


def test_zz_every_recorded_answer_validates_against_the_contract(tour):
    """Runs last (the name sorts so, and pytest keeps file order): it checks every answer above."""
    records = tour.emu.requests
    invalid = []
    routes = {f"{r.method} {r.path}": r for r in CONTRACT.routes}
    for record in records:
        if record.route is None:  # no route: the gateway's shape, or the shape of the path's route (405)
            source = "unpublished" if record.status == 405 else "public"  # the only 405 above: DELETE /version
            problems = _strict_problems(CONTRACT.default_errors[source], record.response)
        else:
            route = routes[record.route]
            problems = CONTRACT.check_response(route, record.status, record.response)
            schema = CONTRACT.response_schema(route, record.status)
            if not problems and schema is not None:
                problems = _strict_problems(schema, record.response)
        if problems:
            invalid.append((record.method, record.path, record.status, problems[:3]))
    assert invalid == []
    assert {r.route for r in records} >= set(routes)  # every route's answers are among them
    statuses = {r.status for r in records}
    assert {200, 201, 202, 204, 400, 401, 403, 404, 405} <= statuses
    assert len(records) >= len(BROKEN) + 3 * len(CONTRACT.routes)  # the tour, the errors, the 400s
