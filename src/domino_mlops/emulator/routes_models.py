"""Model APIs of the public API (``/api/modelServing/v1/modelApis``): list, create, get, update, delete."""

from __future__ import annotations

from typing import Any

from domino_mlops.emulator import deployments, views
from domino_mlops.emulator import records as r
from domino_mlops.emulator.auth import Principal
from domino_mlops.emulator.context import Context
from domino_mlops.emulator.validate import Fields
from domino_mlops.emulator.web import Request, Response, Router, bad_request
from domino_mlops.emulator.world import new_id

BASE = "/api/modelServing/v1/modelApis"
DEFAULT_LIMIT, MAX_LIMIT = 10, 100


def register(router: Router) -> None:
    router.add("GET", BASE, list_model_apis)
    router.add("POST", BASE, create_model_api)
    router.add("GET", BASE + "/{modelApiId}", get_model_api)
    router.add("PUT", BASE + "/{modelApiId}", update_model_api)
    router.add("DELETE", BASE + "/{modelApiId}", delete_model_api)


def owned_api(ctx: Context, model_api_id: str, who: Principal) -> r.ModelApi:
    """The Model API, after checking the caller may touch its project (404, then 403)."""
    api = ctx.world.model_api(model_api_id)
    who.require(api.project_id)
    return api


def paging(req: Request) -> tuple[int, int]:
    try:
        offset = int(req.query.get("offset", 0))
        limit = int(req.query.get("limit", DEFAULT_LIMIT))
    except ValueError:
        raise bad_request("offset and limit must be integers") from None
    if offset < 0 or limit < 1:
        raise bad_request("offset must be >= 0 and limit >= 1")
    return offset, min(limit, MAX_LIMIT)


def list_model_apis(ctx: Context, req: Request, who: Principal) -> Any:
    project_id = req.query.get("projectId")
    if project_id:
        who.require(ctx.world.project(project_id).id)
    name = req.query.get("name", "").lower()
    offset, limit = paging(req)
    found = [
        a for a in sorted(ctx.world.model_apis.values(), key=lambda a: (a.created, a.id))
        if who.can(a.project_id) and (not project_id or a.project_id == project_id)
        and (not name or name in a.name.lower())  # a substring filter: callers compare names exactly
    ]
    now = ctx.now()
    return views.page([views.model_api(a, ctx.world, now) for a in found], offset, limit)


def create_model_api(ctx: Context, req: Request, who: Principal) -> Any:
    f = Fields(req.json(), "body")
    name = f.string("name")
    description = f.string("description")
    environment_id = f.string("environmentId")
    is_async = f.boolean("isAsync")
    anti_affinity = f.boolean("strictNodeAntiAffinity")
    env_vars = _env_vars(f, "environmentVariables", required=True)
    replicas = f.integer("replicas", required=False, minimum=1) or 1
    tier_id = f.string("hardwareTierId", required=False)
    child = f.child("version")
    spec = deployments.read_version(child) if child else {}
    if f.data.get("name") is not None and not name.strip():
        f.errors.append("body.name must not be empty")
    f.done()
    project = ctx.world.project(spec["project_id"])
    who.require(project.id)
    tier_id = _check_refs(ctx, project.id, environment_id, tier_id)
    now = ctx.now()
    api = r.ModelApi(
        id=new_id(), project_id=project.id, name=name, description=description, environment_id=environment_id,
        hardware_tier_id=tier_id, replicas=replicas, is_async=bool(is_async),
        strict_node_anti_affinity=bool(anti_affinity), environment_variables=env_vars,
        created=now, created_by=who.username, last_modified=now,
    )
    ctx.world.model_apis[api.id] = api
    deployments.add_version(ctx, api, spec, who.username)
    return Response(201, views.model_api(api, ctx.world, now))


def get_model_api(ctx: Context, req: Request, who: Principal) -> Any:
    api = owned_api(ctx, req.params["modelApiId"], who)
    return views.model_api(api, ctx.world, ctx.now())


def update_model_api(ctx: Context, req: Request, who: Principal) -> Any:
    api = owned_api(ctx, req.params["modelApiId"], who)
    f = Fields(req.json(), "body")
    name = f.string("name", required=False)
    description = f.string("description", required=False)
    environment_id = f.string("environmentId", required=False)
    replicas = f.integer("replicas", required=False, minimum=1)
    tier_id = f.string("hardwareTierId", required=False)
    env_vars = _env_vars(f, "environmentVariables", required=False)
    f.done()
    tier_id = _check_refs(ctx, api.project_id, environment_id or api.environment_id, tier_id or api.hardware_tier_id)
    api.name = name or api.name
    api.description = description if "description" in f.data else api.description
    api.environment_id = environment_id or api.environment_id
    api.replicas = replicas or api.replicas
    api.hardware_tier_id = tier_id  # a running version keeps its data plane until it is deployed again
    if "environmentVariables" in f.data:
        api.environment_variables = env_vars
    api.last_modified = ctx.now()
    return views.model_api(api, ctx.world, api.last_modified)


def delete_model_api(ctx: Context, req: Request, who: Principal) -> Any:
    api = owned_api(ctx, req.params["modelApiId"], who)
    for v in ctx.world.versions_of(api.id):
        del ctx.world.versions[v.id]
    del ctx.world.model_apis[api.id]
    return Response.empty()


def _env_vars(f: Fields, key: str, *, required: bool) -> list[dict[str, str]]:
    items = f.array(key, required=required) or []
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("key"), str) or not isinstance(item.get("value"), str):
            f.errors.append(f"body.{key}[{i}] must be {{\"key\": string, \"value\": string}}")
            continue
        out.append({"key": item["key"], "value": item["value"]})
    return out


def _check_refs(ctx: Context, project_id: str, environment_id: str, tier_id: str) -> str:
    """Check the environment and hardware tier exist for the project; the tier defaults."""
    errors = []
    if environment_id not in ctx.world.environments:
        errors.append(f"environment {environment_id!r} does not exist")
    if not tier_id:
        default = ctx.world.default_tier(project_id)
        tier_id = default.id if default else ""
    if tier_id not in {t.id for t in ctx.world.tiers_for(project_id)}:
        errors.append(f"hardware tier {tier_id!r} is not available to project {project_id!r}")
    if errors:
        raise bad_request(errors[0], errors)
    return tier_id
