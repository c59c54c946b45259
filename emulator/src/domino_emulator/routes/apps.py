"""Apps (``/v4/modelProducts``): list, create, get, start, stop, visibility, and their instances.

A create sends a whole ``ModelProduct`` (python-domino sends an all-zero ``id`` placeholder);
the server keeps the name, description, entry point and permissions and assigns its own id.
Every start makes a new app instance (answered as a ``DominoId``) at a project commit; the
instance goes Pending, then Running, or Failed when the app cannot start (the seed's
``failing_app_pattern`` matches its name, or the fault plan lists it in ``failing_apps``).
The instance's own pages are served by routes/app_pages.py.
"""

from __future__ import annotations

import re
from typing import Any

from domino_emulator import lifecycle
from domino_emulator import records as r
from domino_emulator.auth import Principal
from domino_emulator.context import Context
from domino_emulator.views import apps as views
from domino_emulator.web import Request, Router, bad_request
from domino_emulator.world import new_id

BASE = "/v4/modelProducts"


def register(router: Router) -> None:
    router.add("GET", BASE, list_apps)
    router.add("POST", BASE, create_app)
    router.add("GET", BASE + "/{modelProductId}", get_app)
    router.add("POST", BASE + "/{modelProductId}/start", start_app)
    router.add("POST", BASE + "/{modelProductId}/stop", stop_app)
    router.add("POST", BASE + "/{modelProductId}/visibility", set_visibility)
    router.add("GET", BASE + "/{modelProductId}/versions", instances)


def list_apps(ctx: Context, req: Request, who: Principal) -> Any:
    """The apps of ``projectId``, or without it (optional in the v4 document) every app the caller can see."""
    project_id = req.query.get("projectId", "")
    if project_id:
        who.require(ctx.world.project(project_id).id)
    if req.query.get("type", "APP") != "APP":
        return []  # the emulator has apps only
    now = ctx.now()
    apps = sorted((a for a in ctx.world.apps.values()
                   if (a.project_id == project_id if project_id else who.can(a.project_id))),
                  key=lambda a: a.created)
    return [views.model_product(a, ctx.world, now, ctx.faults.plan.app_host) for a in apps]


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
                hardware_tier_id=tier_id or None, environment_id=body.get("environmentId") or None,
                description=body.get("description") or "", permissions=dict(body["permissionsData"]),
                entry_point=body.get("entryPoint") or None)
    ctx.world.apps[app.id] = app
    return views.model_product(app, ctx.world, app.created, ctx.faults.plan.app_host)


def get_app(ctx: Context, req: Request, who: Principal) -> Any:
    return views.model_product(_owned(ctx, req.params["modelProductId"], who), ctx.world, ctx.now(),
                               ctx.faults.plan.app_host)


def start_app(ctx: Context, req: Request, who: Principal) -> Any:
    """``StartParams`` -> the new instance's id; the app goes Pending, then Running (or Failed).

    A start while an instance runs replaces it, as a publish of a new version does on Domino."""
    app = _owned(ctx, req.params["modelProductId"], who)
    body = req.json_object(required=False)
    # One app store behind both APIs: a v4 start is also a new version in the public API's view,
    # so a client reading the app through /api/apps/beta sees what runs (an emulator reading).
    version_id = new_id()
    instance = start(ctx, app, who, body.get("hardwareTierId"), body.get("environmentId"), _commit(body),
                     version_id=version_id)
    app.versions.append({"id": version_id, "created": ctx.now(), "hardware_tier_id": app.hardware_tier_id,
                         "environment_id": app.environment_id,
                         "git_ref": {"type": "commitId", "value": app.commit_id}, "publisher": who.username,
                         "instances": [instance]})
    return instance


def start(ctx: Context, app: r.App, who: Principal, tier_id: str | None, environment_id: str | None,
          commit: str | None, *, version_id: str | None = None) -> str:
    """Start a new instance of ``app`` (replacing the running one); 400 naming every problem.
    Shared by the v4 start and the public API's version create (routes/apps_public.py)."""
    project = ctx.world.project(app.project_id)
    problems = []
    if tier_id and tier_id not in {t.id for t in ctx.world.tiers_for(app.project_id)}:
        problems.append(f"hardware tier {tier_id!r} is not available to project {app.project_id!r}")
    if environment_id and environment_id not in ctx.world.environments:
        problems.append(f"environment {environment_id!r} does not exist")
    if commit and commit not in project.commits:
        problems.append(f"commit {commit!r} is not in project {project.id!r}")
    if problems:
        raise bad_request(problems[0], problems)
    now = ctx.now()
    _retire(app, now)
    app.started, app.stopped_at, app.seconds, app.instance_id = now, None, ctx.run_seconds(), new_id()
    app.hardware_tier_id = tier_id or app.hardware_tier_id
    app.environment_id = environment_id or app.environment_id
    app.commit_id, app.started_by = commit or project.commits[0], who.username
    app.version_id = version_id
    # A data plane that cannot serve (fault plan failing_tiers) fails an app started there too.
    app.fails = (_fails(ctx.world.failing_app_pattern, app.name) or app.name in ctx.faults.plan.failing_apps
                 or app.hardware_tier_id in ctx.faults.plan.failing_tiers)
    return app.instance_id


def stop_app(ctx: Context, req: Request, who: Principal) -> Any:
    """The stopped instance's id (the app's own when it never ran)."""
    app = _owned(ctx, req.params["modelProductId"], who)
    if app.started is not None and app.stopped_at is None:
        app.stopped_at = ctx.now()
    return app.instance_id or app.id


def set_visibility(ctx: Context, req: Request, who: Principal) -> Any:
    """``VisibilityPatch`` -> the app's id; the running instance is not restarted."""
    app = _owned(ctx, req.params["modelProductId"], who)
    app.permissions = {**(app.permissions or views.DEFAULT_PERMISSIONS), "visibility": req.json_object()["visibility"]}
    return app.id


def instances(ctx: Context, req: Request, who: Principal) -> Any:
    """Every instance of the app, oldest first (``AppInstanceOverview``)."""
    app = _owned(ctx, req.params["modelProductId"], who)
    return views.instances(app, ctx.now())


def _retire(app: r.App, now: float) -> None:
    """Move the current instance into the app's history before a new one starts."""
    if app.instance_id is None or app.started is None:
        return
    status = lifecycle.app_status(app, now)
    app.history.append({
        "id": app.instance_id, "started": app.started, "ended": app.stopped_at if app.stopped_at else now,
        "commit_id": app.commit_id, "hardware_tier_id": app.hardware_tier_id, "environment_id": app.environment_id,
        "started_by": app.started_by, "status": "Failed" if status == "Failed" else "Stopped",
        "version_id": app.version_id,
    })


def _commit(body: dict[str, Any]) -> str | None:
    """``commitId``, or a ``mainRepoGitRef`` of type commitId (python-domino's app_publish); a
    branch runs the project's newest commit (the emulator keeps no branches)."""
    ref = body.get("mainRepoGitRef") or {}
    if ref.get("type") == "commitId" and ref.get("value"):
        return str(ref["value"])
    return body.get("commitId") or None


def _fails(pattern: str, name: str) -> bool:
    try:
        return bool(pattern) and re.search(pattern, name, re.IGNORECASE) is not None
    except re.error:
        return pattern.lower() in name.lower()


def _owned(ctx: Context, app_id: str, who: Principal) -> r.App:
    app = ctx.world.app(app_id)
    who.require(app.project_id)
    return app
