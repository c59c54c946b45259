"""Jobs: the public API (``/api/jobs``), the v4 routes the official client uses, and its log route."""

from __future__ import annotations

import re
from typing import Any

from domino_mlops.emulator import records as r
from domino_mlops.emulator import views
from domino_mlops.emulator.auth import Principal
from domino_mlops.emulator.context import Context
from domino_mlops.emulator.validate import Fields
from domino_mlops.emulator.web import ApiError, Request, Response, Router, bad_request
from domino_mlops.emulator.world import new_id


def register(router: Router) -> None:
    router.add("POST", "/api/jobs/v1/jobs", start_public)
    router.add("GET", "/api/jobs/beta/jobs/{jobId}", get_public)
    router.add("GET", "/api/jobs/beta/jobs/{jobId}/logs", logs_public)
    router.add("POST", "/v4/jobs/start", start_v4)
    router.add("GET", "/v4/jobs/{jobId}", get_v4)
    router.add("POST", "/v4/jobs/stop", stop_v4)
    router.add("GET", "/v1/projects/{owner}/{project}/run/{jobId}/stdout", stdout_v1)


def start_public(ctx: Context, req: Request, who: Principal) -> Any:
    f = Fields(req.json(), "body")
    job = _start(ctx, who, f, command_key="runCommand", tier_key="hardwareTierId")
    return Response(201, {"job": views.job(job, ctx.now())})


def start_v4(ctx: Context, req: Request, who: Principal) -> Any:
    f = Fields(req.json(), "body")
    job = _start(ctx, who, f, command_key="commandToRun", tier_key="overrideHardwareTierId")
    return views.job(job, ctx.now())


def get_public(ctx: Context, req: Request, who: Principal) -> Any:
    return {"job": views.job(_owned(ctx, req.params["jobId"], who), ctx.now())}


def get_v4(ctx: Context, req: Request, who: Principal) -> Any:
    return views.job(_owned(ctx, req.params["jobId"], who), ctx.now())


def stop_v4(ctx: Context, req: Request, who: Principal) -> Any:
    f = Fields(req.json(), "body")
    job_id = f.string("jobId")
    f.string("projectId", required=False)
    f.done()
    job = _owned(ctx, job_id, who)
    now = ctx.now()
    if views.job(job, now)["statuses"]["isCompleted"] is False:
        job.stopped_at = now
    return views.job(job, now)


def logs_public(ctx: Context, req: Request, who: Principal) -> Any:
    job = _owned(ctx, req.params["jobId"], who)
    _, out = views.job_log_lines(job, ctx.now(), ctx.world.failing_job_pattern)
    return {"logContent": [{"logType": "stdout", "log": line} for line in out]}


def stdout_v1(ctx: Context, req: Request, who: Principal) -> Any:
    job = _owned(ctx, req.params["jobId"], who)
    project = ctx.world.project(job.project_id)
    if (project.owner, project.name) != (req.params["owner"], req.params["project"]):
        raise ApiError(404, f"run {job.id!r} not found in {req.params['owner']}/{req.params['project']}")
    setup, out = views.job_log_lines(job, ctx.now(), ctx.world.failing_job_pattern)
    return {"setup": "\n".join(setup), "stdout": "\n".join(out)}


def _owned(ctx: Context, job_id: str, who: Principal) -> r.Job:
    job = ctx.world.job(job_id)
    who.require(job.project_id)
    return job


def _start(ctx: Context, who: Principal, f: Fields, *, command_key: str, tier_key: str) -> r.Job:
    project_id = f.string("projectId")
    command = f.string(command_key)
    title = f.string("title", required=False)
    tier_id = f.string(tier_key, required=False)
    environment_id = f.string("environmentId", required=False)
    commit_id = f.string("commitId", required=False)
    if f.data.get(command_key) is not None and not command.strip():
        f.errors.append(f"body.{command_key} must not be empty")
    f.done()
    project = ctx.world.project(project_id)
    who.require(project.id)
    if tier_id and tier_id not in {t.id for t in ctx.world.tiers_for(project.id)}:
        raise bad_request(f"hardware tier {tier_id!r} is not available to project {project.id!r}")
    if environment_id and environment_id not in ctx.world.environments:
        raise bad_request(f"environment {environment_id!r} does not exist")
    if commit_id and commit_id not in project.commits:
        raise bad_request(f"commit {commit_id!r} is not in project {project.id!r}")
    default_tier = ctx.world.default_tier(project.id)
    job = r.Job(
        id=new_id(), number=1 + sum(1 for j in ctx.world.jobs.values() if j.project_id == project.id),
        project_id=project.id, title=title, command=command,
        hardware_tier_id=tier_id or (default_tier.id if default_tier else ""),
        environment_id=environment_id or next(iter(ctx.world.environments), ""),
        commit_id=commit_id or project.commits[0], started_by=who.username, submitted=ctx.now(),
        seconds=ctx.run_seconds(), fails=_fails(ctx.world.failing_job_pattern, command),
    )
    ctx.world.jobs[job.id] = job
    return job


def _fails(pattern: str, command: str) -> bool:
    try:
        return bool(pattern) and re.search(pattern, command, re.IGNORECASE) is not None
    except re.error:
        return pattern.lower() in command.lower()
