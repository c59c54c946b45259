"""Domino apps, through the ``/v4/modelProducts`` routes the official client uses.

Creating an app is looked up by project and name after an ambiguous failure, so a retry never
leaves two apps of the same name. A start publishes a new instance; Domino keeps no app versions
to go back to, so putting the previous one back means starting again from what the app ran before
(its ``running_commit_id``, tier and environment: docs/JOBS_AND_APPS.md).

A running app's own pages are at the ``runningAppUrl`` its ModelProduct reports; ``page`` asks
one of them on the Domino host, with the Domino credential (Domino checks access at its proxy),
and never sends that credential to another host.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urlsplit

from requests.auth import AuthBase

from domino_mlops.clients import domino_urls as urls
from domino_mlops.clients.domino_app_types import VISIBILITIES, App, AppInstance, AppPage, app_id_from_api
from domino_mlops.clients.domino_auth import NoCredential
from domino_mlops.clients.domino_types import parse_list
from domino_mlops.clients.http import HttpClient
from domino_mlops.clients.json_fields import without_nulls
from domino_mlops.errors import BadResponse, ConfigError

PAGE_EXCERPT = 2000  # characters of an app's page kept in AppPage.text


class Apps:
    """Apps of Domino projects. Reached as ``DominoClient.apps``.

    ``pages_http`` is bound to the Domino host (not the API proxy) and sends no credential of its
    own; ``page_auth`` is the credential an app's page is asked with.
    """

    def __init__(self, http: HttpClient, *, pages_http: HttpClient | None = None,
                 page_auth: AuthBase | None = None) -> None:
        self._http = http
        self._pages_http = pages_http or http
        self._page_auth = page_auth or NoCredential()

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

    def create(self, project_id: str, name: str, *, description: str = "", visibility: str = "GRANT_BASED",
               entry_point: str | None = None, hardware_tier_id: str | None = None,
               environment_id: str | None = None) -> str:
        """Create an (unpublished) app and return its id; `start` publishes it.

        ``entry_point`` is the launch file (None: Domino's default, app.sh); no published route
        changes it later. ``visibility``: PUBLIC, AUTHENTICATED, GRANT_BASED (Domino's default)
        or GRANT_BASED_STRICT.
        """
        _check_visibility(visibility)
        body = _create_body(project_id, name, description=description, visibility=visibility,
                            entry_point=entry_point, hardware_tier_id=hardware_tier_id, environment_id=environment_id)

        def post() -> str:
            reply = self._http.call("POST", urls.create_app(), json=body)
            return app_id_from_api(reply.body, reply.endpoint)

        def lookup() -> str | None:
            found = self.find(project_id, name)
            return found.id if found else None

        return self._http.create_idempotent(post, lookup, what=f"app {name!r}")

    def start(self, app_id: str, *, hardware_tier_id: str | None = None, environment_id: str | None = None,
              external_volume_mount_ids: Sequence[str] | None = None, commit_id: str | None = None,
              branch: str | None = None) -> str | None:
        """Publish (start) the app; at most one of ``commit_id`` and ``branch``. Returns the new
        instance's id when Domino answers one (the v4 document: a ``DominoId``)."""
        if commit_id and branch:
            raise ConfigError("an app starts from a commit or a branch, not both",
                              hint="Pass either commit_id or branch.")
        ref = {"type": "branches", "value": branch} if branch else None
        body = {"hardwareTierId": hardware_tier_id, "environmentId": environment_id, "commitId": commit_id,
                "externalVolumeMountIds": list(external_volume_mount_ids) if external_volume_mount_ids else None,
                "mainRepoGitRef": ref}
        reply = self._http.call("POST", urls.start_app(app_id), json=without_nulls(body), expect="text")
        return _domino_id(reply.body)

    def stop(self, app_id: str) -> None:
        """Unpublish (stop) the app."""
        self._http.call("POST", urls.stop_app(app_id), expect="none")

    def set_visibility(self, app_id: str, visibility: str) -> None:
        """Who may open the app (v4 ``updateVisibility``); a running app keeps running."""
        _check_visibility(visibility)
        self._http.call("POST", urls.app_visibility(app_id), json={"visibility": visibility}, expect="none")

    def instances(self, app_id: str) -> tuple[AppInstance, ...]:
        """Every start of the app, oldest first (v4 ``getAllAppInstances``)."""
        reply = self._http.call("GET", urls.app_instances(app_id))
        return parse_list(reply.body, reply.endpoint, "items", AppInstance.from_api)

    def page(self, app: App, path: str = "/", *, authenticated: bool = True) -> AppPage:
        """GET ``path`` under the running app (``app.running_url``): its answer, or our error
        (503 while it is not serving, retried a few times like any GET; 401/403 when the
        credential may not open it). ``authenticated=False`` asks as an anonymous visitor would."""
        if not app.running_url:
            raise ConfigError(f"app {app.name or app.id!r} reports no running URL (status {app.status})",
                              hint="Wait until the app is Running before asking its pages.")
        where = _page_path(app.running_url, self._pages_http.base_url, path)
        started = time.monotonic()
        reply = self._pages_http.call("GET", where, auth=self._page_auth if authenticated else NoCredential(),
                                      expect="text")
        return AppPage(where, reply.status, str(reply.body)[:PAGE_EXCERPT], time.monotonic() - started)


def _page_path(running_url: str, host: str, path: str) -> str:
    """The path to ask on the Domino host: ``running_url`` (from the host, or absolute on it) and
    ``path`` under it. An absolute URL on another host is refused: the credential stays home."""
    parts, home = urlsplit(running_url), urlsplit(host)
    if parts.netloc and (parts.scheme, parts.netloc) != (home.scheme, home.netloc):
        raise BadResponse("Domino", "GET app", f"the app's runningAppUrl is on another host ({parts.netloc}); "
                          "not sending the Domino credential there")
    if not parts.path.startswith("/"):
        raise BadResponse("Domino", "GET app", f"the app's runningAppUrl {running_url!r} is not a path from the host")
    base = parts.path.rstrip("/")
    # The path comes from the manifest: quote what a URL cannot carry, keep its structure.
    return base + "/" + quote(path.lstrip("/"), safe="/?&=:@!$'()*+,;~%")


def _domino_id(body: str) -> str | None:
    """A ``DominoId`` answer: a JSON string (the v4 document), or nothing."""
    text = body.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return None


def _check_visibility(visibility: str) -> None:
    if visibility not in VISIBILITIES:
        raise ConfigError(f"{visibility!r} is not an app visibility", hint=f"Use one of: {', '.join(VISIBILITIES)}.")


def _create_body(project_id: str, name: str, *, description: str, visibility: str, entry_point: str | None,
                 hardware_tier_id: str | None, environment_id: str | None) -> dict[str, Any]:
    """A whole ModelProduct, as the v4 document requires of a create: Domino assigns the id (the
    all-zero one is a placeholder) and the times; ``created``/``lastUpdated`` are date-time strings
    there (python-domino sends epoch nanoseconds, which the document does not allow)."""
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    body: dict[str, Any] = {
        "modelProductType": "APP", "projectId": project_id, "name": name, "id": "000000000000000000000000",
        "created": now, "lastUpdated": now, "status": "", "media": [], "tags": [], "stats": {"usageCount": 0},
        "appExtension": {"appType": ""},
        "permissionsData": {"visibility": visibility, "accessRequestStatuses": {}, "pendingInvitations": [],
                            "discoverable": True, "appAccessStatus": "ALLOWED"},
    }
    return {**body, **without_nulls({"description": description or None, "entryPoint": entry_point,
                                     "hardwareTierId": hardware_tier_id, "environmentId": environment_id})}
