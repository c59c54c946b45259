"""Jobs: the public API (``/api/jobs``), the v4 routes the official client uses, and its /v1 runs.

A job start takes no environment variables (neither ``NewJobV1`` nor ``StartJobRequest`` has
them), so a job that needs some runs ``env NAME=value ... <command>``; the emulator reads that
prefix as the shell would and keeps what the job's process would see (``Job.variables``).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

from domino_emulator import records as r
from domino_emulator.auth import Principal
from domino_emulator.context import Context
from domino_emulator.views import jobs as views
from domino_emulator.web import ApiError, Request, Router, bad_request
from domino_emulator.world import new_id

# python-domino's jobs_list() documents the server's default page size as 3; the public
# getJobs documents 10. The largest pages are emulator choices.
V4_PAGE_SIZE, V4_MAX_PAGE_SIZE = 3, 100
PUBLIC_PAGE_SIZE, PUBLIC_MAX_PAGE_SIZE = 10, 100
PUBLIC_LOG_LIMIT = 1000
_VARIABLE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.DOTALL)


def register(router: Router) -> None:
    router.add("POST", "/api/jobs/v1/jobs", start_public)
    router.add("GET", "/api/jobs/beta/jobs", list_public)
    router.add("GET", "/api/jobs/beta/jobs/{jobId}", get_public)
    router.add("GET", "/api/jobs/beta/jobs/{jobId}/logs", logs_public)
    router.add("GET", "/v4/jobs", list_v4)
    router.add("POST", "/v4/jobs/start", start_v4)
    router.add("GET", "/v4/jobs/{jobId}", get_v4)
    router.add("GET", "/v4/jobs/{jobId}/runtimeExecutionDetails", runtime_details_v4)
    router.add("POST", "/v4/jobs/stop", stop_v4)
    router.add("POST", "/v4/jobs/restart", restart_v4)
    router.add("GET", "/v1/projects/{ownerName}/{projectName}/runs", runs_v1)
    router.add("GET", "/v1/projects/{ownerName}/{projectName}/run/{runId}/stdout", stdout_v1)


@dataclass(frozen=True, slots=True)
class _Start:
    """A job to start, read from either API's request (field names differ, meaning does not)."""

    project_id: str
    command: str
    title: str = ""
    tier_id: str = ""
    environment_id: str = ""
    commit_id: str = ""


def start_public(ctx: Context, req: Request, who: Principal) -> Any:
    """``NewJobV1`` -> 200 ``JobEnvelopeV1``."""
    body = req.json_object()
    job = _start(ctx, who, _Start(body["projectId"], body["runCommand"], body.get("title") or "",
                                  body.get("hardwareTier") or "", body.get("environmentId") or "",
                                  body.get("commitId") or ""))
    return views.job_public(job, job.submitted)  # as of the start: Queued, however busy the machine


def start_v4(ctx: Context, req: Request, who: Principal) -> Any:
    """``StartJobRequest`` -> ``Job``."""
    body = req.json_object()  # optional in the document, but projectId and commandToRun are not
    job = _start(ctx, who, _Start(body["projectId"], body["commandToRun"], body.get("title") or "",
                                  body.get("overrideHardwareTierId") or "", body.get("environmentId") or "",
                                  body.get("commitId") or ""))
    return views.job_v4(job, ctx.world, job.submitted)


def get_public(ctx: Context, req: Request, who: Principal) -> Any:
    return views.job_public(_owned(ctx, req.params["jobId"], who), ctx.now())


def get_v4(ctx: Context, req: Request, who: Principal) -> Any:
    return views.job_v4(_owned(ctx, req.params["jobId"], who), ctx.world, ctx.now())


def list_public(ctx: Context, req: Request, who: Principal) -> Any:
    """``PaginatedJobEnvelopeV1``: ``sortBy`` (number, title, command, startedTime, status, user;
    the rest sort by number), ``ascending`` (default false: newest first), ``statusFilter``
    (all, queued, running, completed, active; archived: none, the emulator archives nothing)."""
    q = req.query
    project = ctx.world.project(q["projectId"])
    who.require(project.id)
    offset, limit = int(q.get("offset") or 0), min(int(q.get("limit") or PUBLIC_PAGE_SIZE), PUBLIC_MAX_PAGE_SIZE)
    if offset < 0 or limit < 1:
        raise bad_request("offset must be >= 0 and limit >= 1")
    now = ctx.now()
    wanted = (q.get("statusFilter") or "all").lower()
    rows = [(j, views.job_public(j, now)["job"]) for j in ctx.world.jobs.values() if j.project_id == project.id]
    rows = [(j, v) for j, v in rows if _public_status_matches(wanted, v["status"])]
    order = {"startedTime": "queued", "duration": "number", "commentCount": "number",
             "dominoStatsField": "number"}.get(q.get("sortBy") or "number", q.get("sortBy") or "number")
    rows.sort(key=lambda jv: _sort_key(order, jv[0], {"statuses": jv[1]["status"]}),
              reverse=q.get("ascending", "false") != "true")
    return views.job_page([v for _, v in rows[offset:offset + limit]], offset=offset, limit=limit, total=len(rows))


def _public_status_matches(wanted: str, status: dict[str, Any]) -> bool:
    if wanted == "all":
        return True
    if wanted == "archived":
        return status["isArchived"]
    if wanted == "completed":
        return status["isCompleted"]
    if wanted == "active":
        return not status["isCompleted"]
    return status["executionStatus"].lower() == wanted


def list_v4(ctx: Context, req: Request, who: Principal) -> Any:
    """``JobSet``: ``page_no`` counts from 1; ``status`` "all" or a status word (any case),
    "completed" and "running" as python-domino names them."""
    q = req.query
    project = ctx.world.project(q["projectId"])
    who.require(project.id)
    size = min(int(float(q.get("page_size") or V4_PAGE_SIZE)), V4_MAX_PAGE_SIZE)
    page = max(int(float(q.get("page_no") or 1)), 1)
    if size < 1:
        raise bad_request("page_size must be at least 1")
    order_by, sort_by = q.get("order_by") or "number", q.get("sort_by") or "desc"
    if sort_by not in ("asc", "desc"):
        raise bad_request("sort_by must be asc or desc")
    now = ctx.now()
    wanted = (q.get("status") or "all").lower()
    rows = [(j, views.job_v4(j, ctx.world, now)) for j in ctx.world.jobs.values() if j.project_id == project.id]
    rows = [(j, v) for j, v in rows if _status_matches(wanted, v["statuses"])]
    rows.sort(key=lambda jv: _sort_key(order_by, jv[0], jv[1]), reverse=sort_by == "desc")
    offset = (page - 1) * size
    return views.job_set([v for _, v in rows[offset:offset + size]], len(rows), offset=offset, limit=size,
                         order_by=order_by if order_by in _SORTS else "number", sort_by=sort_by)


_SORTS = {"number": lambda j, v: j.number, "title": lambda j, v: j.title, "command": lambda j, v: j.command,
          "status": lambda j, v: v["statuses"]["executionStatus"], "queued": lambda j, v: j.submitted,
          "user": lambda j, v: j.started_by}


def _sort_key(order_by: str, job: r.Job, view: dict[str, Any]) -> Any:
    return _SORTS.get(order_by, _SORTS["number"])(job, view)


def _status_matches(wanted: str, statuses: dict[str, Any]) -> bool:
    if wanted == "all":
        return True
    if wanted == "completed":
        return statuses["isCompleted"]
    if wanted == "running":
        return not statuses["isCompleted"]
    return statuses["executionStatus"].lower() == wanted


def stop_v4(ctx: Context, req: Request, who: Principal) -> Any:
    """``JobStopOperationRequest`` -> ``Job``; stopping a finished job changes nothing."""
    job = _owned(ctx, req.json_object()["jobId"], who)
    now = ctx.now()
    if not views.job_v4(job, ctx.world, now)["statuses"]["isCompleted"]:
        job.stopped_at = now
    return views.job_v4(job, ctx.world, now)


def restart_v4(ctx: Context, req: Request, who: Principal) -> Any:
    """``JobRestartOperationRequest`` -> the new ``Job``: the same command, tier and environment,
    at the original commit or the project's newest one."""
    body = req.json_object()
    old = _owned(ctx, body["jobId"], who)
    project = ctx.world.project(old.project_id)
    commit = old.commit_id if body["shouldUseOriginalInputCommit"] else project.commits[0]
    job = _start(ctx, who, _Start(old.project_id, old.command, old.title, old.hardware_tier_id,
                                  old.environment_id, commit))
    return views.job_v4(job, ctx.world, job.submitted)


def logs_public(ctx: Context, req: Request, who: Principal) -> Any:
    job = _owned(ctx, req.params["jobId"], who)
    limit = int(req.query.get("limit") or PUBLIC_LOG_LIMIT)
    if limit < 1:
        raise bad_request("limit must be at least 1")
    return views.job_logs_public(job, ctx.now(), ctx.world.failing_job_pattern, log_type=req.query.get("logType"),
                                 limit=limit)


def _project(ctx: Context, req: Request, who: Principal) -> r.Project:
    found = ctx.world.find_project(req.params["ownerName"], req.params["projectName"])
    if found is None:
        raise ApiError(404, f"project {req.params['ownerName']}/{req.params['projectName']} not found")
    who.require(found.id)
    return found


def runtime_details_v4(ctx: Context, req: Request, who: Principal) -> Any:
    """``JobRuntimeExecutionDetails``: the job's environment and hardware tier (python-domino's
    ``job_runtime_execution_details``)."""
    job = _owned(ctx, req.params["jobId"], who)
    return views.runtime_details(job, ctx.world)


def runs_v1(ctx: Context, req: Request, who: Principal) -> Any:
    project = _project(ctx, req, who)
    now = ctx.now()
    jobs = sorted((j for j in ctx.world.jobs.values() if j.project_id == project.id), key=lambda j: j.number)
    return {"objectType": "list", "data": [views.run_v1(j, now) for j in jobs]}


def stdout_v1(ctx: Context, req: Request, who: Principal) -> Any:
    project = _project(ctx, req, who)
    job = ctx.world.job(req.params["runId"])
    if job.project_id != project.id:
        raise ApiError(404, f"run {job.id!r} not found in {project.owner}/{project.name}")
    return views.stdout_v1(job, ctx.now(), ctx.world.failing_job_pattern)


def _owned(ctx: Context, job_id: str, who: Principal) -> r.Job:
    job = ctx.world.job(job_id)
    who.require(job.project_id)
    return job


def _start(ctx: Context, who: Principal, spec: _Start) -> r.Job:
    problems = []
    if not spec.command.strip():
        problems.append("the command must not be empty")
    project = ctx.world.project(spec.project_id)
    who.require(project.id)
    if spec.tier_id and spec.tier_id not in {t.id for t in ctx.world.tiers_for(project.id)}:
        problems.append(f"hardware tier {spec.tier_id!r} is not available to project {project.id!r}")
    if spec.environment_id and spec.environment_id not in ctx.world.environments:
        problems.append(f"environment {spec.environment_id!r} does not exist")
    if spec.commit_id and spec.commit_id not in project.commits:
        problems.append(f"commit {spec.commit_id!r} is not in project {project.id!r}")
    if problems:
        raise bad_request(problems[0], problems)
    default_tier = ctx.world.default_tier(project.id)
    job = r.Job(
        id=new_id(), number=1 + sum(1 for j in ctx.world.jobs.values() if j.project_id == project.id),
        project_id=project.id, title=spec.title, command=spec.command,
        hardware_tier_id=spec.tier_id or (default_tier.id if default_tier else ""),
        environment_id=spec.environment_id or next(iter(ctx.world.environments), ""),
        commit_id=spec.commit_id or project.commits[0], started_by=who.username, submitted=ctx.now(),
        seconds=ctx.run_seconds(), fails=_fails(ctx.world.failing_job_pattern, spec.command),
        variables=variables_of(spec.command),
    )
    ctx.world.jobs[job.id] = job
    return job


def variables_of(command: str) -> dict[str, str]:
    """What ``env NAME=value ... program`` gives the program, read as a POSIX shell reads it;
    nothing for any other command (or one a shell could not split)."""
    try:
        words = shlex.split(command)
    except ValueError:
        return {}
    found: dict[str, str] = {}
    if words[:1] == ["env"]:
        for word in words[1:]:
            if not (match := _VARIABLE.match(word)):
                break
            found[match.group(1)] = match.group(2)
    return found


def _fails(pattern: str, command: str) -> bool:
    try:
        return bool(pattern) and re.search(pattern, command, re.IGNORECASE) is not None
    except re.error:
        return pattern.lower() in command.lower()
