"""A running app's own pages, behind Domino's proxy: ``/<owner>/<project>/r/notebookSession/<instance>/...``.

This is the URL a ``ModelProduct`` reports as ``runningAppUrl`` (Domino support: "App URLs and
URL parameters"); every path under it reaches the app. The emulated app answers each with a small
HTML page while its instance is the app's current one and Running, and 503 otherwise (Pending,
Failed, stopped, or replaced by a newer start).

Domino checks access at the proxy, before the app sees a request: a PUBLIC app takes anyone,
an AUTHENTICATED one any Domino user, a GRANT_BASED or GRANT_BASED_STRICT one only users with
access (here: a credential of the app's project). The proxy's credential styles are the API's
(``X-Domino-Api-Key`` or a Bearer token): *unverified*, Domino's browsers carry a session.
"""

from __future__ import annotations

from typing import Any

from domino_emulator import auth, lifecycle
from domino_emulator import records as r
from domino_emulator.context import Context
from domino_emulator.views import apps as views
from domino_emulator.web import ApiError, Request, Response, Router

TEMPLATE = "/{ownerName}/{projectName}/r/notebookSession/{runId}"


def register(router: Router) -> None:
    router.add("GET", TEMPLATE, app_page, auth=auth.NONE)


def app_page(ctx: Context, req: Request, who: None) -> Any:
    project = ctx.world.find_project(req.params["ownerName"], req.params["projectName"])
    if project is None:
        raise ApiError(404, f"project {req.params['ownerName']}/{req.params['projectName']} not found")
    app = _app_of_instance(ctx, project.id, req.params["runId"])
    _check_access(ctx, app, req.headers)
    status = lifecycle.app_status(app, ctx.now())
    if app.instance_id != req.params["runId"]:
        raise ApiError(503, f"app {app.name!r}: this instance was replaced by a newer start")
    if status != "Running":
        raise ApiError(503, f"app {app.name!r} is not running (status {status})")
    prefix = views.session_url(app, ctx.world, app.instance_id).rstrip("/")
    return Response(200, views.page(app, req.path[len(prefix):]), content_type="text/html; charset=utf-8")


def _app_of_instance(ctx: Context, project_id: str, instance_id: str) -> r.App:
    for app in ctx.world.apps.values():
        if app.project_id == project_id and (app.instance_id == instance_id
                                             or any(past["id"] == instance_id for past in app.history)):
            return app
    raise ApiError(404, f"no app session {instance_id!r} in this project")


def _check_access(ctx: Context, app: r.App, headers: dict[str, str] | Any) -> None:
    visibility = (app.permissions or views.DEFAULT_PERMISSIONS).get("visibility", "GRANT_BASED")
    if visibility == "PUBLIC":
        return
    who = auth.authenticate(ctx.world, headers)  # 401 without a known credential
    if visibility != "AUTHENTICATED":
        who.require(app.project_id)  # 403: the app is for its project's users (and invitees)
