"""Running Model API versions: start, stop, status (Domino's v4 model-manager routes), image
export to an external registry, and calling a deployed model.

Start and stop are POSTs, so they are never retried blindly: `start` looks the Model API up after
an ambiguous failure and sends the start again only if it did not happen. The registry password
of an export travels only in the request body, which the HTTP layer never logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domino_mlops.clients.domino import urls as urls
from domino_mlops.clients.domino.auth import ModelTokenAuth, NoCredential
from domino_mlops.clients.domino.serving_types import (
    DeploymentStatus,
    ExportLogs,
    ExportStatus,
    ModelApi,
    Prediction,
    RequestCount,
    ResourceUse,
    snapshots,
)
from domino_mlops.clients.http import HttpClient


class ModelDeployments:
    """Model API versions at run time. Reached as ``DominoClient.deployments``."""

    def __init__(self, http: HttpClient, models_http: HttpClient) -> None:
        self._http = http
        self._models_http = models_http  # the Domino host itself, credentials per call

    def close(self) -> None:
        if self._models_http is not self._http:
            self._models_http.close()

    def start(self, model_api_id: str, version_id: str) -> DeploymentStatus:
        """Ask Domino to deploy a version; poll `status` until it is running.

        After an ambiguous failure (connection lost, 429, 5xx) the start is sent again only if the
        Model API's active version is not this one, on its way up, yet (``create_idempotent``).
        """
        def post() -> DeploymentStatus:
            reply = self._http.call("POST", urls.start_deployment(model_api_id, version_id))
            return DeploymentStatus.from_v4(reply.body, reply.endpoint)

        def lookup() -> DeploymentStatus | None:
            reply = self._http.call("GET", urls.model_api(model_api_id))
            active = ModelApi.from_api(reply.body, reply.endpoint).active_version
            status = active.deployment if active is not None and active.id == version_id else None
            return None if status is None or status.is_stopped or status.is_failed else status

        return self._http.create_idempotent(post, lookup, what=f"start of version {version_id} of {model_api_id}")

    def http_requests(self, model_api_id: str, version_id: str, *, minutes: int,
                      limit: int = 1000) -> tuple[RequestCount, ...]:
        """The calls a version answered over the last ``minutes``, per status (and per time slice)."""
        reply = self._http.call("GET", urls.http_requests(model_api_id, version_id, minutes=minutes, limit=limit))
        return snapshots(reply.body, reply.endpoint, RequestCount.from_api)

    def usage(self, model_api_id: str, version_id: str, *, limit: int = 1000) -> tuple[ResourceUse, ...]:
        """The cpu and memory of a version's pods, newest last (``limit`` snapshots at most)."""
        reply = self._http.call("GET", urls.resource_usage(model_api_id, version_id, limit=limit))
        return snapshots(reply.body, reply.endpoint, ResourceUse.from_api)

    def stop(self, model_api_id: str, version_id: str) -> DeploymentStatus:
        """Ask Domino to stop a version; the answer says ``not_running``."""
        reply = self._http.call("POST", urls.stop_deployment(model_api_id, version_id))
        return DeploymentStatus.from_v4(reply.body, reply.endpoint)

    def status(self, model_api_id: str, version_id: str) -> DeploymentStatus:
        """A version's deployment status, from the v4 model-manager route."""
        reply = self._http.call("GET", urls.deployment_status(model_api_id, version_id))
        return DeploymentStatus.from_v4(reply.body, reply.endpoint)

    def export_image(self, model_api_id: str, version_id: str, *, registry_url: str, username: str | None,
                     password: str | None, repository: str, tag: str) -> ExportStatus:
        """Push a version's image to an external registry; poll `export_status` with the id."""
        body = {"registryUrl": registry_url, "username": username, "password": password,
                "repository": repository, "tag": tag}
        reply = self._http.call("POST", urls.export_image(model_api_id, version_id), json=body)
        return ExportStatus.from_started(reply.body, reply.endpoint)

    def export_status(self, export_id: str) -> ExportStatus:
        """Where an image export is: poll until ``is_complete`` or ``is_failed``."""
        reply = self._http.call("GET", urls.export_status(export_id))
        return ExportStatus.from_api(reply.body, reply.endpoint)

    def export_logs(self, export_id: str) -> ExportLogs:
        """An image export's log, as one text."""
        reply = self._http.call("GET", urls.export_logs(export_id))
        return ExportLogs.from_api(reply.body, reply.endpoint)

    def predict(self, model_api_id: str, data: Mapping[str, Any], *, token: str | None,
                token_source: str = "the Model API access token") -> Prediction:
        """Call a deployed model synchronously: ``{"data": data}`` (named arguments, or columns
        of several rows), with one of the Model API's access tokens, or ``token=None`` for a
        public Model API. ``token_source`` names where the token came from in a 401 message.

        One call, never retried here: the smoke test decides what is safe to repeat.
        """
        auth = NoCredential() if token is None else ModelTokenAuth(token, source=token_source)
        reply = self._models_http.call("POST", urls.model_invocation(model_api_id), json={"data": dict(data)},
                                       auth=auth)
        return Prediction.from_api(reply.body, reply.endpoint)
