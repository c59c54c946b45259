"""Model APIs of the public API (``/api/modelServing/v1/modelApis``): list, create, get, update, delete.

Bodies reach these handlers already checked against the contract (``validate.py``); the checks
here are the ones no schema can make: the project, environment and hardware tier must exist
and be the caller's to use.
"""

from __future__ import annotations

from typing import Any

from domino_emulator import access, deployments
from domino_emulator import records as r
from domino_emulator.auth import Principal
from domino_emulator.context import Context
from domino_emulator.views import model_apis as views
from domino_emulator.web import Request, Response, Router, bad_request
from domino_emulator.views.platform import LOCAL_DATA_PLANE_ID
from domino_emulator.world import new_id
from domino_mlops.clients.domino.capabilities import allowed_remote

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


def list_model_apis(ctx: Context, req: Request, who: Principal) -> Any:
    q = req.query
    if q.get("projectId"):
        who.require(ctx.world.project(q["projectId"]).id)
    offset, limit = req.page(DEFAULT_LIMIT, MAX_LIMIT)
    name = q.get("name", "").lower()
    found = [
        a for a in sorted(ctx.world.model_apis.values(), key=lambda a: (a.created, a.id))
        if who.can(a.project_id) and q.get("projectId", a.project_id) == a.project_id
        and q.get("environmentId", a.environment_id) == a.environment_id
        and (not name or name in a.name.lower())  # a substring filter: callers compare names exactly
        and _serves(ctx, a, q.get("registeredModelName"), q.get("registeredModelVersion"))
    ]
    return views.model_api_page(found, ctx.world, ctx.now(), offset, limit)


def _serves(ctx: Context, api: r.ModelApi, model: str | None, number: str | None) -> bool:
    """Some version of ``api`` serves that registered model (and version, when given)."""
    if not model:
        return True
    return any(v.source.get("registeredModelName") == model
               and (number is None or str(v.source.get("registeredModelVersion")) == number)
               for v in ctx.world.versions_of(api.id))


def create_model_api(ctx: Context, req: Request, who: Principal) -> Any:
    body = req.json_object()
    problems: list[str] = []
    spec = deployments.read_version(body["version"], "version", problems)
    if not body["name"].strip():
        problems.append("name must not be empty")
    if body.get("replicas", 1) < 1:
        problems.append("replicas must be at least 1")
    if problems:
        raise bad_request(f"invalid model API: {problems[0]}", problems)
    project = ctx.world.project(spec.project_id)
    who.require(project.id)
    tier_id = _check_refs(ctx, project, body["environmentId"], body.get("hardwareTierId"), spec)
    now = ctx.now()
    api = r.ModelApi(
        id=new_id(), project_id=project.id, name=body["name"], description=body["description"],
        environment_id=body["environmentId"], hardware_tier_id=tier_id, replicas=body.get("replicas", 1),
        is_async=body["isAsync"], strict_node_anti_affinity=body["strictNodeAntiAffinity"],
        environment_variables=[{"key": x["key"], "value": x["value"]} for x in body["environmentVariables"]],
        created=now, created_by=who.username, last_modified=now,
    )
    ctx.world.model_apis[api.id] = api
    access.apply_rules(ctx.world, api, now)
    deployments.add_version(ctx, api, spec, who.username)
    answer = views.model_api(api, ctx.world, now)
    if ctx.faults.plan.omit_active_version:
        answer.pop("activeVersion", None)  # optional in the public ModelApi (CONTRACT_DECISIONS.md)
    return Response(201, answer)


def get_model_api(ctx: Context, req: Request, who: Principal) -> Any:
    api = owned_api(ctx, req.params["modelApiId"], who)
    return views.model_api(api, ctx.world, ctx.now())


def update_model_api(ctx: Context, req: Request, who: Principal) -> Any:
    """``ModelApiUpdateRequest`` replaces name, description, environment and replicas; a missing
    or null hardware tier keeps the current one."""
    api = owned_api(ctx, req.params["modelApiId"], who)
    body = req.json_object()
    problems = [m for ok, m in ((body["name"].strip(), "name must not be empty"),
                                (body["replicas"] >= 1, "replicas must be at least 1")) if not ok]
    if problems:
        raise bad_request(f"invalid model API update: {problems[0]}", problems)
    project = ctx.world.project(api.project_id)
    tier_id = _check_refs(ctx, project, body["environmentId"], body.get("hardwareTierId") or api.hardware_tier_id)
    now = ctx.now()
    api.name, api.description, api.environment_id = body["name"], body["description"], body["environmentId"]
    api.replicas = body["replicas"]
    api.hardware_tier_id = tier_id  # a running version keeps its data plane until it is deployed again
    api.last_modified = now
    access.apply_rules(ctx.world, api, now)  # renamed to a name the seed has rules for
    return views.model_api(api, ctx.world, now)


def delete_model_api(ctx: Context, req: Request, who: Principal) -> Any:
    api = owned_api(ctx, req.params["modelApiId"], who)
    for v in ctx.world.versions_of(api.id):
        del ctx.world.versions[v.id]
    del ctx.world.model_apis[api.id]
    return Response.empty()


def _remote_problem(ctx: Context, tier_id: str) -> str | None:
    """The rule the plan applies (clients/domino/capabilities.py): a version whose documentation runs Model
    APIs only in the local data plane cannot put one on a remote data plane's tier. Domino's own
    answer to such a request is not documented: this 400 is the emulator's guess, labelled so."""
    tier = ctx.world.hardware_tiers.get(tier_id)
    if tier is None or tier.data_plane_id == LOCAL_DATA_PLANE_ID or allowed_remote(ctx.world.domino_version,
                                                                                   "Model API"):
        return None
    plane = ctx.world.data_planes.get(tier.data_plane_id)
    return (f"hardware tier {tier_id!r} is in remote data plane {plane.name if plane else tier.data_plane_id!r}: "
            f"Domino {ctx.world.domino_version} runs Model APIs only in the local data plane "
            "(emulator: the refusal's shape is a guess)")


def _check_refs(ctx: Context, project: r.Project, environment_id: str, tier_id: str | None,
                spec: deployments.VersionSpec | None = None) -> str:
    """Check the environment, hardware tier (defaulted) and the version's references; 400 listing all."""
    problems = []
    if environment_id not in ctx.world.environments:
        problems.append(f"environment {environment_id!r} does not exist")
    if not tier_id:
        default = ctx.world.default_tier(project.id)
        tier_id = default.id if default else ""
    if tier_id not in {t.id for t in ctx.world.tiers_for(project.id)}:
        problems.append(f"hardware tier {tier_id!r} is not available to project {project.id!r}")
    elif problem := _remote_problem(ctx, tier_id):
        problems.append(problem)
    if spec is not None:
        deployments.check_refs(ctx, project, spec, problems)
    if problems:
        raise bad_request(problems[0], problems)
    return tier_id
