"""Apps (``/v4/modelProducts``): list, create, start, stop, status."""

from __future__ import annotations

from typing import Any

from domino_mlops.emulator import records as r
from domino_mlops.emulator import views
from domino_mlops.emulator.auth import Principal
from domino_mlops.emulator.context import Context
from domino_mlops.emulator.validate import Fields
from domino_mlops.emulator.web import Request, Router, bad_request
from domino_mlops.emulator.world import new_id

BASE = "/v4/modelProducts"


def register(router: Router) -> None:
    router.add("GET", BASE, list_apps)
    router.add("POST", BASE, create_app)
    router.add("GET", BASE + "/{appId}", get_app)
    router.add("POST", BASE + "/{appId}/start", start_app)
    router.add("POST", BASE + "/{appId}/stop", stop_app)


def list_apps(ctx: Context, req: Request, who: Principal) -> Any:
    project_id = req.query.get("projectId", "")
    if not project_id:
        raise bad_request("projectId is a required query parameter")
    who.require(ctx.world.project(project_id).id)
    now = ctx.now()
    apps = sorted((a for a in ctx.world.apps.values() if a.project_id == project_id), key=lambda a: a.created)
    return [views.app(a, now) for a in apps]


def create_app(ctx: Context, req: Request, who: Principal) -> Any:
    f = Fields(req.json(), "body")
    project_id = f.string("projectId")
    kind = f.string("modelProductType", required=False) or "APP"
    name = f.string("name", required=False)
    tier_id = f.string("hardwareTierId", required=False)
    if kind != "APP":
        f.errors.append("body.modelProductType must be APP")
    f.done()
    who.require(ctx.world.project(project_id).id)
    # The official client sends an all-zero "id" placeholder; the server always assigns its own.
    app = r.App(id=new_id(), project_id=project_id, name=name, created=ctx.now(), seconds=ctx.run_seconds(),
                hardware_tier_id=tier_id or None)
    ctx.world.apps[app.id] = app
    return views.app(app, app.created)


def get_app(ctx: Context, req: Request, who: Principal) -> Any:
    return views.app(_owned(ctx, req.params["appId"], who), ctx.now())


def start_app(ctx: Context, req: Request, who: Principal) -> Any:
    app = _owned(ctx, req.params["appId"], who)
    f = Fields(req.json() or {}, "body")
    tier_id = f.string("hardwareTierId", required=False)
    environment_id = f.string("environmentId", required=False)
    f.array("externalVolumeMountIds", required=False)
    f.mapping("mainRepoGitRef", required=False)
    f.done()
    if tier_id and tier_id not in {t.id for t in ctx.world.tiers_for(app.project_id)}:
        raise bad_request(f"hardware tier {tier_id!r} is not available to project {app.project_id!r}")
    if environment_id and environment_id not in ctx.world.environments:
        raise bad_request(f"environment {environment_id!r} does not exist")
    now = ctx.now()
    app.started, app.stopped_at, app.seconds = now, None, ctx.run_seconds()
    app.hardware_tier_id = tier_id or app.hardware_tier_id
    app.environment_id = environment_id or app.environment_id
    return views.app(app, now)


def stop_app(ctx: Context, req: Request, who: Principal) -> Any:
    app = _owned(ctx, req.params["appId"], who)
    now = ctx.now()
    if app.started is not None:
        app.stopped_at = now
    return views.app(app, now)


def _owned(ctx: Context, app_id: str, who: Principal) -> r.App:
    app = ctx.world.app(app_id)
    who.require(app.project_id)
    return app
