"""Projects, data planes, hardware tiers and environments."""

from __future__ import annotations

from typing import Any

from domino_emulator import records as r
from domino_emulator.seed import user_id
from domino_emulator.views import iso, metadata, paged_metadata
from domino_emulator.world import World, derived_id

LOCAL_DATA_PLANE_ID = "000000000000000000000000"  # Domino's id of the local data plane
_ACTIVE = {"isBlocked": False, "status": "active"}


def _stage_id(p: r.Project) -> str:
    return derived_id(p.id, "stage")


def project_summary(p: r.Project) -> dict[str, Any]:
    """``domino.projects.api.ProjectSummary`` (``GET /v4/projects/{projectId}``)."""
    return {"id": p.id, "name": p.name, "description": p.description, "ownerId": p.owner_id,
            "ownerUsername": p.owner, "created": iso(p.created), "projectType": "Analytic",
            "visibility": "Private", "stageId": _stage_id(p), "status": dict(_ACTIVE), "tags": [],
            "collaborators": [], "collaboratorIds": [], "importedGitRepositories": []}


def project_overview(p: r.Project, world: World, role: str) -> dict[str, Any]:
    """``ProjectGatewayOverview`` (``findProjectByOwnerAndName``); ``role`` is the caller's."""
    tier = world.default_tier(p.id)
    environment = next(iter(world.environments.values()), None)
    return {"id": p.id, "name": p.name, "description": p.description,
            "owner": {"id": p.owner_id, "userName": p.owner}, "requestingUserRole": role,
            "allowedOperations": ["Run", "Edit", "ViewRuns", "BrowseReadFiles"] + (
                ["ChangeProjectSettings"] if role in ("Owner", "Admin") else []),
            "environmentName": environment.name if environment else "",
            "hardwareTierId": tier.id if tier else "", "hardwareTierName": tier.name if tier else "",
            "numComments": 0, "runsCountByType": [], "stageId": _stage_id(p), "status": dict(_ACTIVE),
            "tags": [], "totalRunTime": "0s", "visibility": "Private",
            "details": {"projectType": "Analytic", "updatedAt": iso(p.created)}}


def project_gateway_summary(p: r.Project, relationship: str) -> dict[str, Any]:
    """``ProjectGatewaySummary`` (``GET /v4/gateway/projects``)."""
    return {"id": p.id, "name": p.name, "description": p.description, "ownerId": p.owner_id,
            "ownerName": p.owner, "projectType": "Analytic", "relationship": relationship,
            "runCounts": [], "stageId": _stage_id(p), "status": dict(_ACTIVE), "tags": [],
            "visibility": "Private", "details": {"updatedAt": iso(p.created)}}


def data_plane(plane: r.DataPlane | None, plane_id: str) -> dict[str, Any]:
    """``domino.dataplane.DataPlaneDto``: always healthy, nothing configured."""
    return {"id": plane_id, "name": plane.name if plane else plane_id, "namespace": "domino-compute",
            "isLocal": plane_id == LOCAL_DATA_PLANE_ID, "isArchived": False, "isHealthy": True,
            "isLocked": False, "isFileSyncDisabled": False, "configuration": {},
            "status": {"state": "Healthy", "message": "", "agentVersion": "emulator", "catalogVersion": "emulator",
                       "requiresUpgrade": False, "supportsUpgrade": False}}


def tier_v4(t: r.HardwareTier, world: World) -> dict[str, Any]:
    """``HardwareTierWithCapacityDto``: the tier (with its data plane id), its capacity and data plane."""
    capacity = {"availableCapacityWithoutLaunching": 10, "capacityLevel": "CAN_EXECUTE_WITH_CURRENT_INSTANCES",
                "currentNumberOfExecutors": 1, "maximumAvailableCapacity": 10, "maximumConcurrentRuns": 10,
                "maximumNumberOfExecutors": 10, "numberOfCurrentlyExecutingRuns": 0, "numberOfQueuedRuns": 0}
    tier = {
        "id": t.id, "name": t.name, "centsPerMinute": t.cents_per_minute, "dataPlaneId": t.data_plane_id,
        "creationTime": iso(t.created), "updateTime": iso(t.created), "metadata": {},
        "hwtFlags": {"isDefault": t.is_default, "isVisible": True, "isArchived": False, "isGlobal": t.projects is None,
                     "isFree": t.cents_per_minute == 0, "isAllowedDuringTrial": True, "isDataAnalystTier": False,
                     "isModelApiTier": True, "isDefaultForModelApi": t.is_default},
        "hwtResources": {"cores": t.cores, "memory": {"value": t.memory_gib, "unit": "GiB"},
                         "allowSharedMemoryToExceedDefault": False},
        "podCustomization": {"additionalAnnotations": {}, "additionalLabels": {}, "additionalLimits": {},
                             "additionalRequests": {}, "capabilities": [], "hugepages": {}},
    }
    return {"hardwareTier": tier, "capacity": capacity,
            "dataPlane": data_plane(world.data_planes.get(t.data_plane_id), t.data_plane_id)}


def tier_public(t: r.HardwareTier) -> dict[str, Any]:
    """``HardwareTierV1``."""
    return {"id": t.id, "name": t.name, "centsPerMinute": t.cents_per_minute, "dataPlaneId": t.data_plane_id,
            "creationTime": iso(t.created), "updateTime": iso(t.created), "metadata": {}, "podCustomization": {},
            "flags": {"isDefault": t.is_default, "isVisible": True, "isArchived": False, "isGlobal": t.projects is None,
                      "isDataAnalystTier": False, "isModelApiTier": True, "isDefaultForModelApi": t.is_default},
            "resources": {"cores": t.cores, "memory": {"value": t.memory_gib, "units": "GiB"},
                          "allowSharedMemoryToExceedDefault": False}}


def tiers_page(tiers: list[r.HardwareTier], offset: int, limit: int) -> dict[str, Any]:
    """``PaginatedHardwareTierEnvelopeV1``."""
    return {"hardwareTiers": [tier_public(t) for t in tiers[offset:offset + limit]],
            "metadata": paged_metadata(offset, limit, len(tiers))}


def revision_id(e: r.Environment) -> str:
    """The environment's one revision (the emulator builds no images)."""
    return derived_id(e.id, "revision", "1")


def environment_v1_list_item(e: r.Environment) -> dict[str, Any]:
    """An item of ``GET /v1/environments`` (unpublished; python-domino's evidence)."""
    return {"id": e.id, "name": e.name, "visibility": e.visibility}


def environment_project(e: r.Environment) -> dict[str, Any]:
    """``domino.projects.api.ProjectEnvironmentDTO``."""
    return {"id": e.id, "name": e.name, "archived": False, "visibility": e.visibility, "version": 1,
            "supportedClusters": [], "activeRevisionId": revision_id(e), "activeRevisionNumber": 1,
            "activeRevisionTags": []}


def environment_selected(e: r.Environment) -> dict[str, Any]:
    """``domino.projects.api.SelectedEnvironmentDTO``."""
    return {"id": e.id, "name": e.name, "supportedClusters": []}


def environment_public(e: r.Environment) -> dict[str, Any]:
    """``EnvironmentEnvelopeV1`` (``GET /api/environments/v1/environments/{environmentId}``)."""
    revision = {"id": revision_id(e), "number": 1, "status": "succeeded", "availableTools": []}
    environment = {"id": e.id, "name": e.name, "archived": False, "visibility": e.visibility.lower(),
                   "rebuildOnBaseChanges": "never", "supportedClusters": [], "activeRevisionTags": [],
                   "latestRevision": revision, "selectedRevision": dict(revision)}
    return {"environment": environment, "metadata": metadata()}


def environment_details(e: r.Environment) -> dict[str, Any]:
    """``domino.environments.api.EnvironmentDetails`` (v4)."""
    return {"id": e.id, "name": e.name, "description": "", "archived": False,
            "visibility": e.visibility.capitalize(), "supportedClusters": []}


def person(username: str) -> dict[str, Any]:
    """``domino.common.user.Person``: users are known by name only (see ``current_user``)."""
    return {"id": user_id(username), "userName": username, "firstName": username, "lastName": "",
            "fullName": username, "avatarUrl": ""}


def current_user(username: str) -> dict[str, Any]:
    """``UserEnvelopeV1``: the emulator knows users by name only, so the name fills the name fields."""
    user = {"id": user_id(username), "userName": username, "firstName": username, "lastName": "",
            "fullName": username, "avatarUrl": ""}
    return {"user": user, "metadata": metadata()}
