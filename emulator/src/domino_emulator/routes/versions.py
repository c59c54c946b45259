"""Model API versions and their build, instance and export logs (public API)."""

from __future__ import annotations

from typing import Any

from domino_emulator import deployments, exports, lifecycle
from domino_emulator.auth import Principal
from domino_emulator.context import Context
from domino_emulator.routes.models import BASE, owned_api
from domino_emulator.views import model_apis as views
from domino_emulator.web import Request, Response, Router, bad_request

VERSIONS = BASE + "/{modelApiId}/versions"
VERSION = VERSIONS + "/{modelApiVersionId}"
DEFAULT_MAX_RESULTS = 1000


def register(router: Router) -> None:
    router.add("GET", VERSIONS, list_versions)
    router.add("POST", VERSIONS, create_version)
    router.add("GET", VERSION, get_version)
    router.add("GET", VERSION + "/buildLogs", build_logs)
    router.add("GET", VERSION + "/instanceLogs", instance_logs)
    router.add("GET", VERSION + "/exportLogs", export_logs)


def _version(ctx: Context, req: Request, who: Principal) -> Any:
    api = owned_api(ctx, req.params["modelApiId"], who)
    return api, ctx.world.version(api.id, req.params["modelApiVersionId"])


def list_versions(ctx: Context, req: Request, who: Principal) -> Any:
    """A bare list, by ascending number: the route publishes no paging."""
    api = owned_api(ctx, req.params["modelApiId"], who)
    now = ctx.now()
    return [views.version(v, now) for v in ctx.world.versions_of(api.id)]


def create_version(ctx: Context, req: Request, who: Principal) -> Any:
    api = owned_api(ctx, req.params["modelApiId"], who)
    problems: list[str] = []
    spec = deployments.read_version(req.json_object(), "$", problems)
    project = ctx.world.project(api.project_id)
    if spec.project_id != api.project_id:
        problems.append(f"projectId {spec.project_id!r} is not the project of this model API")
    deployments.check_refs(ctx, project, spec, problems)
    if problems:
        raise bad_request(f"invalid model API version: {problems[0]}", problems)
    version = deployments.add_version(ctx, api, spec, who.username)
    return Response(201, views.version(version, ctx.now()))


def get_version(ctx: Context, req: Request, who: Principal) -> Any:
    _, version = _version(ctx, req, who)
    return views.version(version, ctx.now())


def build_logs(ctx: Context, req: Request, who: Principal) -> Any:
    _, version = _version(ctx, req, who)
    return views.build_logs(version, req.query.get("sinceTimeNano"))


def instance_logs(ctx: Context, req: Request, who: Principal) -> Any:
    api, version = _version(ctx, req, who)
    now = ctx.now()
    entries = list(version.instance_log)
    status = lifecycle.deployment_status(version, now)
    if status in (lifecycle.STARTING, lifecycle.RUNNING):
        since = lifecycle.running_at(version) if status == lifecycle.RUNNING else None
        entries.append({"time": since or now,
                        "log": f"model server {status.lower()}: {api.replicas} replica(s) on {api.hardware_tier_id}"})
    return views.instance_logs(version, entries, max_results=int(req.query.get("maxResults", DEFAULT_MAX_RESULTS)),
                               tail=req.query.get("tail", "false") == "true",
                               since_nano=req.query.get("sinceTimeNano"))


def export_logs(ctx: Context, req: Request, who: Principal) -> Any:
    _, version = _version(ctx, req, who)
    now = ctx.now()
    done = exports.of_version(ctx.world, version.id)
    entries = sorted((e for x in done for e in exports.log_entries(ctx.world, x, now)), key=lambda e: e["time"])
    status = exports.status(ctx.world, done[-1], now) if done else "none"
    return views.export_logs(version, entries, status, req.query.get("sinceTimeNano"))
