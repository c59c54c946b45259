"""Apps: ``domino.nucleus.modelproduct.models.ModelProduct``."""

from __future__ import annotations

from typing import Any

from domino_mlops.emulator import lifecycle
from domino_mlops.emulator import records as r
from domino_mlops.emulator.views import iso

# What python-domino's app create sends, and so what an app created without a choice has.
DEFAULT_PERMISSIONS = {"visibility": "GRANT_BASED", "accessRequestStatuses": {}, "pendingInvitations": [],
                       "discoverable": True, "appAccessStatus": "ALLOWED"}


def model_product(a: r.App, now: float) -> dict[str, Any]:
    status = lifecycle.app_status(a, now)
    body: dict[str, Any] = {
        "id": a.id, "name": a.name, "description": a.description or None, "projectId": a.project_id,
        "modelProductType": "APP", "status": status, "created": iso(a.created),
        "lastUpdated": iso(max(x for x in (a.created, a.started, a.stopped_at) if x is not None)),
        "media": [], "tags": [], "stats": {"usageCount": 0},
        "permissionsData": dict(a.permissions or DEFAULT_PERMISSIONS), "appExtension": {"appType": "Other"},
        "hardwareTierId": a.hardware_tier_id, "environmentId": a.environment_id,
        "latestAppInstanceId": a.instance_id, "openUrl": f"/apps/{a.id}/",
    }
    if status == "Running":
        body["runningAppUrl"] = f"/apps/{a.id}/"
    return body
