"""The v4 model manager routes still in wide use (start/stop/status, image export) and the
unpublished environment-variable route.

The v4 document wraps each answer in an array; recorded answers are one object, and so are
these (the contract's ``overrides`` keep both readings and say why), except the export's start,
which the v4 document declares as an array and no recorded answer contradicts.
"""

from __future__ import annotations

from typing import Any

from domino_emulator import deployments, exports, lifecycle
from domino_emulator import records as r
from domino_emulator.auth import Principal
from domino_emulator.context import Context
from domino_emulator.routes.models import owned_api
from domino_emulator.web import Request, Response, Router
from domino_emulator.world import new_id

V4 = "/v4/models/{modelId}/{modelVersionId}"


def register(router: Router) -> None:
    router.add("POST", V4 + "/startModelDeployment", start)
    router.add("POST", V4 + "/stopModelDeployment", stop)
    router.add("GET", V4 + "/getModelDeploymentStatus", status)
    router.add("POST", V4 + "/exportImageToRegistry", export_image)
    router.add("GET", "/v4/models/{exportId}/getExportImageStatus", export_status)
    router.add("GET", "/v4/models/{exportId}/getExportLogs", export_logs)
    router.add("POST", "/models/{modelId}/environmentVariables/add", add_env_vars)


def _target(ctx: Context, req: Request, who: Principal) -> tuple[r.ModelApi, r.ModelVersion]:
    api = owned_api(ctx, req.params["modelId"], who)
    return api, ctx.world.version(api.id, req.params["modelVersionId"])


def _status(api: r.ModelApi, version: r.ModelVersion, state: str) -> dict[str, Any]:
    """``ModelDeploymentStatusApiResponse``."""
    return {"modelId": api.id, "modelVersionId": version.id, "status": state}


def start(ctx: Context, req: Request, who: Principal) -> Any:
    api, version = _target(ctx, req, who)
    deployments.start(ctx, api, version)
    # As of the start itself, however long the answer takes to build on a busy machine.
    return _status(api, version, lifecycle.deployment_status(version, version.deploy_started or ctx.now()))


def stop(ctx: Context, req: Request, who: Principal) -> Any:
    api, version = _target(ctx, req, who)
    deployments.stop(ctx, api, version)
    return _status(api, version, "not_running")


def status(ctx: Context, req: Request, who: Principal) -> Any:
    api, version = _target(ctx, req, who)
    return _status(api, version, lifecycle.deployment_status(version, ctx.now()))


def add_env_vars(ctx: Context, req: Request, who: Principal) -> Any:
    """Merge ``{"vars": [{"name", "value"}]}`` into the Model API's variables; a name sent again
    replaces its value, as in Domino's settings page. The answer is not published (any body)."""
    api = owned_api(ctx, req.params["modelId"], who)
    merged = {x["key"]: x["value"] for x in api.environment_variables}
    merged.update((item["name"], item["value"]) for item in req.json_object()["vars"])
    api.environment_variables = [{"key": k, "value": v} for k, v in merged.items()]
    api.last_modified = ctx.now()
    return {"modelId": api.id, "vars": [{"name": k, "value": v} for k, v in merged.items()]}


def export_image(ctx: Context, req: Request, who: Principal) -> Any:
    """202 with an array of one ``ModelExportVersionStatusApiResponse``, as the v4 document declares."""
    api, version = _target(ctx, req, who)
    body = req.json_object()
    now = ctx.now()
    export = r.Export(
        id=new_id(), model_api_id=api.id, version_id=version.id, project_id=api.project_id,
        registry_url=body["registryUrl"], repository=body["repository"], tag=body.get("tag") or "latest",
        created=now, seconds=ctx.run_seconds(), fails=False,
    )
    ctx.world.exports[export.id] = export
    return Response(202, [{"exportId": export.id, "modelId": api.id, "modelVersionId": version.id,
                           "status": exports.status(ctx.world, export, now)}])


def _export(ctx: Context, req: Request, who: Principal) -> r.Export:
    export = ctx.world.export(req.params["exportId"])
    who.require(export.project_id)
    return export


def export_status(ctx: Context, req: Request, who: Principal) -> Any:
    """``ModelExportVersionStatusApiResponse``; status pending -> building -> complete | failed."""
    export = _export(ctx, req, who)
    state = exports.status(ctx.world, export, ctx.now())
    body = {"exportId": export.id, "modelId": export.model_api_id, "modelVersionId": export.version_id,
            "status": state}
    if state == "failed":
        body["errorMessage"] = exports.error_message(ctx.world, export)
    return body


def export_logs(ctx: Context, req: Request, who: Principal) -> Any:
    """``ModelExportLogsApiResponse``: the log as one text."""
    export = _export(ctx, req, who)
    now = ctx.now()
    lines = exports.log_entries(ctx.world, export, now)
    return {"exportId": export.id, "modelId": export.model_api_id, "modelVersionId": export.version_id,
            "status": exports.status(ctx.world, export, now), "logs": "\n".join(e["log"] for e in lines)}
