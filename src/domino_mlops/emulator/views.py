"""Records -> the contract's JSON shapes (docs/DOMINO_API.md, docs/CONTRACT_DECISIONS.md).

Timestamps are epoch milliseconds, as Domino's APIs send them.
"""

from __future__ import annotations

from typing import Any

from domino_mlops.emulator import lifecycle
from domino_mlops.emulator import records as r
from domino_mlops.emulator.seed import user_id
from domino_mlops.emulator.world import World


def ms(when: float | None) -> int | None:
    return None if when is None else int(when * 1000)


def project(p: r.Project) -> dict[str, Any]:
    return {"id": p.id, "name": p.name, "ownerId": p.owner_id, "ownerUsername": p.owner,
            "description": p.description, "visibility": "Private", "tags": [], "collaborators": []}


def tier_v4(t: r.HardwareTier, world: World) -> dict[str, Any]:
    plane = world.data_planes.get(t.data_plane_id)
    return {"hardwareTier": {
        "id": t.id, "name": t.name, "hwtFlags": {"isDefault": t.is_default, "isVisible": True, "isArchived": False},
        "centsPerMinute": t.cents_per_minute,
        "hwtResources": {"cores": t.cores, "memory": {"value": t.memory_gib, "unit": "GiB"}},
        "dataPlaneId": t.data_plane_id, "dataPlaneName": plane.name if plane else "",
    }}


def tier_public(t: r.HardwareTier, world: World) -> dict[str, Any]:
    plane = world.data_planes.get(t.data_plane_id)
    return {"id": t.id, "name": t.name, "isDefault": t.is_default, "centsPerMinute": t.cents_per_minute,
            "dataPlaneId": t.data_plane_id, "dataPlaneName": plane.name if plane else ""}


def environment(e: r.Environment) -> dict[str, Any]:
    return {"id": e.id, "name": e.name, "visibility": e.visibility, "archived": False}


def deployment(v: r.ModelVersion, now: float) -> dict[str, Any]:
    status = lifecycle.deployment_status(v, now)
    return {"status": status, "isPending": lifecycle.is_pending(status)}


def model_api(api: r.ModelApi, world: World, now: float) -> dict[str, Any]:
    active = world.versions.get(api.active_version_id or "")
    return {
        "id": api.id, "name": api.name, "description": api.description, "environmentId": api.environment_id,
        "isArchived": api.is_archived, "isAsync": api.is_async, "replicas": api.replicas,
        "hardwareTierId": api.hardware_tier_id, "strictNodeAntiAffinity": api.strict_node_anti_affinity,
        "environmentVariables": [dict(x) for x in api.environment_variables],
        "collaborators": [],
        "metadata": {"created": ms(api.created), "createdBy": api.created_by, "lastModified": ms(api.last_modified)},
        "activeVersion": None if active is None else {
            "id": active.id, "number": active.number, "dataPlaneId": active.data_plane_id,
            "deployment": deployment(active, now),
        },
    }


def version(v: r.ModelVersion, now: float) -> dict[str, Any]:
    return {
        "id": v.id, "number": v.number, "modelApiId": v.model_api_id, "projectId": v.project_id,
        "source": dict(v.source), "description": v.description, "labels": dict(v.labels),
        "metadata": {"created": ms(v.created), "createdBy": v.created_by},
        "dataPlaneId": v.data_plane_id, "deployment": deployment(v, now),
        "logHttpRequestResponse": v.log_http_request_response, "monitoringEnabled": v.monitoring_enabled,
        "recordInvocation": v.record_invocation,
    }


def page(items: list[Any], offset: int, limit: int) -> dict[str, Any]:
    return {"items": items[offset:offset + limit],
            "metadata": {"offset": offset, "limit": limit, "totalCount": len(items)}}


def job(j: r.Job, now: float) -> dict[str, Any]:
    status = lifecycle.job_status(j, now)
    completed = status in ("Succeeded", "Failed", "Stopped", "Error")
    started = lifecycle.job_started_at(j)
    end = j.stopped_at if status == "Stopped" else j.submitted + j.seconds
    return {
        "id": j.id, "number": j.number, "projectId": j.project_id, "title": j.title, "jobRunCommand": j.command,
        "commitId": j.commit_id, "hardwareTierId": j.hardware_tier_id, "environmentId": j.environment_id,
        "statuses": {"isCompleted": completed, "isArchived": False, "isScheduled": False,
                     "executionStatus": status},
        "stageTime": {"submissionTime": ms(j.submitted),
                      "runStartTime": ms(started) if now >= started and status != "Queued" else None,
                      "completedTime": ms(end) if completed else None},
        "startedBy": {"id": user_id(j.started_by), "username": j.started_by},
    }


def job_log_lines(j: r.Job, now: float, pattern: str) -> tuple[list[str], list[str]]:
    """(setup lines, stdout lines) of a job so far."""
    status = lifecycle.job_status(j, now)
    setup = [f"Job #{j.number} queued on hardware tier {j.hardware_tier_id}"]
    if status == "Queued":
        return setup, []
    setup.append(f"Starting run in environment {j.environment_id} at commit {j.commit_id[:12]}")
    out = [f"$ {j.command}"]
    if status == "Succeeded":
        out.append("(emulated) command finished with exit code 0")
    elif status == "Failed":
        out.append(f"(emulated) command matched the failing pattern {pattern!r}: exit code 1")
    elif status == "Stopped":
        out.append("(emulated) stopped by user")
    return setup, out


def app(a: r.App, now: float) -> dict[str, Any]:
    return {"id": a.id, "name": a.name, "projectId": a.project_id, "modelProductType": "APP",
            "status": lifecycle.app_status(a, now), "hardwareTierId": a.hardware_tier_id,
            "environmentId": a.environment_id, "created": ms(a.created),
            "lastUpdated": ms(max(x for x in (a.created, a.started, a.stopped_at) if x is not None)),
            "openUrl": f"/apps/{a.id}/", "appExtension": {"appType": "Other"}}
