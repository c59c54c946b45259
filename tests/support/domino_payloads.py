"""Realistic Domino answers for client unit tests, in the published shapes.

Each builder returns a payload with every field Domino's schema requires (plus what the test
passes in); `tests/clients/test_domino_payloads.py` validates every one against the contract,
so a unit test cannot drift back to a shape we guessed.
"""

from __future__ import annotations

from typing import Any

PROJECT = "65f0c0ffee00000000000001"
ENV = "65f0c0ffee000000000000e1"
USER = "65f0c0ffee0000000000000a"
NOW_MS = 1767225600000


def oid(n: int | str) -> str:
    """A 24-hex id, the shape of Domino's ids: oid(3) -> 65f0c0ffee00000000000003; a string stays."""
    return f"65f0c0ffee{int(n):014x}" if isinstance(n, int) or str(n).isdigit() else str(n)


def model_api(i: int | str = 1, name: str = "churn", *, active: dict[str, Any] | None = None,
              public: bool = False, **extra: Any) -> dict[str, Any]:
    body = {
        "id": oid(i), "name": name, "description": "", "environmentId": ENV, "isArchived": False, "isAsync": False,
        "replicas": 1, "hardwareTierId": "small-k8s", "strictNodeAntiAffinity": False, "routingMode": "Basic",
        "environmentVariables": [{"key": "MLFLOW_MODEL_NAME", "value": name}], "collaborators": [], "volumes": [],
        "access": {"isPublic": public, "accessTokens": [
            {"id": oid(900), "name": "ci", "created": NOW_MS, "createdBy": USER, "lastGenerated": NOW_MS,
             "lastGeneratedBy": USER}]},
        "healthCheck": {"failureThreshold": 3, "initialDelaySeconds": 10, "periodSeconds": 10, "timeoutSeconds": 5},
        "metadata": {"created": NOW_MS, "createdBy": USER, "lastModified": NOW_MS},
    }
    if active is not None:
        body["activeVersion"] = active
    return {**body, **extra}


def active_version(i: int | str, number: int = 1, status: str = "Running", pending: bool = False) -> dict[str, Any]:
    return {"id": oid(i), "number": number, "dataPlaneId": "000000000000000000000000",
            "deployment": {"status": status, "isPending": pending}}


def version(i: int | str, model_api_id: int | str = 1, *, name: str = "churn", number: int = 1,
            registered_version: int = 3, status: str = "Running", description: str = "",
            settings: tuple[bool, bool, bool] = (False, False, False), **extra: Any) -> dict[str, Any]:
    log, monitoring, record = settings
    return {
        "id": oid(i), "number": number, "modelApiId": oid(model_api_id), "projectId": PROJECT,
        "commitId": "0" * 40, "dataPlaneId": "000000000000000000000000", "environmentRevisionId": oid(77),
        "source": {"type": "Registry", "registeredModelName": name, "registeredModelVersion": registered_version},
        "description": description, "labels": [], "logHttpRequestResponse": log, "monitoringEnabled": monitoring,
        "recordInvocation": record, "metadata": {"created": NOW_MS, "createdBy": USER},
        "deployment": {"status": status, "isPending": status not in ("Running", "Stopped", "Failed", "Ready to run")},
        **extra,
    }


def page(items: list[Any], offset: int = 0, limit: int = 10, total: int | None = None) -> dict[str, Any]:
    metadata = {"requestId": "r-1", "notices": [], "offset": offset, "limit": limit}
    if total is not None:
        metadata["totalCount"] = total
    return {"items": items, "metadata": metadata}


def log_lines(*lines: str, status: str = "Failed") -> dict[str, Any]:
    return {"modelId": oid(1), "modelVersionId": oid(2), "status": status, "logs": [
        {"log": line, "streamType": "stdout", "timeNano": NOW_MS * 10**6 + i, "timestamp": NOW_MS, "tags": []}
        for i, line in enumerate(lines)]}


def v4_status(status: str = "Running") -> dict[str, Any]:
    return {"modelId": oid(1), "modelVersionId": oid(2), "status": status}


def public_tier(tier_id: str = "small-k8s", *, default: bool = False, data_plane: str | None = None) -> dict[str, Any]:
    tier: dict[str, Any] = {
        "id": tier_id, "name": tier_id.title(), "centsPerMinute": 1.0, "creationTime": "2026-01-01T00:00:00Z",
        "updateTime": "2026-01-01T00:00:00Z", "metadata": {},
        "flags": {"isArchived": False, "isDataAnalystTier": False, "isDefault": default, "isGlobal": True,
                  "isVisible": True},
        "resources": {"cores": 1, "memory": {"value": 4, "units": "GiB"}, "allowSharedMemoryToExceedDefault": False},
        "podCustomization": {},
    }
    if data_plane is not None:
        tier["dataPlaneId"] = data_plane
    return tier


def public_tiers(*tiers: dict[str, Any]) -> dict[str, Any]:
    return {"hardwareTiers": list(tiers), "metadata": {"requestId": "r-1", "notices": [], "offset": 0, "limit": 100}}


def v4_tier(tier_id: str, plane_id: str, plane_name: str, *, default: bool = False) -> dict[str, Any]:
    return {
        "hardwareTier": {
            "id": tier_id, "name": tier_id.title(), "centsPerMinute": 1.0, "dataPlaneId": plane_id,
            "creationTime": "2026-01-01T00:00:00Z", "updateTime": "2026-01-01T00:00:00Z", "metadata": {},
            "podCustomization": {"additionalRequests": {}, "additionalLimits": {}, "additionalAnnotations": {},
                                 "additionalLabels": {}, "hugepages": {}, "capabilities": []},
            "hwtResources": {"cores": 1.0, "memory": {"value": 4.0, "unit": "GiB"},
                             "allowSharedMemoryToExceedDefault": False},
            "hwtFlags": {"isDefault": default, "isVisible": True, "isGlobal": True, "isArchived": False,
                         "isFree": False, "isDataAnalystTier": False, "isAllowedDuringTrial": True},
        },
        "capacity": {"currentNumberOfExecutors": 0, "maximumNumberOfExecutors": 4, "numberOfCurrentlyExecutingRuns": 0,
                     "numberOfQueuedRuns": 0, "maximumConcurrentRuns": 4, "availableCapacityWithoutLaunching": 4,
                     "maximumAvailableCapacity": 4, "capacityLevel": "CAN_EXECUTE_WITH_CURRENT_INSTANCES"},
        "dataPlane": {"id": plane_id, "name": plane_name, "namespace": "", "isLocal": plane_name == "local",
                      "isArchived": False, "isHealthy": True, "isLocked": False, "isFileSyncDisabled": False,
                      "configuration": {},
                      "status": {"state": "Healthy", "message": "", "agentVersion": "1", "catalogVersion": "1",
                                 "requiresUpgrade": False, "supportsUpgrade": False}},
    }


def environments(*items: tuple[str, str, str], selected: str | None = None) -> dict[str, Any]:
    """``useableEnvironments``: (id, name, visibility) items and the project's selected one."""
    body: dict[str, Any] = {"environments": [
        {"id": i, "name": n, "visibility": v, "archived": False, "version": 1, "supportedClusters": []}
        for i, n, v in items]}
    if selected is not None:
        name = next(n for i, n, _ in items if i == selected)
        body["currentlySelectedEnvironment"] = {"id": selected, "name": name, "supportedClusters": []}
    return body


def public_job(i: int | str = 1, status: str = "Succeeded", command: str = "python train.py") -> dict[str, Any]:
    done = status in ("Succeeded", "Failed", "Error", "Stopped")
    return {"job": {
        "id": oid(i), "number": 4, "title": "train", "runCommand": command, "startedById": USER,
        "status": {"isCompleted": done, "isArchived": False, "isScheduled": False, "executionStatus": status},
        "stageTimes": {"submissionTime": "2026-01-01T00:00:00Z"}, "commitDetails": {"inputCommitId": "0" * 40},
        "commentsCount": 0, "dominoStats": [], "tags": [], "projects": [], "gitRepos": [], "datasetMounts": [],
        "externalVolumeMounts": [], "netAppVolumeMounts": [], "goalIds": [],
    }, "metadata": {"requestId": "r-1", "notices": []}}


def public_job_logs(*lines: tuple[str, str], complete: bool = True) -> dict[str, Any]:
    return {"logs": {"isComplete": complete, "logContent": [
        {"log": text, "logType": kind, "size": len(text), "timestamp": "2026-01-01T00:00:00Z"} for kind, text in lines]},
        "metadata": {"requestId": "r-1", "notices": [], "pagination": {"limit": 1000}}}


def v4_job(i: int | str = 1, status: str = "Stopped") -> dict[str, Any]:
    done = status in ("Succeeded", "Failed", "Error", "Stopped")
    return {
        "id": oid(i), "number": 4, "projectId": PROJECT, "title": "train", "jobRunCommand": "python train.py",
        "statuses": {"isCompleted": done, "isArchived": False, "isScheduled": False, "executionStatus": status},
        "stageTime": {"submissionTime": NOW_MS}, "startedBy": {"id": USER, "username": "alice"},
        "commitDetails": {"inputCommitId": "0" * 40}, "commentsCount": 0, "dominoStats": [], "tags": [],
        "dependentRepositories": [], "dependentDatasetMounts": [], "dependentProjects": [], "suggestDatasets": False,
        "goalIds": [], "dependentExternalVolumeMounts": [], "dependentNetAppVolumeMounts": [],
        "snapshotDatasetsOnCompletion": False, "snapshotNetAppVolumesOnCompletion": False,
    }


def app(i: int | str = 1, name: str = "dashboard", status: str = "Running") -> dict[str, Any]:
    return {
        "id": oid(i), "name": name, "projectId": PROJECT, "modelProductType": "APP", "status": status,
        "created": "2026-01-01T00:00:00Z", "lastUpdated": "2026-01-01T00:00:00Z", "media": [], "tags": [],
        "stats": {"usageCount": 0},
        "permissionsData": {"visibility": "GRANT_BASED", "accessRequestStatuses": {}, "pendingInvitations": [],
                            "discoverable": True, "appAccessStatus": "ALLOWED"},
    }


def project(name: str = "demo-project", owner: str = "demo-user") -> dict[str, Any]:
    """``GET /v4/projects/{id}`` (ProjectSummary)."""
    return {"id": PROJECT, "name": name, "description": "", "created": "2026-01-01T00:00:00Z",
            "visibility": "Private", "ownerId": USER, "ownerUsername": owner, "importedGitRepositories": [],
            "collaboratorIds": [], "collaborators": [], "tags": [], "stageId": oid(5), "projectType": "Analytic",
            "status": {"status": "active", "isBlocked": False}}


def gateway_project(name: str = "demo-project", owner: str = "demo-user") -> dict[str, Any]:
    """``findProjectByOwnerAndName`` (ProjectGatewayOverview)."""
    return {"id": PROJECT, "name": name, "owner": {"id": USER, "userName": owner}, "description": "",
            "hardwareTierName": "Small", "hardwareTierId": "small-k8s", "environmentName": "Standard",
            "allowedOperations": [], "visibility": "Private", "tags": [], "numComments": 0, "runsCountByType": [],
            "totalRunTime": "0", "stageId": oid(5), "status": {"status": "active", "isBlocked": False},
            "requestingUserRole": "Owner"}


def prediction(result: Any, *, version: int | str = 3) -> dict[str, Any]:
    return {"result": result, "request_id": "r-1", "model_time_in_ms": 4,
            "release": {"harness_version": "0.1", "model_version_number": 1, "registered_model_name": "churn",
                        "registered_model_version": version}}


def job_page(*jobs: dict[str, Any], offset: int = 0, total: int | None = None) -> dict[str, Any]:
    """``PaginatedJobEnvelopeV1`` of public jobs (each given as ``public_job(...)``)."""
    return {"jobs": [j["job"] for j in jobs], "metadata": {"requestId": "r-1", "notices": [], "offset": offset,
                                                          "limit": len(jobs), "totalCount": total}}


def marked_job(i: int | str, title: str, status: str = "Succeeded") -> dict[str, Any]:
    body = public_job(i, status)
    body["job"]["title"] = title
    return body


def scheduled_job(i: int | str = 1, title: str = "score", *, cron: str = "0 0 6 * * ?") -> dict[str, Any]:
    """``ScheduledJobDto``."""
    return {"id": oid(i), "created": "2026-01-01T00:00:00Z", "projectId": PROJECT, "title": title,
            "command": "python score.py", "schedule": {"cronString": cron, "isCustom": True,
                                                       "humanReadableCronString": "at 06:00"},
            "timezoneId": "UTC", "isPaused": False, "allowConcurrentExecution": False,
            "hardwareTierIdentifier": "small-k8s", "hardwareTierName": "Small",
            "environmentRevisionSpec": "ActiveRevision", "scheduledByUserId": USER, "scheduledByUserName": "alice",
            "notifyOnCompleteEmailAddresses": [],
            "dataConfig": {"snapshotDatasetsOnCompletion": False, "snapshotNetAppVolumesOnCompletion": False}}
