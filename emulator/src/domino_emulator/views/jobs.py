"""Jobs: the v4 ``Job``, the public ``JobDetailsV1``, their logs, and python-domino's /v1 runs."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from domino_emulator import lifecycle
from domino_emulator import records as r
from domino_emulator.seed import user_id
from domino_emulator.views import iso, metadata, ms, paged_metadata
from domino_emulator.views.platform import data_plane
from domino_emulator.world import World

COMPLETED = frozenset({"Succeeded", "Failed", "Stopped", "Error"})


@dataclass(frozen=True, slots=True)
class Times:
    """When a job was submitted, started and ended (None: not yet), and its status now."""

    status: str
    submitted: float
    started: float | None
    ended: float | None

    @classmethod
    def of(cls, j: r.Job, now: float) -> Times:
        status = lifecycle.job_status(j, now)
        started = lifecycle.job_started_at(j)
        ended = None
        if status == "Stopped":
            ended = j.stopped_at
        elif status in COMPLETED:
            ended = j.submitted + j.seconds
        return cls(status, j.submitted, started if status != "Queued" and started <= (ended or now) else None, ended)


def _output_commit(j: r.Job) -> str:
    return hashlib.sha1(f"{j.id}/output".encode()).hexdigest()


def job_v4(j: r.Job, world: World, now: float) -> dict[str, Any]:
    """``domino.jobs.interface.Job``."""
    t = Times.of(j, now)
    tier = world.hardware_tiers.get(j.hardware_tier_id)
    body: dict[str, Any] = {
        "id": j.id, "number": j.number, "projectId": j.project_id, "title": j.title or None,
        "jobRunCommand": j.command,
        "statuses": {"executionStatus": t.status, "isCompleted": t.status in COMPLETED, "isArchived": False,
                     "isScheduled": False},
        "stageTime": {"submissionTime": ms(t.submitted), "runStartTime": ms(t.started), "completedTime": ms(t.ended)},
        "startedBy": {"id": user_id(j.started_by), "username": j.started_by},
        "commitDetails": {"inputCommitId": j.commit_id,
                          "outputCommitId": _output_commit(j) if t.status in COMPLETED else None},
        "commentsCount": 0, "dominoStats": [], "goalIds": [], "tags": [], "dependentDatasetMounts": [],
        "dependentExternalVolumeMounts": [], "dependentNetAppVolumeMounts": [], "dependentProjects": [],
        "dependentRepositories": [], "snapshotDatasetsOnCompletion": False,
        "snapshotNetAppVolumesOnCompletion": False, "suggestDatasets": False,
    }
    if tier is not None:
        body["dataPlane"] = data_plane(world.data_planes.get(tier.data_plane_id), tier.data_plane_id)
    return body


def runtime_details(j: r.Job, world: World) -> dict[str, Any]:
    """``domino.jobs.interface.JobRuntimeExecutionDetails`` (the emulator runs no executor)."""
    environment = world.environments.get(j.environment_id)
    tier = world.hardware_tiers.get(j.hardware_tier_id)
    return {"environment": {"environmentId": j.environment_id,
                            "environmentName": environment.name if environment else j.environment_id,
                            "environmentRevisionSpec": "ActiveRevision", "revisionNumber": 1},
            "hardwareTier": {"id": j.hardware_tier_id, "name": tier.name if tier else j.hardware_tier_id,
                             "isArchived": False}}


def job_set(jobs: list[dict[str, Any]], total: int, *, offset: int, limit: int, order_by: str,
            sort_by: str) -> dict[str, Any]:
    """``domino.jobs.interface.JobSet``: one page of v4 jobs."""
    return {"jobs": jobs, "totalCount": total, "dominoStatColumns": [],
            "pagination": {"offset": offset, "limit": limit, "orderBy": order_by, "sortBy": sort_by}}


def job_page(jobs: list[dict[str, Any]], *, offset: int, limit: int, total: int) -> dict[str, Any]:
    """``PaginatedJobEnvelopeV1``: one page of public jobs (each ``JobDetailsV1``, a ``JobV1`` and more)."""
    return {"jobs": jobs, "metadata": paged_metadata(offset, limit, total)}


def job_public(j: r.Job, now: float) -> dict[str, Any]:
    """``JobEnvelopeV1``: ``{"job": JobDetailsV1, "metadata"}``."""
    t = Times.of(j, now)
    stages = {"submissionTime": iso(t.submitted)}
    if t.started is not None:
        stages["startTime"] = iso(t.started)
    if t.ended is not None:
        stages["completedTime"] = iso(t.ended)
    commits = {"inputCommitId": j.commit_id}
    if t.status in COMPLETED:
        commits["outputCommitId"] = _output_commit(j)
    job: dict[str, Any] = {
        "id": j.id, "number": j.number, "runCommand": j.command,
        "status": {"executionStatus": t.status, "isCompleted": t.status in COMPLETED, "isArchived": False,
                   "isScheduled": False},
        "stageTimes": stages, "startedById": user_id(j.started_by), "commitDetails": commits,
        "commentsCount": 0, "datasetMounts": [], "dominoStats": [], "externalVolumeMounts": [], "gitRepos": [],
        "goalIds": [], "netAppVolumeMounts": [], "projects": [], "tags": [],
    }
    if j.title:
        job["title"] = j.title
    return {"job": job, "metadata": metadata()}


def log_entries(j: r.Job, now: float, pattern: str) -> list[tuple[float, str, str]]:
    """``(time, logType, line)`` of a job so far: setup lines are ``prepareOutput``, the
    command's are ``stdOut`` (the public document's log types)."""
    t = Times.of(j, now)
    lines = [(t.submitted, "prepareOutput", f"Job #{j.number} queued on hardware tier {j.hardware_tier_id}")]
    if t.started is None:
        return lines
    lines.append((t.started, "prepareOutput",
                  f"Starting run in environment {j.environment_id} at commit {j.commit_id[:12]}"))
    if j.variables:
        lines.append((t.started, "prepareOutput",
                      "Environment variables: " + ", ".join(f"{k}={v}" for k, v in j.variables.items())))
    lines.append((t.started, "stdOut", f"$ {j.command}"))
    ended = t.ended if t.ended is not None else now
    if t.status == "Succeeded":
        lines.append((ended, "stdOut", "(emulated) command finished with exit code 0"))
    elif t.status == "Failed":
        # What a failing script leaves behind: the last lines are what a pipeline shows.
        lines.append((ended, "stdErr", "Traceback (most recent call last):"))
        lines.append((ended, "stdErr", f'  File "{j.command.split()[-1]}", line 1, in <module>'))
        lines.append((ended, "stdErr", "RuntimeError: emulated failure"))
        lines.append((ended, "stdOut", f"(emulated) command matched the failing pattern {pattern!r}: exit code 1"))
    elif t.status == "Stopped":
        lines.append((ended, "stdOut", "(emulated) stopped by user"))
    return lines


def job_logs_public(j: r.Job, now: float, pattern: str, *, log_type: str | None, limit: int) -> dict[str, Any]:
    """``LogsEnvelopeV1``; ``log_type`` None or ``complete`` means every type."""
    entries = [e for e in log_entries(j, now, pattern) if log_type in (None, "complete") or e[1] == log_type]
    entries = entries[-limit:]
    content = [{"log": line, "logType": kind, "size": len(line), "timestamp": iso(when)} for when, kind, line in entries]
    pagination: dict[str, Any] = {"limit": limit}
    if entries:
        pagination["latestTimeNano"] = str(int(entries[-1][0] * 1_000_000_000))
    return {"logs": {"logContent": content, "isComplete": Times.of(j, now).status in COMPLETED},
            "metadata": {**metadata(), "pagination": pagination}}


def stdout_v1(j: r.Job, now: float, pattern: str) -> dict[str, Any]:
    """``GET /v1/projects/{ownerName}/{projectName}/run/{runId}/stdout`` (unpublished)."""
    entries = log_entries(j, now, pattern)
    return {"setup": "\n".join(line for _, kind, line in entries if kind == "prepareOutput"),
            "stdout": "\n".join(line for _, kind, line in entries if kind == "stdOut")}


def run_v1(j: r.Job, now: float) -> dict[str, Any]:
    """An item of ``GET /v1/projects/{ownerName}/{projectName}/runs`` (unpublished)."""
    t = Times.of(j, now)
    return {"id": j.id, "projectId": j.project_id, "number": j.number, "status": t.status, "title": j.title or None,
            "commitId": j.commit_id, "queued": ms(t.submitted), "started": ms(t.started), "completed": ms(t.ended),
            "postProcessedTimestamp": ms(t.ended), "isCompleted": t.status in COMPLETED,
            "hardwareTierId": j.hardware_tier_id, "environmentId": j.environment_id, "diagnosticStatistics": None}
