"""Legacy Model API routes still in wide use: start/stop/status, environment variables, image export."""

from __future__ import annotations

from typing import Any

from domino_mlops.emulator import deployments, lifecycle
from domino_mlops.emulator import records as r
from domino_mlops.emulator.auth import Principal
from domino_mlops.emulator.context import Context
from domino_mlops.emulator.routes_models import owned_api
from domino_mlops.emulator.validate import Fields
from domino_mlops.emulator.web import Request, Router
from domino_mlops.emulator.world import new_id

V4 = "/v4/models/{modelId}/{versionId}"


def register(router: Router) -> None:
    router.add("POST", V4 + "/startModelDeployment", start)
    router.add("POST", V4 + "/stopModelDeployment", stop)
    router.add("GET", V4 + "/getModelDeploymentStatus", status)
    router.add("POST", "/models/{modelId}/environmentVariables/add", add_env_vars)
    router.add("POST", V4 + "/exportImageToRegistry", export_image)
    router.add("GET", "/v4/models/{exportId}/getExportImageStatus", export_status)


def _target(ctx: Context, req: Request, who: Principal) -> tuple[r.ModelApi, r.ModelVersion]:
    api = owned_api(ctx, req.params["modelId"], who)
    return api, ctx.world.version(api.id, req.params["versionId"])


def _status(api: r.ModelApi, version: r.ModelVersion, state: str) -> dict[str, Any]:
    return {"modelId": api.id, "modelVersionId": version.id, "status": state}


def start(ctx: Context, req: Request, who: Principal) -> Any:
    api, version = _target(ctx, req, who)
    deployments.start(ctx, api, version)
    return _status(api, version, lifecycle.deployment_status(version, ctx.now()))


def stop(ctx: Context, req: Request, who: Principal) -> Any:
    api, version = _target(ctx, req, who)
    deployments.stop(ctx, api, version)
    return _status(api, version, "not_running")


def status(ctx: Context, req: Request, who: Principal) -> Any:
    api, version = _target(ctx, req, who)
    return _status(api, version, lifecycle.deployment_status(version, ctx.now()))


def add_env_vars(ctx: Context, req: Request, who: Principal) -> Any:
    api = owned_api(ctx, req.params["modelId"], who)
    f = Fields(req.json(), "body")
    items = f.array("vars") or []
    pairs = []
    for i, item in enumerate(items):
        if not (isinstance(item, dict) and isinstance(item.get("name"), str) and isinstance(item.get("value"), str)):
            f.errors.append(f"body.vars[{i}] must be {{\"name\": string, \"value\": string}}")
        else:
            pairs.append((item["name"], item["value"]))
    f.done()
    merged = {x["key"]: x["value"] for x in api.environment_variables}
    merged.update(pairs)  # the same name again replaces the value, as in Domino's settings page
    api.environment_variables = [{"key": k, "value": v} for k, v in merged.items()]
    api.last_modified = ctx.now()
    return {"modelId": api.id, "vars": [{"name": k, "value": v} for k, v in merged.items()]}


def export_image(ctx: Context, req: Request, who: Principal) -> Any:
    api, version = _target(ctx, req, who)
    f = Fields(req.json(), "body")
    registry, repository, tag = f.string("registryUrl"), f.string("repository"), f.string("tag")
    f.string("username", required=False)
    f.string("password", required=False)
    f.done()
    now = ctx.now()
    export = r.Export(
        id=new_id(), model_api_id=api.id, version_id=version.id, project_id=api.project_id,
        registry_url=registry, repository=repository, tag=tag, created=now, seconds=ctx.run_seconds(),
        fails=False,
    )
    ctx.world.exports[export.id] = export
    return {"exportId": export.id, "status": lifecycle.export_status(export, now, built=None)}


def export_status(ctx: Context, req: Request, who: Principal) -> Any:
    export = ctx.world.export(req.params["exportId"])
    who.require(export.project_id)
    version = ctx.world.versions.get(export.version_id)
    # An image exists only once the version's build succeeded.
    built = False if version is None else None if version.build_done is None else version.build_error is None
    state = lifecycle.export_status(export, ctx.now(), built=built)
    body = {"exportId": export.id, "modelId": export.model_api_id, "modelVersionId": export.version_id,
            "status": state}
    if state == "complete":
        host = export.registry_url.split("://", 1)[-1].rstrip("/")
        body["imageReference"] = f"{host}/{export.repository}:{export.tag}"
    return body
