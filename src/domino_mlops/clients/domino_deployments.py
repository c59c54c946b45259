"""Running Model API versions: start, stop, status (Domino's v4 model-manager routes), image
export to an external registry, and calling a deployed model.

Start and stop are POSTs, so they are not retried: after an ambiguous failure ask `status`
and decide. The registry password of an export travels only in the request body, which the
HTTP layer never logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domino_mlops.clients import domino_urls as urls
from domino_mlops.clients.domino_auth import ModelTokenAuth, NoCredential
from domino_mlops.clients.domino_serving_types import DeploymentStatus, ExportLogs, ExportStatus, Prediction
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
        """Ask Domino to deploy a version; poll `status` until it is running."""
        reply = self._http.call("POST", urls.start_deployment(model_api_id, version_id))
        return DeploymentStatus.from_v4(reply.body, reply.endpoint)

    def stop(self, model_api_id: str, version_id: str) -> DeploymentStatus:
        """Ask Domino to stop a version; the answer says ``not_running``."""
        reply = self._http.call("POST", urls.stop_deployment(model_api_id, version_id))
        return DeploymentStatus.from_v4(reply.body, reply.endpoint)

    def status(self, model_api_id: str, version_id: str) -> DeploymentStatus:
        """A version's deployment status, from the v4 model-manager route."""
        reply = self._http.call("GET", urls.deployment_status(model_api_id, version_id))
        return DeploymentStatus.from_v4(reply.body, reply.endpoint)

    def export_image(self, model_api_id: str, version_id: str, *, registry_url: str, username: str,
                     password: str, repository: str, tag: str) -> ExportStatus:
        """Push a version's image to an external registry; poll `export_status` with the id."""
        body = {"registryUrl": registry_url, "username": username, "password": password,
                "repository": repository, "tag": tag}
        reply = self._http.call("POST", urls.export_image(model_api_id, version_id), json=body)
        return ExportStatus.from_api(reply.body, reply.endpoint)

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
