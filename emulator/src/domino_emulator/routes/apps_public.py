"""Apps through the public API 6.3 (``/api/apps/beta/apps``): apps with versions and instances.

The document's shapes: a create (``AppCreationRequest``) carries the first version, and a new
version (``AppVersionCreationRequest``: git ref, hardware tier, compute environment) is a new
publish: the emulator starts an instance of it and retires the running one, as the v4 start does
(an emulator reading: the document has no separate "start" route, and ``AppVersionResponse``
reports the version's ``currentInstance``). ``PATCH`` of the app changes its entry point,
visibility, name or description; with a ``version`` it also publishes that version. Stopping is
``DELETE`` of the running instance. The apps are the v4 model products' (routes/apps.py): one app,
seen through either API.

With the fault plan's ``v4_apps_only`` the emulator is a Domino that predates this API: every
route here answers the gateway's 404, as an unknown route does.
"""

from __future__ import annotations

from typing import Any

from domino_emulator import records as r
from domino_emulator.auth import Principal
from domino_emulator.context import Context
from domino_emulator.routes.apps import start
from domino_emulator.views import apps as views
from domino_emulator.views import paged_metadata
from domino_emulator.web import ApiError, Request, Router, bad_request, not_found
from domino_emulator.world import new_id

BASE = "/api/apps/beta/apps"
APP = BASE + "/{appId}"
VERSIONS = APP + "/versions"
VERSION = VERSIONS + "/{versionId}"
INSTANCES = VERSION + "/instances"
INSTANCE = INSTANCES + "/{instanceId}"


def register(router: Router) -> None:
    router.add("GET", BASE, _published(list_apps))
    router.add("POST", BASE, _published(create_app))
    router.add("GET", APP, _published(get_app))
    router.add("PATCH", APP, _published(update_app))
    router.add("GET", VERSIONS, _published(list_versions))
    router.add("POST", VERSIONS, _published(create_version))
    router.add("GET", VERSION, _published(get_version))
    router.add("GET", INSTANCES, _published(list_instances))
    router.add("GET", INSTANCE, _published(get_instance))
    router.add("DELETE", INSTANCE, _published(stop_instance))


def _published(handler: Any) -> Any:
    """The handler, unless this Domino predates the API: then the gateway's "no such route"."""

    def handle(ctx: Context, req: Request, who: Principal) -> Any:
        if ctx.faults.plan.v4_apps_only:
            raise ApiError(404, f"no such route: {req.method} {req.path}")
        return handler(ctx, req, who)

    handle.__doc__ = handler.__doc__
    return handle


def list_apps(ctx: Context, req: Request, who: Principal) -> Any:
    """``ListAppsResponse``: the apps of ``projectId`` (optional: every project the caller can
    open), filtered by exact ``name``, oldest first, ``offset``/``limit`` applied."""
    project_id = req.query.get("projectId", "")
    if project_id:
        who.require(ctx.world.project(project_id).id)
    name = req.query.get("name", "")
    apps = sorted((a for a in ctx.world.apps.values()
                   if (a.project_id == project_id if project_id else who.can(a.project_id))
                   and (not name or a.name == name)), key=lambda a: a.created)
    offset, limit = _int(req, "offset", 0), _int(req, "limit", len(apps))
    now, host = ctx.now(), ctx.faults.plan.app_host
    items = [views.public_app(a, ctx.world, now, host, summary=True) for a in apps[offset:offset + limit]]
    return {"items": items, "metadata": paged_metadata(offset, limit, len(apps))}


def create_app(ctx: Context, req: Request, who: Principal) -> Any:
    """``AppCreationRequest`` -> ``AppResponse``: the app and its first version, published."""
    body = req.json_object()
    project = ctx.world.project(body["projectId"])
    who.require(project.id)
    permissions = {**views.DEFAULT_PERMISSIONS, "visibility": body["visibility"],
                   "discoverable": body.get("discoverable", True)}
    app = r.App(id=new_id(), project_id=project.id, name=body["name"], created=ctx.now(), seconds=ctx.run_seconds(),
                description=body.get("description") or "", permissions=permissions,
                entry_point=body.get("entryPoint") or None)
    _publish(ctx, app, who, body["version"])  # checks the version before the app exists
    ctx.world.apps[app.id] = app
    return views.public_app(app, ctx.world, ctx.now(), ctx.faults.plan.app_host)


def get_app(ctx: Context, req: Request, who: Principal) -> Any:
    return views.public_app(_owned(ctx, req, who), ctx.world, ctx.now(), ctx.faults.plan.app_host)


def update_app(ctx: Context, req: Request, who: Principal) -> Any:
    """``AppUpdateRequest`` -> ``AppResponse``; a running instance keeps running unless a
    ``version`` is given (a new publish)."""
    app = _owned(ctx, req, who)
    body = req.json_object()
    if "version" in body:
        _publish(ctx, app, who, body["version"])
    if "entryPoint" in body:
        app.entry_point = body["entryPoint"] or None
    if "visibility" in body:
        app.permissions = {**(app.permissions or views.DEFAULT_PERMISSIONS), "visibility": body["visibility"]}
    app.name = body.get("name", app.name)
    app.description = body.get("description", app.description)
    return views.public_app(app, ctx.world, ctx.now(), ctx.faults.plan.app_host)


def list_versions(ctx: Context, req: Request, who: Principal) -> Any:
    """``ListAppVersionsResponse``: every version, oldest first."""
    app, now = _owned(ctx, req, who), ctx.now()
    items = [views.public_version(app, v, now) for v in app.versions]
    return {"items": items, "metadata": paged_metadata(0, len(items), len(items))}


def create_version(ctx: Context, req: Request, who: Principal) -> Any:
    """``AppVersionCreationRequest`` -> ``AppVersionResponse``: a new version, published."""
    app = _owned(ctx, req, who)
    version = _publish(ctx, app, who, req.json_object())
    return views.public_version(app, version, ctx.now())


def get_version(ctx: Context, req: Request, who: Principal) -> Any:
    app = _owned(ctx, req, who)
    return views.public_version(app, _version(app, req), ctx.now())


def list_instances(ctx: Context, req: Request, who: Principal) -> Any:
    """``ListAppInstancesResponse``: the version's instances, oldest first."""
    app = _owned(ctx, req, who)
    now = ctx.now()
    items = [views.public_instance(app, i, now) for i in _version(app, req)["instances"]]
    return {"items": items, "metadata": paged_metadata(0, len(items), len(items))}


def get_instance(ctx: Context, req: Request, who: Principal) -> Any:
    """``AppInstanceResponse`` (no resource usage is emulated: an empty series)."""
    app = _owned(ctx, req, who)
    return {**views.public_instance(app, _instance(app, req), ctx.now()), "resourceUsage": []}


def stop_instance(ctx: Context, req: Request, who: Principal) -> Any:
    """Stop the instance (a past one is already stopped); 200 with no body."""
    app = _owned(ctx, req, who)
    if _instance(app, req) == app.instance_id and app.started is not None and app.stopped_at is None:
        app.stopped_at = ctx.now()
    return None


def _publish(ctx: Context, app: r.App, who: Principal, spec: dict[str, Any]) -> dict[str, Any]:
    """Record a version from ``AppVersionCreationRequest`` and start an instance of it."""
    ref = spec.get("gitRef") or {}
    if ref.get("type") == "commitId" and not ref.get("value"):
        raise bad_request("gitRef of type commitId needs a value")
    commit = ref.get("value") if ref.get("type") == "commitId" else None  # a branch: the newest commit
    version = {"id": new_id(), "created": ctx.now(), "hardware_tier_id": spec.get("hardwareTierId") or None,
               "environment_id": spec.get("environmentId") or None, "git_ref": dict(ref) if ref else None,
               "publisher": who.username, "instances": []}
    instance = start(ctx, app, who, version["hardware_tier_id"], version["environment_id"], commit,
                     version_id=version["id"])
    version["hardware_tier_id"] = app.hardware_tier_id  # what it runs on when the request named none
    version["environment_id"] = app.environment_id
    version["instances"].append(instance)
    app.versions.append(version)
    return version


def _version(app: r.App, req: Request) -> dict[str, Any]:
    found = next((v for v in app.versions if v["id"] == req.params["versionId"]), None)
    if found is None:
        raise not_found("app version", req.params["versionId"])
    return found


def _instance(app: r.App, req: Request) -> str:
    instance = req.params["instanceId"]
    if instance not in _version(app, req)["instances"]:
        raise not_found("app instance", instance)
    return instance


def _owned(ctx: Context, req: Request, who: Principal) -> r.App:
    app = ctx.world.app(req.params["appId"])
    who.require(app.project_id)
    return app


def _int(req: Request, name: str, default: int) -> int:
    text = req.query.get(name, "")
    if not text:
        return default
    if not text.isdigit():
        raise bad_request(f"{name} must be a whole number, not {text!r}")
    return int(text)
