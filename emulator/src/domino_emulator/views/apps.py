"""Apps: ``domino.nucleus.modelproduct.models.ModelProduct``, its instances, and a running app's page."""

from __future__ import annotations

import html
from typing import Any

from domino_emulator import lifecycle
from domino_emulator import records as r
from domino_emulator.seed import user_id
from domino_emulator.views import iso, ms
from domino_emulator.views.platform import person
from domino_emulator.world import World

# What python-domino's app create sends, and so what an app created without a choice has.
DEFAULT_PERMISSIONS = {"visibility": "GRANT_BASED", "accessRequestStatuses": {}, "pendingInvitations": [],
                       "discoverable": True, "appAccessStatus": "ALLOWED"}


def official_url(a: r.App) -> str:
    """``<host>/modelproducts/<id>``: Domino's page for the app, its banner around the app (not served here)."""
    return f"/modelproducts/{a.id}"


def session_url(a: r.App, world: World, instance_id: str) -> str:
    """``<host>/<owner>/<project>/r/notebookSession/<instance>/``: where one instance serves the app."""
    project = world.project(a.project_id)
    return f"/{project.owner}/{project.name}/r/notebookSession/{instance_id}/"


def model_product(a: r.App, world: World, now: float, host: str = "") -> dict[str, Any]:
    status = lifecycle.app_status(a, now)
    body: dict[str, Any] = {
        "id": a.id, "name": a.name, "description": a.description or None, "projectId": a.project_id,
        "modelProductType": "APP", "status": status, "created": iso(a.created),
        "lastUpdated": iso(max(x for x in (a.created, a.started, a.stopped_at) if x is not None)),
        "media": [], "tags": [], "stats": {"usageCount": 0},
        "permissionsData": dict(a.permissions or DEFAULT_PERMISSIONS), "appExtension": {"appType": "Other"},
        "hardwareTierId": a.hardware_tier_id, "environmentId": a.environment_id, "entryPoint": a.entry_point,
        "latestAppInstanceId": a.instance_id, "openUrl": official_url(a),
        # v4 ModelProduct.publisher (a Person): who published the app last, else the project's owner.
        "publisher": person(a.started_by or world.project(a.project_id).owner),
    }
    if status == "Running" and a.instance_id is not None:
        body["runningAppUrl"] = host + session_url(a, world, a.instance_id)
        body["runningCommitId"] = a.commit_id
    return body


def instances(a: r.App, now: float) -> list[dict[str, Any]]:
    """``AppInstanceOverview`` of every instance, oldest first; ``duration`` in whole seconds
    (an emulator reading: the document says int32 only)."""
    rows = [dict(past) for past in a.history]
    if a.instance_id is not None and a.started is not None:
        status = lifecycle.app_status(a, now)
        rows.append({"id": a.instance_id, "started": a.started, "ended": a.stopped_at or now,
                     "started_by": a.started_by, "status": status})
    return [{"id": row["id"], "started": ms(row["started"]), "duration": int(row["ended"] - row["started"]),
             "publishingUserId": user_id(row["started_by"] or "unknown"),
             "publishingUsername": row["started_by"] or "unknown", "status": row["status"], "goalIds": []}
            for row in rows]


def page(a: r.App, path: str) -> str:
    """The small HTML page an emulated app answers with at every path under its session URL."""
    name, at = html.escape(a.name), html.escape(path or "/")
    return (f"<!doctype html><html><head><title>{name}</title></head><body><h1>{name}</h1>"
            f"<p>Emulated Domino app, instance {html.escape(a.instance_id or '')}, commit "
            f"{html.escape(a.commit_id or '')}, path {at}</p></body></html>")


# --- the public Apps API (6.3): AppResponse, AppVersionResponse, AppInstance* -------------------
# Times are ``format: epoch`` numbers there: epoch milliseconds, as the v4 answers (a reading).


def public_app(a: r.App, world: World, now: float, host: str = "", *, summary: bool = False) -> dict[str, Any]:
    """``AppResponse`` (``AppSummaryResponse`` with ``summary``): the app, its current version and
    that version's current instance. ``url`` is where the current instance serves (an emulator
    reading: the document does not say which of the app's URLs it is)."""
    project = world.project(a.project_id)
    permissions = a.permissions or DEFAULT_PERMISSIONS
    body: dict[str, Any] = {
        "id": a.id, "name": a.name, "description": a.description or "", "entryPoint": a.entry_point or "app.sh",
        "renderIFrame": False, "visibility": permissions.get("visibility", "GRANT_BASED"), "accessStatuses": [],
        "discoverable": bool(permissions.get("discoverable", True)), "mountDatasets": False,
        "mountNetAppVolumes": False, "views": 0, "configurationType": "STANDARD",
        "project": {"id": project.id, "name": project.name, "ownerId": user_id(project.owner),
                    "ownerUsername": project.owner, "projectType": "Analytic"},
        "url": host + session_url(a, world, a.instance_id or a.id),
        "updatedAt": ms(max(x for x in (a.created, a.started, a.stopped_at) if x is not None)),
    }
    current = next((v for v in a.versions if v["id"] == a.version_id), None)
    if current is not None:
        body["currentVersion"] = public_version(a, current, now)
        body["publisher"] = {"id": user_id(current["publisher"]), "name": current["publisher"]}
    if summary:
        body["isPinned"] = False
    return body


def public_version(a: r.App, version: dict[str, Any], now: float) -> dict[str, Any]:
    """``AppVersionResponse``; ``currentInstance`` is its newest instance."""
    body: dict[str, Any] = {
        "id": version["id"], "environmentId": version["environment_id"] or "", "environmentRevisionId": "",
        "hardwareTierId": version["hardware_tier_id"] or "", "externalVolumeMountIds": [], "netAppVolumeIds": [],
        "createdAt": ms(version["created"]), "updatedAt": ms(version["created"]), "tags": [],
        "extendedIdentityPropagationToAppsEnabled": False,
        "publisher": {"id": user_id(version["publisher"]), "name": version["publisher"]},
    }
    if version.get("git_ref"):
        body["gitRef"] = dict(version["git_ref"])
    if version["instances"]:
        body["currentInstance"] = public_instance(a, version["instances"][-1], now)
    return body


def public_instance(a: r.App, instance_id: str, now: float) -> dict[str, Any]:
    """``AppInstanceSummaryResponse`` of one instance (current or past)."""
    if instance_id == a.instance_id and a.started is not None:
        return {"id": instance_id, "createdAt": ms(a.started), "status": lifecycle.app_status(a, now)}
    past = next(row for row in a.history if row["id"] == instance_id)
    return {"id": instance_id, "createdAt": ms(past["started"]), "status": past["status"]}
