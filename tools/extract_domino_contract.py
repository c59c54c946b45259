#!/usr/bin/env python3
"""Extract our Domino contract from Domino's published OpenAPI documents.

Domino cannot run here, so what we send and accept must come from what Domino publishes. This
script reads the two machine-readable API documents Domino publishes (in the public repository
dominodatalab/AutoML_Extension) at one recorded commit, keeps the routes our client calls or our
emulator serves, converts their request and response schemas to JSON Schema (2020-12), and
writes them with every schema they reference to ``src/domino_mlops/contract/domino_api.json``.

Routes no OpenAPI document describes (the official client's older routes, the model invocation
route) are listed too, each with the published evidence of its shape, and marked unverified.
Where field evidence contradicts a document, the correction is listed in OVERRIDES with its
source, and applied in the open: the contract records both.

    git clone https://github.com/dominodatalab/AutoML_Extension /tmp/automl   # or a mirror
    python tools/extract_domino_contract.py --repo /tmp/automl [--commit SHA]
    python tools/render_domino_api_doc.py          # docs/DOMINO_API.md from the contract

The output is deterministic (sorted keys), so a re-run at the same commit changes nothing.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "src" / "domino_mlops" / "contract" / "domino_api.json"
DEFAULT_COMMIT = "48e4382e9a7cb2f897fc294690f6acaabeacb0f4"
REPOSITORY = "dominodatalab/AutoML_Extension"

SPECS = {
    # key: (path in the repository, prefix the document's paths are served under)
    "public": ("automl-service/app/api/domino_public_spec.json", ""),
    "v4": ("style-guide/domino-apps-guidelines-main/swagger.json", "/v4"),
}

PYTHON_DOMINO = "dominodatalab/python-domino 2.2.0 (commit c36d3ca)"
DMC = "PyPI domino-mlflow-client 0.6.9, domino_mlflow_client/model_utils.py"
DOCS_AUTH = "https://docs.dominodatalab.com/en/4.1/user_guide/e038f2/select-how-to-authorize-a-model/"
DOCS_DEPLOY = "https://docs.dominodatalab.com/en/5.0/user_guide/8dbc91/deploy-models-at-rest"
DOCS_APP_URLS = "https://tickets.dominodatalab.com/hc/en-us/articles/10014367822612-App-URLs-and-URL-parameters"


@dataclass(frozen=True)
class Route:
    """One route: published in an OpenAPI document (``spec``), or only in other evidence."""

    method: str
    path: str  # as Domino serves it, with the document's parameter names
    spec: str | None = None  # "public" | "v4" | None (unpublished)
    client: bool = False  # our client calls it (the product's path)
    subpaths: bool = False  # it also serves every path under it (an app's own pages)
    evidence: str = ""  # for unpublished routes: where the shape comes from
    request: dict[str, Any] | None = None  # unpublished: the request body, hand-written from evidence
    responses: dict[str, Any] = field(default_factory=dict)  # unpublished: hand-written from evidence


def _obj(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    props = {**required, **(optional or {})}
    return {"type": "object", "required": sorted(required), "properties": props}


STR, INT, BOOL, NUM = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}, {"type": "number"}
ANY: dict[str, Any] = {}

_NUMBER_OR_DIGITS = {"anyOf": [INT, {"type": "string", "pattern": "^[0-9]+$"}]}
# The model invocation route: documented (docs.dominodatalab.com) but in no OpenAPI document.
_PREDICTION = _obj(
    {"result": ANY},
    {"request_id": STR, "model_time_in_ms": NUM, "timing": ANY,
     "release": _obj({}, {"harness_version": STR,
                          # a digit string in a published Domino example, a number in others: both
                          "model_version_number": _NUMBER_OR_DIGITS,
                          "registered_model_name": STR,
                          "registered_model_version": _NUMBER_OR_DIGITS})})

ROUTES: tuple[Route, ...] = (
    # --- deployment, projects, tiers, environments -------------------------------------------
    Route("GET", "/version", evidence=f"{PYTHON_DOMINO} domino/routes.py deployment_version(); "
          "domino.py reads ['version'] and requires >= 4.1.0",
          responses={"200": _obj({"version": STR}, {"buildId": STR, "commitId": STR})}),
    Route("GET", "/v4/gateway/projects", "v4"),
    Route("GET", "/v4/gateway/projects/findProjectByOwnerAndName", "v4"),
    Route("GET", "/v4/projects/{projectId}", "v4", client=True),
    Route("GET", "/v4/projects/{projectId}/hardwareTiers", "v4", client=True),
    Route("GET", "/v4/projects/{projectId}/useableEnvironments", "v4", client=True),
    Route("GET", "/api/hardwaretiers/v1/hardwaretiers", "public", client=True),
    Route("GET", "/api/users/v1/self", "public", client=True),
    # python-domino 2.2.0 get_user_id() (GET /v4/users) and get_default_environment()
    # (GET /v4/environments/defaultEnvironment): published v4 routes the emulator must serve.
    Route("GET", "/v4/users", "v4"),
    Route("GET", "/v4/environments/defaultEnvironment", "v4"),
    # Service accounts and their tokens (public tags ServiceAccounts): the credential Domino
    # recommends for automation; the emulator issues and accepts their tokens (Bearer).
    Route("GET", "/api/serviceAccounts/v1/serviceAccounts", "public"),
    Route("POST", "/api/serviceAccounts/v1/serviceAccounts", "public"),
    Route("POST", "/api/serviceAccounts/v1/serviceAccounts/{serviceAccountIdpId}/tokens", "public"),
    Route("POST", "/api/serviceAccounts/v1/serviceAccounts/{serviceAccountIdpId}/tokens/{tokenName}/invalidate",
          "public"),
    Route("GET", "/api/environments/v1/environments/{environmentId}", "public"),
    Route("GET", "/v1/environments", evidence=f"{PYTHON_DOMINO} environments_list(); {DMC} list_envs() "
          "reads ['data'] items {'id','name','visibility'}",
          responses={"200": _obj({"data": {"type": "array", "items": _obj(
              {"id": STR, "name": STR}, {"visibility": STR})}})}),
    Route("GET", "/v1/projects/{ownerName}/{projectName}/commits",
          evidence=f"{PYTHON_DOMINO} commits_list(); job_start() checks commit_id is in the list",
          responses={"200": {"type": "array", "items": STR}}),
    # --- Model APIs (public API) ---------------------------------------------------------------
    Route("GET", "/api/modelServing/v1/modelApis", "public", client=True),
    Route("POST", "/api/modelServing/v1/modelApis", "public", client=True),
    Route("GET", "/api/modelServing/v1/modelApis/{modelApiId}", "public", client=True),
    Route("PUT", "/api/modelServing/v1/modelApis/{modelApiId}", "public", client=True),
    Route("DELETE", "/api/modelServing/v1/modelApis/{modelApiId}", "public", client=True),
    Route("GET", "/api/modelServing/v1/modelApis/{modelApiId}/versions", "public", client=True),
    Route("POST", "/api/modelServing/v1/modelApis/{modelApiId}/versions", "public", client=True),
    Route("GET", "/api/modelServing/v1/modelApis/{modelApiId}/versions/{modelApiVersionId}", "public",
          client=True),
    Route("GET", "/api/modelServing/v1/modelApis/{modelApiId}/versions/{modelApiVersionId}/buildLogs",
          "public", client=True),
    Route("GET", "/api/modelServing/v1/modelApis/{modelApiId}/versions/{modelApiVersionId}/instanceLogs",
          "public", client=True),
    Route("GET", "/api/modelServing/v1/modelApis/{modelApiId}/versions/{modelApiVersionId}/exportLogs",
          "public", client=True),
    # --- Model API versions (v4 model manager) ---------------------------------------------------
    Route("POST", "/v4/models/{modelId}/{modelVersionId}/startModelDeployment", "v4", client=True),
    Route("POST", "/v4/models/{modelId}/{modelVersionId}/stopModelDeployment", "v4", client=True),
    Route("GET", "/v4/models/{modelId}/{modelVersionId}/getModelDeploymentStatus", "v4", client=True),
    Route("POST", "/v4/models/{modelId}/{modelVersionId}/exportImageToRegistry", "v4", client=True),
    Route("GET", "/v4/models/{exportId}/getExportImageStatus", "v4", client=True),
    Route("GET", "/v4/models/{exportId}/getExportLogs", "v4", client=True),
    # Analysis-gated waves (apply/analysis.py): what a Model API version served, and what it used.
    Route("GET", "/v4/modelManager/{modelId}/{modelVersionId}/httpRequests", "v4", client=True),
    Route("GET", "/v4/modelManager/{modelId}/{modelVersionId}/usage", "v4", client=True),
    Route("POST", "/models/{modelId}/environmentVariables/add",
          evidence=f"{DMC} add_env_vars() sends {{'vars': [{{'name','value'}}]}} and reads nothing back",
          request=_obj({"vars": {"type": "array", "items": _obj({"name": STR, "value": STR})}}),
          responses={"200": ANY}),
    # --- python-domino's v1 model routes (Domino's own MLOps templates use them) -------------------
    Route("GET", "/v1/projects/{ownerName}/{projectName}/models",
          evidence=f"{PYTHON_DOMINO} models_list(); its live-deployment test tests/test_endpoints.py::"
                   "test_list_models asserts ['objectType'] == 'list' and ['data'] is a list; "
                   "examples/export_model_to_sagemaker.py reads ['data'][0]['id']; items beyond "
                   "{'id','name'} are not published",
          responses={"200": _obj({"objectType": {"enum": ["list"]},
                                  "data": {"type": "array", "items": _obj({"id": STR, "name": STR})}})}),
    Route("POST", "/v1/models",
          evidence=f"{PYTHON_DOMINO} model_publish() body; {DMC} deploy_new_model() reads ['data']['_id']; "
                   "python-domino's live-deployment tests (tests/test_endpoints.py::test_publish_a_model) "
                   "read ['data']['name'] and ['data']['description']",
          request=_obj({"name": STR, "projectId": STR, "file": STR, "function": STR, "environmentId": STR},
                       {"description": STR, "excludeFiles": {"type": "array", "items": STR}}),
          responses={"200": _obj({"data": _obj({"_id": STR, "name": STR, "description": STR})})}),
    Route("GET", "/v1/models/{modelId}/versions",
          evidence=f"{DMC} describe_model_versions(): a recorded answer {{'data': [{{'_id', 'modelId': "
                   "{'value'}, 'metadata': {'number', 'created', 'createdBy'}, ...}]}",
          responses={"200": _obj({"data": {"type": "array", "items": _obj(
              {"_id": STR, "metadata": _obj({"number": INT}, {"created": INT, "createdBy": STR})},
              {"modelId": _obj({"value": STR}), "projectId": STR, "logHttpRequestResponse": BOOL,
               "recordInvocation": BOOL, "monitoringEnabled": BOOL})}})}),
    Route("POST", "/v1/models/{modelId}/versions",
          evidence=f"{PYTHON_DOMINO} model_version_publish() body; {DMC} deploy_new_version(): a recorded "
                   "answer {'id', 'number'}",
          request=_obj({"projectId": STR, "file": STR, "function": STR, "environmentId": STR},
                       {"description": STR, "excludeFiles": {"type": "array", "items": STR}}),
          responses={"200": _obj({"id": STR, "number": INT})}),
    # --- calling a model -------------------------------------------------------------------------
    Route("POST", "/models/{modelId}/latest/model", client=True,
          evidence=f"Domino docs: {DOCS_AUTH} (HTTP Basic, the model access token as user and password; "
                   f"unrestricted Model APIs need none) and {DOCS_DEPLOY} (body {{'data': {{...}}}} of named "
                   "arguments or {'parameters': [...]}; answer {'result', 'request_id', 'model_time_in_ms', "
                   "'release'})",
          request={"type": "object", "anyOf": [{"required": ["data"]}, {"required": ["parameters"]}],
                   "properties": {"data": {"type": "object"}, "parameters": {"type": "array"}}},
          responses={"200": _PREDICTION}),
    Route("POST", "/api/modelApis/async/v1/{asyncModelId}", "public"),
    Route("GET", "/api/modelApis/async/v1/{asyncModelId}/{asyncPredictionId}", "public"),
    # --- jobs ------------------------------------------------------------------------------------
    Route("POST", "/api/jobs/v1/jobs", "public", client=True),
    Route("GET", "/api/jobs/beta/jobs", "public", client=True),
    Route("GET", "/api/jobs/beta/jobs/{jobId}", "public", client=True),
    Route("GET", "/api/jobs/beta/jobs/{jobId}/logs", "public", client=True),
    Route("GET", "/v4/jobs", "v4"),
    Route("POST", "/v4/jobs/start", "v4"),
    Route("GET", "/v4/jobs/{jobId}", "v4"),
    Route("GET", "/v4/jobs/{jobId}/runtimeExecutionDetails", "v4"),  # python-domino job_runtime_execution_details()
    Route("POST", "/v4/jobs/stop", "v4", client=True),
    Route("POST", "/v4/jobs/restart", "v4"),
    Route("GET", "/v4/projects/{projectId}/scheduledjobs", "v4", client=True),
    Route("POST", "/v4/projects/{projectId}/scheduledjobs", "v4", client=True),
    Route("PUT", "/v4/projects/{projectId}/scheduledjobs/{scheduledJobKey}", "v4", client=True),
    Route("DELETE", "/v4/projects/{projectId}/scheduledjobs/{scheduledJobKey}", "v4", client=True),
    Route("GET", "/v1/projects/{ownerName}/{projectName}/runs",
          evidence=f"{PYTHON_DOMINO} runs_list(); its live-deployment test tests/test_jobs.py::test_runs_list "
                   "asserts ['objectType'] == 'list'; examples/export_runs.py reads ['data'] runs with "
                   "'queued', 'started', 'completed', 'postProcessedTimestamp' (epoch ms) and "
                   "'diagnosticStatistics' (null, or {'isError', 'data': [{'key', 'value'}]}); a recorded "
                   f"run in {DMC} run_info()",
          responses={"200": _obj({"objectType": {"enum": ["list"]}, "data": {"type": "array", "items": _obj(
              {"id": STR, "projectId": STR, "number": INT, "status": STR,
               "diagnosticStatistics": {"type": ["object", "null"], "properties": {
                   "isError": BOOL, "data": {"type": "array", "items": _obj({"key": STR, "value": ANY})}}}},
              {"queued": {"type": ["integer", "null"]}, "started": {"type": ["integer", "null"]},
               "completed": {"type": ["integer", "null"]}, "postProcessedTimestamp": {"type": ["integer", "null"]},
               "title": {"type": ["string", "null"]}, "commitId": STR, "isCompleted": BOOL,
               "hardwareTierId": STR, "environmentId": STR})}})}),
    Route("GET", "/v1/projects/{ownerName}/{projectName}/run/{runId}/stdout",
          evidence=f"{PYTHON_DOMINO} runs_stdout(); job_start_blocking() prints ['stdout']; get_run_log() "
                   "reads ['setup'] unless include_setup_log=False",
          responses={"200": _obj({"stdout": STR, "setup": STR})}),
    # --- custom metrics (public tag CustomMetrics): monitoring a model served outside Domino -------
    Route("POST", "/api/metricValues/v1", "public", client=True),
    Route("GET", "/api/metricValues/v1/{modelMonitoringId}/{metric}", "public", client=True),
    Route("POST", "/api/metricAlerts/v1", "public", client=True),
    # --- apps ------------------------------------------------------------------------------------
    # The public Apps API (6.3: apps with versions and instances) where Domino publishes it; the
    # v4 model products below are the fallback for versions that do not (CONTRACT_DECISIONS.md).
    Route("GET", "/api/apps/beta/apps", "public", client=True),
    Route("POST", "/api/apps/beta/apps", "public", client=True),
    Route("GET", "/api/apps/beta/apps/{appId}", "public", client=True),
    Route("PATCH", "/api/apps/beta/apps/{appId}", "public", client=True),
    Route("GET", "/api/apps/beta/apps/{appId}/versions", "public"),
    Route("POST", "/api/apps/beta/apps/{appId}/versions", "public", client=True),
    Route("GET", "/api/apps/beta/apps/{appId}/versions/{versionId}", "public"),
    Route("GET", "/api/apps/beta/apps/{appId}/versions/{versionId}/instances", "public"),
    Route("GET", "/api/apps/beta/apps/{appId}/versions/{versionId}/instances/{instanceId}", "public"),
    Route("DELETE", "/api/apps/beta/apps/{appId}/versions/{versionId}/instances/{instanceId}", "public",
          client=True),
    Route("GET", "/v4/modelProducts", "v4", client=True),
    Route("POST", "/v4/modelProducts", "v4", client=True),
    Route("GET", "/v4/modelProducts/{modelProductId}", "v4", client=True),
    Route("POST", "/v4/modelProducts/{modelProductId}/start", "v4", client=True),
    Route("POST", "/v4/modelProducts/{modelProductId}/stop", "v4", client=True),
    Route("POST", "/v4/modelProducts/{modelProductId}/visibility", "v4", client=True),
    Route("GET", "/v4/modelProducts/{modelProductId}/versions", "v4", client=True),
    # The running app itself, behind Domino's proxy: its pages are the app's, not an API's.
    Route("GET", "/{ownerName}/{projectName}/r/notebookSession/{runId}", client=True, subpaths=True,
          evidence=f"Domino support, {DOCS_APP_URLS}: an app runs at the session URL "
                   "<host>/<user>/<project>/r/notebookSession/<session_id> (new at every start; paths and "
                   "parameters under it reach the app), behind the official <host>/modelproducts/<app_id> page "
                   "with Domino's banner. The v4 ModelProduct reports the running one as runningAppUrl; the "
                   "client reads that field and never builds the path. What the page holds is the app's own.",
          responses={"200": None}),
)


@dataclass(frozen=True)
class RequestOverride:
    """A request body the document refuses but Domino accepts from the official client: the
    named properties of the referenced component also take ``also`` (the document's schema stays
    one of the choices)."""

    properties: tuple[str, ...]
    also: dict[str, Any]
    why: str

    def apply(self, defs: dict[str, Any], published: dict[str, Any]) -> dict[str, Any]:
        component = defs[published["$ref"].rsplit("/", 1)[-1]]
        props = dict(component["properties"])
        for name in self.properties:
            props[name] = {"anyOf": [props[name], self.also]}
        return {**component, "properties": props}


REQUEST_OVERRIDES = {
    ("POST", "/v4/modelProducts"): RequestOverride(
        ("created", "lastUpdated"), INT,
        f"{PYTHON_DOMINO} domino.py __app_create() (called by app_publish(), the app route of Domino's "
        "own templates) sends 'created' and 'lastUpdated' as time.time_ns() integers where the document "
        "has a date-time string; Domino accepts that body, so both are taken."),
}

@dataclass(frozen=True)
class Override:
    """A published document contradicted by field evidence: what we use instead, and why."""

    method: str
    path: str
    status: str
    why: str


_ARRAY_WRAPPED = (
    "The v4 document wraps the answer of every /v4/models route in an array. Recorded answers "
    f"contradict it: {DMC} shows stopModelDeployment answering {{'modelId','modelVersionId','status': "
    "'not_running'} and getBuildStatus answering one object; python-domino's published example "
    "examples/export_model_to_sagemaker.py reads export status and id from one object. The contract "
    "takes one object or the document's array (anyOf); clients accept both, the emulator answers the object."
)

OVERRIDES = tuple(
    Override(method, f"/v4/models/{tail}", "200", _ARRAY_WRAPPED)
    for method, tail in (
        ("POST", "{modelId}/{modelVersionId}/startModelDeployment"),
        ("POST", "{modelId}/{modelVersionId}/stopModelDeployment"),
        ("GET", "{modelId}/{modelVersionId}/getModelDeploymentStatus"),
        ("GET", "{exportId}/getExportImageStatus"),
        ("GET", "{exportId}/getExportLogs"),
    )
)
# Answers the v4 document writes Swagger-2 style ("schema" beside "description", no "content"):
# the author's schema is plain, it only sits one level up. Read it there, and say so.
SWAGGER2_ANSWERS = {
    ("GET", "/v4/modelProducts/{modelProductId}/versions"): (
        "The v4 document gives getAllAppInstances' 200 as Swagger 2 does ({'description', 'schema'}), with no "
        "OpenAPI 3 'content'; the schema there (a list of AppInstanceOverview) is read as the answer."),
    ("POST", "/v4/models/{modelId}/{modelVersionId}/exportImageToRegistry"): (
        "The v4 document gives exportImageToRegistry's 202 as Swagger 2 does ({'description', 'schema'}); the "
        "schema there (an array of ModelExportVersionStatusApiResponse) is read as the answer. "
        f"{PYTHON_DOMINO} tests/test_endpoints.py mocks one object {{'exportId'}}; clients accept both."),
}

# Component schemas corrected where the document contradicts itself; each with the evidence.
DEF_OVERRIDES: dict[str, tuple[str, str]] = {
    "public.PaginatedMetadataV1": (
        "drop 'pagination' from required",
        "The document requires a 'pagination' key it never defines: the allOf flattens PaginationV1 "
        "(offset, limit, totalCount) into the metadata. The client generated from the same document "
        "(automl-service/app/api/generated/domino_public_api_client/models/paginated_metadata_v1.py) "
        "reads the flat keys and requires no 'pagination'.",
    ),
    "public.MetricValueV1": (
        "referenceTimestamp: format date-time",
        "The document gives the answer's referenceTimestamp as a bare string, but every value it returns was "
        "logged as NewMetricValueV1, whose referenceTimestamp 'should follow the RFC3339 format with timezone', "
        "and the range it is filtered by is RFC 3339 too. Read as an RFC 3339 date-time (a reading, "
        "docs/CONTRACT_DECISIONS.md, custom metrics); the generated clients keep the string as it comes.",
    ),
}


def _fix_def(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    if name == "public.PaginatedMetadataV1":
        return {**schema, "required": [k for k in schema.get("required", []) if k != "pagination"]}
    if name == "public.MetricValueV1":
        props = schema["properties"]
        return {**schema, "properties": {**props, "referenceTimestamp": {**props["referenceTimestamp"],
                                                                         "format": "date-time"}}}
    return schema


# Keywords that only annotate: dropped to keep the contract small and the validators strict.
_ANNOTATIONS = {"description", "example", "examples", "title", "xml", "externalDocs", "deprecated",
                "discriminator", "readOnly", "writeOnly", "default"}


class Converter:
    """OpenAPI 3.0 schemas -> JSON Schema 2020-12, collecting the components they reference."""

    def __init__(self, spec_key: str, document: dict[str, Any]) -> None:
        self.key, self.document = spec_key, document
        self.defs: dict[str, Any] = {}

    def ref_name(self, ref: str) -> str:
        return f"{self.key}.{ref.rsplit('/', 1)[-1]}"

    def resolve(self, ref: str) -> Any:
        node: Any = self.document
        for part in ref.lstrip("#/").split("/"):
            node = node[part]
        return node

    def schema(self, node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            ref = node["$ref"]
            name = self.ref_name(ref)
            if name not in self.defs:
                self.defs[name] = None  # a placeholder first: components may refer to themselves
                self.defs[name] = self.schema(self.resolve(ref))
            # OpenAPI 3.0 ignores siblings of $ref, but the v4 document writes `nullable: true` next
            # to 295 of them and means it: python-domino's job_start sends null for mainRepoGitRef,
            # onDemandSparkClusterProperties and computeClusterProperties on every call, and Domino
            # accepts it. The other siblings (description, ...) only annotate.
            if node.get("nullable") is True:
                return {"anyOf": [{"$ref": f"#/$defs/{name}"}, {"type": "null"}]}
            return {"$ref": f"#/$defs/{name}"}
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in _ANNOTATIONS or key == "nullable" or key.startswith("x-"):
                continue
            if key == "properties":
                out[key] = {name: self.schema(sub) for name, sub in value.items()}
            elif key in ("items", "additionalProperties", "not"):
                out[key] = self.schema(value)
            elif key in ("allOf", "oneOf", "anyOf"):
                out[key] = [self.schema(sub) for sub in value]
            elif key in ("exclusiveMinimum", "exclusiveMaximum") and isinstance(value, bool):
                bound = "minimum" if key == "exclusiveMinimum" else "maximum"
                if value and bound in node:
                    out[key] = node[bound]
            else:
                out[key] = value
        if "properties" in out and "type" not in out:
            # Most components of both documents give properties but no type; the clients generated
            # from them read each as an object, and a body of another type means nothing to Domino.
            # Without this an array would satisfy every such schema.
            out["type"] = "object"
        if node.get("exclusiveMinimum") is True:
            out.pop("minimum", None)
        if node.get("exclusiveMaximum") is True:
            out.pop("maximum", None)
        if node.get("nullable") is True:
            out = _nullable(out)
        return out

    def operation(self, route: Route, spec_path: str) -> dict[str, Any]:
        operation = self.document["paths"][spec_path][route.method.lower()]
        params = [self.resolve(p["$ref"]) if "$ref" in p else p for p in operation.get("parameters", [])]
        entry: dict[str, Any] = {
            "operation": operation.get("operationId"),
            "parameters": [{"name": p["name"], "in": p["in"], "required": bool(p.get("required", False)),
                            "schema": self.schema(p.get("schema", {}))} for p in params],
        }
        body = operation.get("requestBody")
        if body is not None:
            body = self.resolve(body["$ref"]) if "$ref" in body else body
            content = body.get("content", {}).get("application/json")
            if content is not None:
                entry["request"] = {"required": bool(body.get("required", False)),
                                    "schema": self.schema(content.get("schema", {}))}
                relaxed = REQUEST_OVERRIDES.get((route.method, route.path))
                if relaxed is not None:
                    published = entry["request"]["schema"]
                    entry["request"]["schema"] = relaxed.apply(self.defs, published)
                    entry["overrides"] = [{"status": "request", "published": published, "why": relaxed.why}]
        responses = {}
        for status, answer in sorted(operation.get("responses", {}).items()):
            answer = self.resolve(answer["$ref"]) if "$ref" in answer else answer
            content = answer.get("content", {}).get("application/json")
            swagger2 = SWAGGER2_ANSWERS.get((route.method, route.path))
            if content is None and swagger2 is not None and "schema" in answer:
                content = {"schema": answer["schema"]}
                entry.setdefault("overrides", []).append({"status": status, "published": None, "why": swagger2})
            responses[status] = None if content is None else self.schema(content.get("schema", {}))
        entry["responses"] = responses
        return entry


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI's ``nullable: true`` in JSON Schema: null joins the type (and the enum)."""
    if "type" in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        schema = {**schema, "type": [*kinds, "null"] if "null" not in kinds else kinds}
        if "enum" in schema and None not in schema["enum"]:
            schema["enum"] = [*schema["enum"], None]
        return schema
    return {"anyOf": [schema, {"type": "null"}]}


def read_spec(repo: Path, commit: str, path: str) -> dict[str, Any]:
    text = subprocess.run(["git", "--git-dir", str(repo), "show", f"{commit}:{path}"], check=True,
                          capture_output=True, text=True).stdout
    return json.loads(text)


def find_spec_path(document: dict[str, Any], prefix: str, route: Route) -> str:
    """The document's key for ``route``: served paths carry the prefix, unless the key already does."""
    for key in (route.path[len(prefix):] if prefix and route.path.startswith(prefix + "/") else None, route.path):
        if key and key in document["paths"] and route.method.lower() in document["paths"][key]:
            return key
    shape = re.sub(r"\{[^}]+\}", "{}", route.path)
    near = [p for p in document["paths"] if re.sub(r"\{[^}]+\}", "{}", prefix + p) == shape]
    raise SystemExit(f"{route.method} {route.path} is not in the {prefix or 'public'} document"
                     + (f" (same shape: {near}; use its parameter names)" if near else ""))


def git_dir(repo: Path) -> Path:
    return repo / ".git" if (repo / ".git").is_dir() else repo


def build(repo: Path, commit: str) -> dict[str, Any]:
    documents = {key: read_spec(repo, commit, path) for key, (path, _) in SPECS.items()}
    converters = {key: Converter(key, doc) for key, doc in documents.items()}
    overrides = {(o.method, o.path, o.status): o for o in OVERRIDES}
    routes = []
    for route in ROUTES:
        entry: dict[str, Any] = {"method": route.method, "path": route.path, "client": route.client}
        if route.subpaths:
            entry["subpaths"] = True
        if route.spec is not None:
            _, prefix = SPECS[route.spec]
            spec_path = find_spec_path(documents[route.spec], prefix, route)
            entry.update(source=route.spec, spec_path=spec_path, verified=True)
            entry.update(converters[route.spec].operation(route, spec_path))
            for status, schema in list(entry["responses"].items()):
                found = overrides.pop((route.method, route.path, status), None)
                if found is not None:
                    item = schema["items"] if isinstance(schema, dict) and schema.get("type") == "array" else schema
                    # The array reading keeps one item: each of these routes answers about one thing.
                    entry["responses"][status] = {"anyOf": [item, {"type": "array", "items": item, "minItems": 1, "maxItems": 1}]}
                    entry.setdefault("overrides", []).append({"status": status, "published": schema,
                                                              "why": found.why})
        else:
            entry.update(source="unpublished", verified=False, evidence=route.evidence, parameters=[],
                         responses=route.responses)
            if route.request is not None:
                entry["request"] = {"required": True, "schema": route.request}
        routes.append(entry)
    if overrides:
        raise SystemExit(f"overrides for routes not extracted: {sorted(overrides)}")
    # Errors a document describes for some routes only: the shape each source answers with.
    default_errors = {
        "public": converters["public"].schema({"$ref": "#/components/schemas/FailureEnvelopeV1"}),
        "v4": converters["v4"].schema({"$ref": "#/components/schemas/domino.api.ErrorResponse"}),
    }
    default_errors["unpublished"] = default_errors["v4"]  # the older web layer, as the v4 one
    defs: dict[str, Any] = {}
    for converter in converters.values():
        defs.update(converter.defs)
    def_overrides = {}
    for name, (what, why) in DEF_OVERRIDES.items():
        def_overrides[name] = {"change": what, "why": why, "published": defs[name]}
        defs[name] = _fix_def(name, defs[name])
    sources = {
        key: {"repository": REPOSITORY, "commit": commit, "path": path, "served_under": prefix or "/",
              "title": documents[key]["info"]["title"], "version": documents[key]["info"]["version"],
              "openapi": documents[key].get("openapi")}
        for key, (path, prefix) in SPECS.items()
    }
    return {"format": "domino-mlops-contract/1", "generated_by": "tools/extract_domino_contract.py",
            "sources": sources, "default_errors": default_errors, "def_overrides": def_overrides, "routes": routes,
            "$defs": dict(sorted(defs.items()))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, required=True,
                        help=f"a clone (or bare mirror) of {REPOSITORY}")
    parser.add_argument("--commit", default=DEFAULT_COMMIT, help="the commit to read (default: %(default)s)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    contract = build(git_dir(args.repo), args.commit)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(contract, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    published = sum(r["verified"] for r in contract["routes"])
    print(f"{args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}: "
          f"{len(contract['routes'])} routes ({published} from the OpenAPI documents), "
          f"{len(contract['$defs'])} schemas, {args.output.stat().st_size // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
