"""Domino apps, through the ``/v4/modelProducts`` routes the official client uses.

Creating an app is looked up by project and name after an ambiguous failure, so a retry never
leaves two apps of the same name.
"""

from __future__ import annotations

from datetime import datetime, timezone
from collections.abc import Sequence
from typing import Any

from domino_mlops.clients import domino_urls as urls
from domino_mlops.clients.domino_types import App, app_id_from_api, parse_list
from domino_mlops.clients.http import HttpClient
from domino_mlops.clients.json_fields import without_nulls
from domino_mlops.errors import ConfigError


class Apps:
    """Apps of Domino projects. Reached as ``DominoClient.apps``."""

    def __init__(self, http: HttpClient) -> None:
        self._http = http

    def list(self, project_id: str) -> tuple[App, ...]:
        """Every app of the project."""
        reply = self._http.call("GET", urls.apps(project_id))
        return parse_list(reply.body, reply.endpoint, "items", App.from_api)

    def find(self, project_id: str, name: str) -> App | None:
        """The app called exactly ``name`` in the project, or None."""
        return next((a for a in self.list(project_id) if a.name == name), None)

    def get(self, app_id: str) -> App:
        """One app with its status ("Running", "Pending", "Stopped", "Failed", ...)."""
        reply = self._http.call("GET", urls.app(app_id))
        return App.from_api(reply.body, reply.endpoint)

    def create(self, project_id: str, name: str) -> str:
        """Create an (unpublished) app and return its id; `start` publishes it."""
        body = _create_body(project_id, name)

        def post() -> str:
            reply = self._http.call("POST", urls.create_app(), json=body)
            return app_id_from_api(reply.body, reply.endpoint)

        def lookup() -> str | None:
            found = self.find(project_id, name)
            return found.id if found else None

        return self._http.create_idempotent(post, lookup, what=f"app {name!r}")

    def start(self, app_id: str, *, hardware_tier_id: str | None = None, environment_id: str | None = None,
              external_volume_mount_ids: Sequence[str] | None = None, commit_id: str | None = None,
              branch: str | None = None) -> None:
        """Publish (start) the app; at most one of ``commit_id`` and ``branch``."""
        if commit_id and branch:
            raise ConfigError("an app starts from a commit or a branch, not both",
                              hint="Pass either commit_id or branch.")
        ref = {"type": "branches", "value": branch} if branch else None
        body = {"hardwareTierId": hardware_tier_id, "environmentId": environment_id, "commitId": commit_id,
                "externalVolumeMountIds": list(external_volume_mount_ids) if external_volume_mount_ids else None,
                "mainRepoGitRef": ref}
        self._http.call("POST", urls.start_app(app_id),
                        json=without_nulls(body), expect="none")

    def stop(self, app_id: str) -> None:
        """Unpublish (stop) the app."""
        self._http.call("POST", urls.stop_app(app_id), expect="none")


def _create_body(project_id: str, name: str) -> dict[str, Any]:
    """A whole ModelProduct, as the v4 document requires of a create: Domino assigns the id (the
    all-zero one is a placeholder) and the times; ``created``/``lastUpdated`` are date-time strings
    there (python-domino sends epoch nanoseconds, which the document does not allow)."""
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "modelProductType": "APP", "projectId": project_id, "name": name, "id": "000000000000000000000000",
        "created": now, "lastUpdated": now, "status": "", "media": [], "tags": [], "stats": {"usageCount": 0},
        "appExtension": {"appType": ""},
        "permissionsData": {"visibility": "GRANT_BASED", "accessRequestStatuses": {}, "pendingInvitations": [],
                            "discoverable": True, "appAccessStatus": "ALLOWED"},
    }
