"""Domino apps: through the public Apps API (6.3, ``/api/apps/beta/apps``: apps with versions and
instances) where Domino publishes it, else through the ``/v4/modelProducts`` routes the official
client uses (older Domino versions). Which one is decided once per client by asking the public
list with no project: the gateway's 404 means a Domino that predates it (CONTRACT_DECISIONS.md).

Public API: a publish is a new app version (``POST .../versions``); the entry point is changed
with ``PATCH`` of the app; a put-back publishes the previous version's definition again (tier,
compute environment, commit, entry point). v4: a start publishes a new instance; a running app
is stopped first, as python-domino's ``app_publish`` and Domino's maintenance tool do.

Creating an app is looked up by project and name after an ambiguous failure, so a retry never
leaves two apps of the same name.

A running app's own pages are at the URL the app reports (``runningAppUrl``, the public ``url``).
``page`` asks one with the Domino credential only when that URL is on the Domino host (Domino
checks access at its proxy); an app served on another host is asked as an anonymous visitor, so
the credential never leaves home. A redirect is never followed: it is reported (a login page).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote, urlsplit

from requests.auth import AuthBase

from domino_mlops.clients.domino import urls as urls
from domino_mlops.clients.domino.app_types import (
    VISIBILITIES,
    App,
    AppInstance,
    AppPage,
    Published,
    app_id_from_api,
)
from domino_mlops.clients.domino.auth import NoCredential
from domino_mlops.clients.domino.types import parse_list
from domino_mlops.clients.http import HttpClient
from domino_mlops.clients.json_fields import Fields, without_nulls
from domino_mlops.errors import AuthenticationFailed, BadResponse, ConfigError, NotFound, PermissionDenied, Redirected

PAGE_EXCERPT = 2000  # characters of an app's page kept in AppPage.text


class Apps:
    """Apps of Domino projects. Reached as ``DominoClient.apps``.

    ``pages_http`` is bound to the Domino host (not the API proxy) and sends no credential of its
    own; ``page_auth`` is the credential an app's page is asked with.
    """

    def __init__(self, http: HttpClient, *, pages_http: HttpClient | None = None,
                 page_auth: AuthBase | None = None, public_api: bool | None = None) -> None:
        self._http = http
        self._pages_http = pages_http or http
        self._page_auth = page_auth or NoCredential()
        self._public = public_api  # None: ask Domino once (public_api())

    def public_api(self) -> bool:
        """Whether this Domino serves the public Apps API: one GET of its list (no project, one
        item), asked once; a 404 there can only mean the route is missing (a Domino before it)."""
        if self._public is None:
            try:
                self._http.call("GET", urls.public_apps(limit=1))
                self._public = True
            except NotFound:
                self._public = False
        return self._public

    def list(self, project_id: str) -> tuple[App, ...]:
        """Every app of the project."""
        if self.public_api():
            reply = self._http.call("GET", urls.public_apps(project_id))
            return parse_list(reply.body, reply.endpoint, "items", App.from_public)
        reply = self._http.call("GET", urls.apps(project_id))
        return parse_list(reply.body, reply.endpoint, "items", App.from_api)

    def find(self, project_id: str, name: str) -> App | None:
        """The app called exactly ``name`` in the project, or None."""
        return next((a for a in self.list(project_id) if a.name == name), None)

    def get(self, app_id: str) -> App:
        """One app with its status ("Running", "Pending", "Stopped", "Failed", ...)."""
        if self.public_api():
            reply = self._http.call("GET", urls.public_app(app_id))
            return App.from_public(reply.body, reply.endpoint)
        reply = self._http.call("GET", urls.app(app_id))
        return App.from_api(reply.body, reply.endpoint)

    def publish(self, project_id: str, name: str, *, app_id: str | None = None, visibility: str = "GRANT_BASED",
                entry_point: str | None = None, hardware_tier_id: str | None = None,
                environment_id: str | None = None, commit_id: str | None = None,
                branch: str | None = None) -> Published:
        """Run the app as asked: create it (``app_id`` None) and publish it, or publish it again.

        Public API: a create carries the first version; an existing app gets a new version, after
        a ``PATCH`` of its entry point when ``entry_point`` differs. v4: the app is created, or
        stopped when it runs (python-domino's ``unpublish_running_apps``), then started; the
        entry point is set only at creation there (no v4 route changes it)."""
        if commit_id and branch:
            raise ConfigError("an app starts from a commit or a branch, not both",
                              hint="Pass either commit_id or branch.")
        _check_visibility(visibility)
        if not self.public_api():
            return self._publish_v4(project_id, name, app_id=app_id, visibility=visibility, entry_point=entry_point,
                                    hardware_tier_id=hardware_tier_id, environment_id=environment_id,
                                    commit_id=commit_id, branch=branch)
        version = _version_body(hardware_tier_id, environment_id, commit_id, branch)
        if app_id is None:
            body = without_nulls({"name": name, "projectId": project_id, "visibility": visibility,
                                  "entryPoint": entry_point, "version": version})

            def post() -> App:
                reply = self._http.call("POST", urls.PUBLIC_APPS, json=body)
                return App.from_public(reply.body, reply.endpoint)

            made = self._http.create_idempotent(post, lambda: self.find(project_id, name), what=f"app {name!r}")
            return Published(made.id, created=True, version_id=made.version_id, instance_id=made.latest_instance_id)
        patched = False
        if entry_point is not None and self.get(app_id).entry_point != entry_point:
            self._http.call("PATCH", urls.public_app(app_id), json={"entryPoint": entry_point})
            patched = True
        reply = self._http.call("POST", urls.public_app_versions(app_id), json=version)
        made_version = Fields(reply.body, reply.endpoint)
        current = made_version.opt_obj("currentInstance")
        return Published(app_id, created=False, version_id=made_version.req_str("id"),
                         instance_id=current.opt_str("id") if current else None, entry_point_changed=patched)

    def _publish_v4(self, project_id: str, name: str, *, app_id: str | None, visibility: str,
                    entry_point: str | None, hardware_tier_id: str | None, environment_id: str | None,
                    commit_id: str | None, branch: str | None) -> Published:
        created = app_id is None
        if app_id is None:
            app_id = self.create(project_id, name, visibility=visibility, entry_point=entry_point,
                                 hardware_tier_id=hardware_tier_id, environment_id=environment_id)
        else:
            self.stop(self.get(app_id))  # a no-op when nothing runs
        instance = self.start(app_id, hardware_tier_id=hardware_tier_id, environment_id=environment_id,
                              commit_id=commit_id, branch=branch)
        return Published(app_id, created=created, instance_id=instance)

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

    def stop(self, app: App | str) -> bool:
        """Unpublish (stop) the app when it is on its way or running (python-domino's
        ``app_unpublish`` leaves a Stopped or Failed app alone); True when a stop was sent.
        Public API: ``DELETE`` of the current version's current instance. An id (v4 only) is
        stopped whatever it does."""
        if isinstance(app, App) and (app.is_stopped or app.is_failed):
            return False
        if isinstance(app, App) and app.api == "public":
            if not (app.version_id and app.latest_instance_id):
                return False
            self._http.call("DELETE", urls.public_app_instance(app.id, app.version_id, app.latest_instance_id),
                            expect="none")
            return True
        self._http.call("POST", urls.stop_app(app.id if isinstance(app, App) else app), expect="none")
        return True

    def set_visibility(self, app_id: str, visibility: str) -> None:
        """Who may open the app (public ``PATCH``, v4 ``updateVisibility``); a running app keeps running."""
        _check_visibility(visibility)
        if self.public_api():
            self._http.call("PATCH", urls.public_app(app_id), json={"visibility": visibility})
            return
        self._http.call("POST", urls.app_visibility(app_id), json={"visibility": visibility}, expect="none")

    def instances(self, app_id: str) -> tuple[AppInstance, ...]:
        """Every start of the app, oldest first (v4 ``getAllAppInstances``)."""
        reply = self._http.call("GET", urls.app_instances(app_id))
        return parse_list(reply.body, reply.endpoint, "items", AppInstance.from_api)

    def page(self, app: App, path: str = "/", *, authenticated: bool = True) -> AppPage:
        """GET ``path`` under the running app (``app.running_url``): its answer, or our error
        (503 while it is not serving, retried a few times like any GET; 401/403 when the
        credential may not open it). ``authenticated=False`` asks as an anonymous visitor would.

        Not verified (``AppPage.verified`` False, no error): a redirect (Domino's login page), and
        a 401/403 on another host, where no credential was sent."""
        if not app.running_url:
            raise ConfigError(f"app {app.name or app.id!r} reports no running URL (status {app.status})",
                              hint="Wait until the app is Running before asking its pages.")
        origin, where = _page_target(app.running_url, self._pages_http.base_url, path)
        home = origin is None
        http = self._pages_http if home else HttpClient(origin, NoCredential(), service="the app's host",
                                                        timeout=self._pages_http.timeout)
        credential = home and authenticated
        started = time.monotonic()
        shown = where if home else origin + where
        try:
            reply = http.call("GET", where, auth=self._page_auth if credential else NoCredential(), expect="text")
        except Redirected as exc:
            return AppPage(shown, exc.status, "", time.monotonic() - started, credential=credential,
                           redirect=exc.location)
        except (AuthenticationFailed, PermissionDenied) as exc:
            if home:  # Domino's own answer about this visitor (with or without the credential)
                raise
            status = 401 if isinstance(exc, AuthenticationFailed) else 403
            return AppPage(shown, status, "", time.monotonic() - started, credential=False)
        return AppPage(shown, reply.status, str(reply.body)[:PAGE_EXCERPT], time.monotonic() - started,
                       credential=credential)


def _page_target(running_url: str, host: str, path: str) -> tuple[str | None, str]:
    """(the origin to ask when it is not the Domino host, else None; the path to ask there):
    ``running_url`` (from the host, or absolute) and ``path`` under it."""
    parts, home = urlsplit(running_url), urlsplit(host)
    origin = None
    if parts.netloc and (parts.scheme, parts.netloc) != (home.scheme, home.netloc):
        if parts.scheme not in ("http", "https"):
            raise BadResponse("Domino", "GET app", f"the app's URL {running_url!r} is not an http(s) URL")
        origin = f"{parts.scheme}://{parts.netloc}"
    if not parts.path.startswith("/"):
        raise BadResponse("Domino", "GET app", f"the app's runningAppUrl {running_url!r} is not a path from the host")
    base = parts.path.rstrip("/")
    # The path comes from the manifest: quote what a URL cannot carry, keep its structure.
    return origin, base + "/" + quote(path.lstrip("/"), safe="/?&=:@!$'()*+,;~%")


def _version_body(hardware_tier_id: str | None, environment_id: str | None, commit_id: str | None,
                  branch: str | None) -> dict[str, Any]:
    """``AppVersionCreationRequest``: where and what the version runs (nulls left out)."""
    ref = ({"type": "commitId", "value": commit_id} if commit_id else
           {"type": "branches", "value": branch} if branch else None)
    return without_nulls({"hardwareTierId": hardware_tier_id, "environmentId": environment_id, "gitRef": ref})


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
