"""Helpers for tests that talk to the Domino emulator over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

DIABETES_ROW = {"age": 30, "sex": 1, "bmi": 23, "bp": 100, "s1": 157, "s2": 70, "s3": 40, "s4": 4, "s5": 3, "s6": 88}
MODEL_APIS = "/api/modelServing/v1/modelApis"
TERMINAL = ("Running", "Failed", "Stopped", "Ready to run")
NO_ID = "000000000000000000000000"  # a well-formed Domino id that names nothing


class DominoSession:
    """A requests session bound to one emulator and one credential (X-Domino-Api-Key by default)."""

    def __init__(self, url: str, api_key: str | None = None, *, bearer: str | None = None) -> None:
        self.url = url
        self.http = requests.Session()
        if api_key:
            self.http.headers["X-Domino-Api-Key"] = api_key
        if bearer:
            self.http.headers["Authorization"] = f"Bearer {bearer}"

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.http.get(self.url + path, timeout=10, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.http.post(self.url + path, json=body, timeout=10, **kw)

    def put(self, path: str, body: Any = None, **kw: Any) -> requests.Response:
        return self.http.put(self.url + path, json=body, timeout=10, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.http.delete(self.url + path, timeout=10, **kw)

    def ok(self, method: str, path: str, body: Any = None) -> Any:
        """Call and return the JSON, failing the test with the server's message on an error."""
        call = getattr(self, method.lower())
        response = call(path, body) if body is not None else call(path)
        assert response.ok, f"{method} {path} -> {response.status_code}: {response.text}"
        return response.json() if response.content else None


def version_body(project_id: str, model: str, version: str | int, **extra: Any) -> dict[str, Any]:
    """A ``ModelApiVersionCreationRequest``."""
    return {"projectId": project_id, "logHttpRequestResponse": True, "monitoringEnabled": False,
            "source": {"type": "Registry", "registeredModelName": model, "registeredModelVersion": int(version)},
            "description": "", "recordInvocation": True, "shouldDeploy": True, **extra}


def model_api_body(project_id: str, name: str, model: str, version: str | int, *,
                   environment_id: str, tier: str = "small-k8s") -> dict[str, Any]:
    """A ``ModelApiCreationRequest``."""
    return {"name": name, "description": "", "environmentId": environment_id, "isAsync": False,
            "strictNodeAntiAffinity": False,
            "environmentVariables": [{"key": "MLFLOW_MODEL_NAME", "value": model}],
            "hardwareTierId": tier, "replicas": 1, "version": version_body(project_id, model, version)}


def wait_until(probe: Callable[[], Any], done: Callable[[Any], bool], *, timeout: float = 30.0,
               step: float = 0.02, first: Any = None) -> list[Any]:
    """Poll ``probe`` until ``done``; return every distinct value seen, in order.

    ``first`` is a value already seen (say, in the answer to the create), so a short first state
    still counts when the machine is too busy for the first poll to catch it.
    """
    seen: list[Any] = [] if first is None else [first]
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if not seen or seen[-1] != value:
            seen.append(value)
        if done(value):
            return seen
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout}s; saw {seen}")
        time.sleep(step)


def wait_for_deployment(domino: DominoSession, model_api_id: str, *, timeout: float = 60.0,
                        first: str | None = None) -> list[str]:
    """Statuses the Model API's active version went through until it settled."""
    def status() -> str:
        return domino.ok("GET", f"{MODEL_APIS}/{model_api_id}")["activeVersion"]["deployment"]["status"]

    return wait_until(status, lambda s: s in TERMINAL, timeout=timeout, first=first)


def first_environment(domino: DominoSession) -> str:
    return domino.ok("GET", "/v1/environments")["data"][0]["id"]


def app_body(project_id: str, name: str) -> dict[str, Any]:
    """A ``ModelProduct`` as python-domino's app create sends it (its placeholder id included)."""
    return {"modelProductType": "APP", "projectId": project_id, "name": name, "created": time.time_ns(),
            "lastUpdated": time.time_ns(), "status": "", "media": [], "tags": [], "stats": {"usageCount": 0},
            "id": NO_ID, "permissionsData": {"visibility": "GRANT_BASED", "accessRequestStatuses": {},
                                             "pendingInvitations": [], "discoverable": True,
                                             "appAccessStatus": "ALLOWED"}}


def call_model(url: str, model_api_id: str, token: str | None, data: Any = None, *,
               body: Any = None) -> requests.Response:
    """Call the model route: ``{"data": data}`` (or ``body`` as is), the token as HTTP Basic user
    and password (no credential when ``token`` is None)."""
    return requests.post(f"{url}/models/{model_api_id}/latest/model", json={"data": data} if body is None else body,
                         auth=(token, token) if token is not None else None, timeout=30)
