"""Model APIs, their versions and logs: the public API's shapes, and python-domino's /v1 ones."""

from __future__ import annotations

from typing import Any

from domino_emulator import lifecycle
from domino_emulator import records as r
from domino_emulator.seed import user_id
from domino_emulator.views import log_line, ms, paged_metadata
from domino_emulator.world import World, derived_id

# Domino's defaults as its UI shows them for a new Model API; the emulator checks no health.
HEALTH_CHECK = {"failureThreshold": 3, "initialDelaySeconds": 60, "periodSeconds": 10, "timeoutSeconds": 5}
ROUTING_MODE = "Basic"  # one route to the active version ("Advanced" adds per-version routes)


def deployment(v: r.ModelVersion, now: float) -> dict[str, Any]:
    """``ModelApiVersionDeployment``."""
    status = lifecycle.deployment_status(v, now)
    return {"status": status, "isPending": lifecycle.is_pending(status)}


def access_token(t: dict[str, Any]) -> dict[str, Any]:
    """``ModelApiAccessToken``: metadata only; no published answer carries a token's value."""
    return {"id": t["id"], "name": t["name"], "created": ms(t["created"]), "createdBy": user_id(t["created_by"]),
            "lastGenerated": ms(t["last_generated"]), "lastGeneratedBy": user_id(t["last_generated_by"])}


def access(api: r.ModelApi) -> dict[str, Any]:
    """``ModelApiAccessConfiguration``."""
    return {"isPublic": api.is_public, "accessTokens": [access_token(t) for t in api.access_tokens]}


def model_api(api: r.ModelApi, world: World, now: float) -> dict[str, Any]:
    """``ModelApi``; ``activeVersion`` is left out until a version was deployed."""
    body: dict[str, Any] = {
        "id": api.id, "name": api.name, "description": api.description, "environmentId": api.environment_id,
        "hardwareTierId": api.hardware_tier_id, "replicas": api.replicas, "isArchived": api.is_archived,
        "isAsync": api.is_async, "strictNodeAntiAffinity": api.strict_node_anti_affinity,
        "routingMode": ROUTING_MODE, "healthCheck": dict(HEALTH_CHECK), "access": access(api),
        "collaborators": [], "volumes": [],
        "metadata": {"created": ms(api.created), "createdBy": user_id(api.created_by),
                     "lastModified": ms(api.last_modified)},
    }
    active = world.versions.get(api.active_version_id or "")
    if active is not None:
        body["activeVersion"] = {"id": active.id, "number": active.number, "dataPlaneId": active.data_plane_id,
                                 "deployment": deployment(active, now)}
    return body


def model_api_page(apis: list[r.ModelApi], world: World, now: float, offset: int, limit: int) -> dict[str, Any]:
    """``ModelApiPaginatedList``."""
    return {"items": [model_api(a, world, now) for a in apis[offset:offset + limit]],
            "metadata": paged_metadata(offset, limit, len(apis))}


def version(v: r.ModelVersion, now: float) -> dict[str, Any]:
    """``ModelApiVersion``. Domino's labels are strings it sets itself; the emulator sets none."""
    return {
        "id": v.id, "number": v.number, "modelApiId": v.model_api_id, "projectId": v.project_id,
        "source": dict(v.source), "description": v.description, "labels": [],
        "metadata": {"created": ms(v.created), "createdBy": user_id(v.created_by)},
        "dataPlaneId": v.data_plane_id, "deployment": deployment(v, now), "commitId": v.commit_id,
        "environmentRevisionId": derived_id(v.environment_id, "revision", "1"),
        "logHttpRequestResponse": v.log_http_request_response, "monitoringEnabled": v.monitoring_enabled,
        "recordInvocation": v.record_invocation,
    }


def _since(entries: list[dict[str, Any]], since_nano: str | None) -> list[dict[str, Any]]:
    if not since_nano or not since_nano.isdigit():
        return entries
    return [e for e in entries if int(e["time"] * 1_000_000_000) > int(since_nano)]


def build_status(v: r.ModelVersion) -> str:
    """The build's own status (not the deployment's): Building, Succeeded or Failed."""
    if v.build_done is None:
        return "Building"
    return "Failed" if v.build_error is not None else "Succeeded"


def build_logs(v: r.ModelVersion, since_nano: str | None) -> dict[str, Any]:
    """``ModelApiVersionBuildLogs``."""
    body = {"modelId": v.model_api_id, "modelVersionId": v.id, "buildId": v.build_id, "status": build_status(v),
            "logs": [log_line(e) for e in _since(v.build_log, since_nano)]}
    if since_nano:
        body["sinceTimeNano"] = since_nano
    return body


def instance_logs(v: r.ModelVersion, entries: list[dict[str, Any]], *, max_results: int, tail: bool,
                  since_nano: str | None) -> dict[str, Any]:
    """``ModelApiVersionInstanceLogs``: the newest ``max_results`` lines when ``tail``, else the oldest."""
    lines = _since(entries, since_nano)
    lines = lines[-max_results:] if tail else lines[:max_results]
    body = {"modelId": v.model_api_id, "modelVersionId": v.id, "podName": f"model-{v.id}-0",
            "containerName": "model", "maxResults": max_results, "tail": tail,
            "logs": [log_line(e) for e in lines]}
    if since_nano:
        body["sinceTimeNano"] = since_nano
    return body


def export_logs(v: r.ModelVersion, entries: list[dict[str, Any]], status: str, since_nano: str | None) -> dict[str, Any]:
    """``ModelApiVersionExportLogs``: the version's image exports; status of the latest ("none" before any)."""
    body = {"modelId": v.model_api_id, "modelVersionId": v.id, "status": status,
            "logs": [log_line(e) for e in _since(entries, since_nano)]}
    if since_nano:
        body["sinceTimeNano"] = since_nano
    return body


# --- python-domino's /v1 model routes (unpublished: shapes from the contract's evidence) ----------


def v1_model(api: r.ModelApi) -> dict[str, Any]:
    return {"id": api.id, "name": api.name}


def v1_published(api: r.ModelApi) -> dict[str, Any]:
    return {"data": {"_id": api.id, "name": api.name, "description": api.description}}


def v1_version(v: r.ModelVersion) -> dict[str, Any]:
    return {"_id": v.id, "modelId": {"value": v.model_api_id}, "projectId": v.project_id,
            "metadata": {"number": v.number, "created": ms(v.created), "createdBy": user_id(v.created_by)},
            "logHttpRequestResponse": v.log_http_request_response, "recordInvocation": v.record_invocation,
            "monitoringEnabled": v.monitoring_enabled}
