"""Model APIs and their versions, through Domino's public API (``/api/modelServing/v1``).

Creates are safe to repeat after an ambiguous failure: a Model API is looked up by project and
name, a version by its registry source plus the request marker we put in its description (the
create request has no labels; the request and the version both carry a description).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from domino_mlops.clients.domino import urls as urls
from domino_mlops.clients.domino.serving_types import (
    ModelApi,
    ModelApiVersion,
    RegistrySource,
    VersionLogs,
    VersionSettings,
    request_marker,
)
from domino_mlops.clients.domino.types import Page, check_next_page
from domino_mlops.clients.http import HttpClient

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class VersionOptions:
    """How a new version is published: what it records of its calls, and whether it starts now."""

    settings: VersionSettings = VersionSettings()
    description: str = ""
    should_deploy: bool = True


def _new_request_id() -> str:
    return str(uuid.uuid4())


class ModelApis:
    """Model APIs of Domino projects. Reached as ``DominoClient.model_apis``."""

    def __init__(self, http: HttpClient, *, page_size: int = 100,
                 new_request_id: Callable[[], str] = _new_request_id) -> None:
        self._http = http
        self._page_size = page_size
        self._new_request_id = new_request_id

    # --- Model APIs ---------------------------------------------------------------------------

    def list(self, project_id: str, *, name: str | None = None) -> tuple[ModelApi, ...]:
        """Every Model API of a project (all pages), optionally filtered by name on the server."""
        return self._all_pages(
            lambda offset: urls.model_apis(project_id, name=name, offset=offset, limit=self._page_size),
            ModelApi.from_api,
        )

    def find(self, project_id: str, name: str) -> ModelApi | None:
        """The unarchived Model API called exactly ``name`` in the project, or None."""
        return next((m for m in self.list(project_id, name=name) if m.name == name and not m.is_archived), None)

    def get(self, model_api_id: str) -> ModelApi:
        """One Model API with its active version summary."""
        reply = self._http.call("GET", urls.model_api(model_api_id))
        return ModelApi.from_api(reply.body, reply.endpoint)

    def create(
        self,
        *,
        project_id: str,
        name: str,
        environment_id: str,
        source: RegistrySource,
        hardware_tier_id: str | None = None,
        replicas: int = 1,
        environment_variables: Mapping[str, str] | None = None,
        description: str = "",
        is_async: bool = False,
        strict_node_anti_affinity: bool = False,
        version: VersionOptions = VersionOptions(),
        request_id: str | None = None,
    ) -> ModelApi:
        """Create a Model API whose first version is built from the MLflow registry.

        Safe after an ambiguous failure: looks the Model API up by project and name before
        posting again, so a timeout never yields two Model APIs.
        """
        body: dict[str, Any] = {
            "name": name, "description": description, "environmentId": environment_id, "isAsync": is_async,
            "strictNodeAntiAffinity": strict_node_anti_affinity,
            "environmentVariables": [{"key": k, "value": v} for k, v in sorted((environment_variables or {}).items())],
            "replicas": replicas,
            "version": _version_body(project_id, source, version, request_id or self._new_request_id()),
        }
        if hardware_tier_id is not None:  # optional in the contract: omitted means the default tier
            body["hardwareTierId"] = hardware_tier_id

        def post() -> ModelApi:
            reply = self._http.call("POST", urls.create_model_api(), json=body)
            return ModelApi.from_api(reply.body, reply.endpoint)

        return self._http.create_idempotent(post, lambda: self.find(project_id, name), what=f"Model API {name!r}")

    def update(self, model_api_id: str, *, name: str, description: str, environment_id: str,
               replicas: int, hardware_tier_id: str | None = None) -> ModelApi:
        """Replace the Model API's settings (PUT: name, description, environment and replicas are
        required; idempotent, so retried). Without a tier, Domino keeps the default tier."""
        body: dict[str, Any] = {"name": name, "description": description, "environmentId": environment_id,
                                "replicas": replicas}
        if hardware_tier_id is not None:
            body["hardwareTierId"] = hardware_tier_id
        reply = self._http.call("PUT", urls.model_api(model_api_id), json=body)
        return ModelApi.from_api(reply.body, reply.endpoint)

    def delete(self, model_api_id: str) -> None:
        """Delete a Model API."""
        self._http.call("DELETE", urls.model_api(model_api_id), expect="none")

    # --- versions -----------------------------------------------------------------------------

    def list_versions(self, model_api_id: str) -> tuple[ModelApiVersion, ...]:
        """Every version of a Model API (Domino answers them all in one list)."""
        reply = self._http.call("GET", urls.model_api_versions(model_api_id))
        return Page.from_api(reply.body, reply.endpoint, ModelApiVersion.from_api).items

    def get_version(self, model_api_id: str, version_id: str) -> ModelApiVersion:
        """One version, with its source, settings and deployment status."""
        reply = self._http.call("GET", urls.model_api_version(model_api_id, version_id))
        return ModelApiVersion.from_api(reply.body, reply.endpoint)

    def create_version(self, model_api_id: str, *, project_id: str, source: RegistrySource,
                       options: VersionOptions = VersionOptions(), request_id: str | None = None) -> ModelApiVersion:
        """Publish a new version built from the MLflow registry.

        Safe after an ambiguous failure: looks for a version with the same registry source and
        our request marker in its description before posting again.
        """
        request_id = request_id or self._new_request_id()
        body = _version_body(project_id, source, options, request_id)

        def post() -> ModelApiVersion:
            reply = self._http.call("POST", urls.model_api_versions(model_api_id), json=body)
            return ModelApiVersion.from_api(reply.body, reply.endpoint)

        def lookup() -> ModelApiVersion | None:
            return next((v for v in self.list_versions(model_api_id)
                         if v.source == source and v.request_id == request_id), None)

        what = (f"version of Model API {model_api_id} from "
                f"{source.registered_model_name} v{source.registered_model_version}")
        return self._http.create_idempotent(post, lookup, what=what)

    def logs(self, model_api_id: str, version_id: str, kind: str = "buildLogs") -> VersionLogs:
        """A version's ``buildLogs``, ``instanceLogs`` or ``exportLogs``."""
        reply = self._http.call("GET", urls.version_logs(model_api_id, version_id, kind))
        return VersionLogs.from_api(reply.body, reply.endpoint)

    # --- paging ----------------------------------------------------------------------------------

    def _all_pages(self, path_at: Callable[[int], str], item: Callable[..., T]) -> tuple[T, ...]:
        """Follow offset/limit until totalCount; a bare list (no paging) is the whole answer."""
        items: list[T] = []
        previous: tuple[T, ...] | None = None
        for pages in itertools.count(1):
            reply = self._http.call("GET", path_at(len(items)))
            page = Page.from_api(reply.body, reply.endpoint, item)
            check_next_page(page.items, previous, pages, reply.endpoint)
            items.extend(page.items)
            if not page.items or not _more(page, len(items)):
                return tuple(items)
            previous = page.items
        raise AssertionError("unreachable: itertools.count never ends")


def _more(page: Page[Any], seen: int) -> bool:
    if page.total_count is not None:
        return seen < page.total_count
    return page.limit is not None and len(page.items) >= page.limit


def _version_body(project_id: str, source: RegistrySource, options: VersionOptions, request_id: str) -> dict[str, Any]:
    """ModelApiVersionCreationRequest: projectId, source, logHttpRequestResponse and
    monitoringEnabled are required; the request marker rides in the description."""
    description = f"{options.description} {request_marker(request_id)}".strip()
    settings = options.settings
    return {
        "projectId": project_id, "source": source.to_api(), "description": description,
        "logHttpRequestResponse": settings.log_http_request_response,
        "monitoringEnabled": settings.monitoring_enabled, "recordInvocation": settings.record_invocation,
        "shouldDeploy": options.should_deploy,
    }
