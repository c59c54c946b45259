"""python-domino's /v1 model routes (``models_list``, ``model_publish``, ``model_versions_get``,
``model_version_publish``): unpublished, shaped by the contract's evidence.

They publish from project files (a ``File`` source), which the emulator cannot serve: such a
version builds and fails, and its build log says why. The Model API and versions they make are
the same ones the public API lists.
"""

from __future__ import annotations

from typing import Any

from domino_emulator import access, deployments
from domino_emulator import records as r
from domino_emulator.auth import Principal
from domino_emulator.context import Context
from domino_emulator.routes.models import owned_api
from domino_emulator.views import model_apis as views
from domino_emulator.web import ApiError, Request, Router, bad_request
from domino_emulator.world import new_id


def register(router: Router) -> None:
    router.add("GET", "/v1/projects/{ownerName}/{projectName}/models", list_models)
    router.add("POST", "/v1/models", publish_model)
    router.add("GET", "/v1/models/{modelId}/versions", list_versions)
    router.add("POST", "/v1/models/{modelId}/versions", publish_version)


def list_models(ctx: Context, req: Request, who: Principal) -> Any:
    project = ctx.world.find_project(req.params["ownerName"], req.params["projectName"])
    if project is None:
        raise ApiError(404, f"project {req.params['ownerName']}/{req.params['projectName']} not found")
    who.require(project.id)
    apis = sorted((a for a in ctx.world.model_apis.values() if a.project_id == project.id), key=lambda a: a.created)
    return {"objectType": "list", "data": [views.v1_model(a) for a in apis]}


def _file_spec(ctx: Context, body: dict[str, Any], project_id: str) -> deployments.VersionSpec:
    problems: list[str] = []
    source = deployments.read_source({"type": "File", **{k: body.get(k) for k in ("file", "function", "excludeFiles")}},
                                     "$", problems)
    if body["environmentId"] not in ctx.world.environments:
        problems.append(f"environment {body['environmentId']!r} does not exist")
    if problems:
        raise bad_request(f"invalid model: {problems[0]}", problems)
    return deployments.VersionSpec(project_id=project_id, source=source, description=body.get("description") or "",
                                   environment_id=body["environmentId"])


def publish_model(ctx: Context, req: Request, who: Principal) -> Any:
    body = req.json_object()
    project = ctx.world.project(body["projectId"])
    who.require(project.id)
    spec = _file_spec(ctx, body, project.id)
    tier = ctx.world.default_tier(project.id)
    now = ctx.now()
    api = r.ModelApi(
        id=new_id(), project_id=project.id, name=body["name"], description=body.get("description") or "",
        environment_id=body["environmentId"], hardware_tier_id=tier.id if tier else "", replicas=1, is_async=False,
        strict_node_anti_affinity=False, environment_variables=[], created=now, created_by=who.username,
        last_modified=now,
    )
    ctx.world.model_apis[api.id] = api
    access.apply_rules(ctx.world, api, now)
    deployments.add_version(ctx, api, spec, who.username)
    return views.v1_published(api)


def list_versions(ctx: Context, req: Request, who: Principal) -> Any:
    api = owned_api(ctx, req.params["modelId"], who)
    return {"data": [views.v1_version(v) for v in ctx.world.versions_of(api.id)]}


def publish_version(ctx: Context, req: Request, who: Principal) -> Any:
    api = owned_api(ctx, req.params["modelId"], who)
    body = req.json_object()
    if body["projectId"] != api.project_id:
        raise bad_request(f"projectId {body['projectId']!r} is not the project of model {api.id}")
    version = deployments.add_version(ctx, api, _file_spec(ctx, body, api.project_id), who.username)
    return {"id": version.id, "number": version.number}
