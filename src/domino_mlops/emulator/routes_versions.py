"""Model API versions, their logs, and the access tokens that callers of a model use."""

from __future__ import annotations

import secrets
from typing import Any

from domino_mlops.emulator import deployments, lifecycle, views
from domino_mlops.emulator.auth import Principal
from domino_mlops.emulator.context import Context
from domino_mlops.emulator.routes_models import BASE, owned_api, paging
from domino_mlops.emulator.validate import Fields
from domino_mlops.emulator.web import Request, Response, Router, bad_request
from domino_mlops.emulator.world import new_id

VERSIONS = BASE + "/{modelApiId}/versions"


def register(router: Router) -> None:
    router.add("GET", VERSIONS, list_versions)
    router.add("POST", VERSIONS, create_version)
    router.add("GET", VERSIONS + "/{versionId}", get_version)
    router.add("GET", VERSIONS + "/{versionId}/buildLogs", build_logs)
    router.add("GET", VERSIONS + "/{versionId}/instanceLogs", instance_logs)
    router.add("GET", BASE + "/{modelApiId}/accessTokens", list_tokens)
    router.add("POST", BASE + "/{modelApiId}/accessTokens", create_token)


def list_versions(ctx: Context, req: Request, who: Principal) -> Any:
    api = owned_api(ctx, req.params["modelApiId"], who)
    offset, limit = paging(req)
    now = ctx.now()
    return views.page([views.version(v, now) for v in ctx.world.versions_of(api.id)], offset, limit)


def create_version(ctx: Context, req: Request, who: Principal) -> Any:
    api = owned_api(ctx, req.params["modelApiId"], who)
    f = Fields(req.json(), "version")
    spec = deployments.read_version(f)
    if spec["project_id"] and spec["project_id"] != api.project_id:
        f.errors.append(f"version.projectId {spec['project_id']!r} is not the project of this model API")
    f.done()
    version = deployments.add_version(ctx, api, spec, who.username)
    return Response(201, views.version(version, ctx.now()))


def get_version(ctx: Context, req: Request, who: Principal) -> Any:
    api = owned_api(ctx, req.params["modelApiId"], who)
    return views.version(ctx.world.version(api.id, req.params["versionId"]), ctx.now())


def build_logs(ctx: Context, req: Request, who: Principal) -> Any:
    api = owned_api(ctx, req.params["modelApiId"], who)
    version = ctx.world.version(api.id, req.params["versionId"])
    return Response.text("\n".join(version.build_log) + "\n")


def instance_logs(ctx: Context, req: Request, who: Principal) -> Any:
    api = owned_api(ctx, req.params["modelApiId"], who)
    version = ctx.world.version(api.id, req.params["versionId"])
    lines = list(version.instance_log)
    status = lifecycle.deployment_status(version, ctx.now())
    if status in (lifecycle.STARTING, lifecycle.RUNNING):
        lines.append(f"model server {status.lower()}: {api.replicas} replica(s) on {api.hardware_tier_id}")
    return Response.text("\n".join(lines) + "\n")


def list_tokens(ctx: Context, req: Request, who: Principal) -> Any:
    api = owned_api(ctx, req.params["modelApiId"], who)
    return [{"id": t["id"], "name": t["name"], "createdAt": views.ms(t["created"])} for t in api.access_tokens]


def create_token(ctx: Context, req: Request, who: Principal) -> Any:
    api = owned_api(ctx, req.params["modelApiId"], who)
    f = Fields(req.json(), "body")
    name = f.string("name")
    f.done()
    if not name.strip():
        raise bad_request("body.name must not be empty")
    token = {"id": new_id(), "name": name, "token": secrets.token_urlsafe(30), "created": ctx.now()}
    api.access_tokens.append(token)
    return Response(201, {"id": token["id"], "name": name, "token": token["token"],
                          "createdAt": views.ms(token["created"])})
