"""Apps (``/v4/modelProducts``): list, create, get, start, stop.

A create sends a whole ``ModelProduct`` (python-domino sends an all-zero ``id`` placeholder);
the server keeps the name, description and permissions and assigns its own id. Start and stop
answer the app instance's id (``DominoId``).
"""

from __future__ import annotations

from typing import Any

from domino_mlops.emulator import records as r
from domino_mlops.emulator.auth import Principal
from domino_mlops.emulator.context import Context
from domino_mlops.emulator.views import apps as views
from domino_mlops.emulator.web import Request, Router, bad_request
from domino_mlops.emulator.world import new_id

BASE = "/v4/modelProducts"


def register(router: Router) -> None:
    router.add("GET", BASE, list_apps)
    router.add("POST", BASE, create_app)
    router.add("GET", BASE + "/{modelProductId}", get_app)
    router.add("POST", BASE + "/{modelProductId}/start", start_app)
    router.add("POST", BASE + "/{modelProductId}/stop", stop_app)


def list_apps(ctx: Context, req: Request, who: Principal) -> Any:
    """The apps of ``projectId`` (required here: the emulator lists no one's apps across projects)."""
    project_id = req.query.get("projectId", "")
    if not project_id:
        raise bad_request("projectId is a required query parameter")
    who.require(ctx.world.project(project_id).id)
    if req.query.get("type", "APP") != "APP":
        return []  # the emulator has apps only
    now = ctx.now()
    apps = sorted((a for a in ctx.world.apps.values() if a.project_id == project_id), key=lambda a: a.created)
    return [views.model_product(a, now) for a in apps]


def create_app(ctx: Context, req: Request, who: Principal) -> Any:
    body = req.json_object()
    if body["modelProductType"] != "APP":
        raise bad_request(f"the emulator creates apps only (modelProductType APP), not {body['modelProductType']}")
    project = ctx.world.project(body["projectId"])
    who.require(project.id)
    tier_id = body.get("hardwareTierId")
    if tier_id and tier_id not in {t.id for t in ctx.world.tiers_for(project.id)}:
        raise bad_request(f"hardware tier {tier_id!r} is not available to project {project.id!r}")
    app = r.App(id=new_id(), project_id=project.id, name=body["name"], created=ctx.now(), seconds=ctx.run_seconds(),
                hardware_tier_id=tier_id or None, description=body.get("description") or "",
                permissions=dict(body["permissionsData"]))
    ctx.world.apps[app.id] = app
    return views.model_product(app, app.created)


def get_app(ctx: Context, req: Request, who: Principal) -> Any:
    return views.model_product(_owned(ctx, req.params["modelProductId"], who), ctx.now())


def start_app(ctx: Context, req: Request, who: Principal) -> Any:
    """``StartParams`` -> the new instance's id; the app goes Pending, then Running."""
    app = _owned(ctx, req.params["modelProductId"], who)
    body = req.json_object(required=False)
    tier_id, environment_id = body.get("hardwareTierId"), body.get("environmentId")
    problems = []
    if tier_id and tier_id not in {t.id for t in ctx.world.tiers_for(app.project_id)}:
        problems.append(f"hardware tier {tier_id!r} is not available to project {app.project_id!r}")
    if environment_id and environment_id not in ctx.world.environments:
        problems.append(f"environment {environment_id!r} does not exist")
    if problems:
        raise bad_request(problems[0], problems)
    now = ctx.now()
    app.started, app.stopped_at, app.seconds, app.instance_id = now, None, ctx.run_seconds(), new_id()
    app.hardware_tier_id = tier_id or app.hardware_tier_id
    app.environment_id = environment_id or app.environment_id
    return app.instance_id


def stop_app(ctx: Context, req: Request, who: Principal) -> Any:
    """The stopped instance's id (the app's own when it never ran)."""
    app = _owned(ctx, req.params["modelProductId"], who)
    if app.started is not None:
        app.stopped_at = ctx.now()
    return app.instance_id or app.id


def _owned(ctx: Context, app_id: str, who: Principal) -> r.App:
    app = ctx.world.app(app_id)
    who.require(app.project_id)
    return app
