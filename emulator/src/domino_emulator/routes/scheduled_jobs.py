"""Scheduled jobs (``/v4/projects/{projectId}/scheduledjobs``): list, create, update, delete.

Domino starts a scheduled job on its clock from a Quartz cron expression (Domino support: "How
can I write a custom schedule?"). The emulator keeps the definition, checks what Domino would
refuse (a tier the project cannot use, an unknown environment, a cron expression of the wrong
shape, an unknown time zone) and never fires it: a test asserts on the definition.
"""

from __future__ import annotations

from typing import Any

from domino_emulator import records as r
from domino_emulator.auth import Principal
from domino_emulator.context import Context
from domino_emulator.views import scheduled_jobs as views
from domino_emulator.web import Request, Response, Router, bad_request
from domino_emulator.world import new_id
from domino_mlops.desired.workloads import cron_problem, timezone_problem

BASE = "/v4/projects/{projectId}/scheduledjobs"


def register(router: Router) -> None:
    router.add("GET", BASE, list_scheduled)
    router.add("POST", BASE, create_scheduled)
    router.add("PUT", BASE + "/{scheduledJobKey}", update_scheduled)
    router.add("DELETE", BASE + "/{scheduledJobKey}", delete_scheduled)


def list_scheduled(ctx: Context, req: Request, who: Principal) -> Any:
    project = _project(ctx, req, who)
    found = sorted((s for s in ctx.world.scheduled_jobs.values() if s.project_id == project.id),
                   key=lambda s: s.created)
    return [views.scheduled_job(s, ctx.world) for s in found]


def create_scheduled(ctx: Context, req: Request, who: Principal) -> Any:
    """``NewScheduledJobDto`` -> ``ScheduledJobDto``."""
    project = _project(ctx, req, who)
    job = r.ScheduledJob(id=new_id(), project_id=project.id, created=ctx.now(), **_fields(ctx, project, req))
    ctx.world.scheduled_jobs[job.id] = job
    return views.scheduled_job(job, ctx.world)


def update_scheduled(ctx: Context, req: Request, who: Principal) -> Any:
    """``UpdatedScheduledJobDTO`` -> ``ScheduledJobDto``: the whole definition is replaced."""
    project = _project(ctx, req, who)
    job = ctx.world.scheduled_job(project.id, req.params["scheduledJobKey"])
    for name, value in _fields(ctx, project, req).items():
        setattr(job, name, value)
    return views.scheduled_job(job, ctx.world)


def delete_scheduled(ctx: Context, req: Request, who: Principal) -> Any:
    project = _project(ctx, req, who)
    job = ctx.world.scheduled_job(project.id, req.params["scheduledJobKey"])
    del ctx.world.scheduled_jobs[job.id]
    return Response.empty(200)


def _project(ctx: Context, req: Request, who: Principal) -> r.Project:
    project = ctx.world.project(req.params["projectId"])
    who.require(project.id)
    return project


def _fields(ctx: Context, project: r.Project, req: Request) -> dict[str, Any]:
    """The record's fields from a create or update body (the same required fields); 400 with
    every problem no schema catches."""
    body = req.json_object()
    cron, zone = body["schedule"]["cronString"], body["timezoneId"]
    tier, environment = body["hardwareTierIdentifier"], body.get("overrideEnvironmentId")
    problems = [p for p in (cron_problem(cron), timezone_problem(zone)) if p]
    if tier not in {t.id for t in ctx.world.tiers_for(project.id)}:
        problems.append(f"hardware tier {tier!r} is not available to project {project.id!r}")
    if environment and environment not in ctx.world.environments:
        problems.append(f"environment {environment!r} does not exist")
    if not body["command"].strip():
        problems.append("the command must not be empty")
    if problems:
        raise bad_request(problems[0], problems)
    return {"title": body["title"], "command": body["command"], "cron": cron, "is_custom": body["schedule"]["isCustom"],
            "timezone": zone, "is_paused": body["isPaused"], "allow_concurrent": body["allowConcurrentExecution"],
            "hardware_tier_id": tier, "environment_id": environment,
            "environment_revision_spec": body["environmentRevisionSpec"],
            "scheduled_by_user_id": body["scheduledByUserId"],
            "notify": list(body["notifyOnCompleteEmailAddresses"]), "main_repo_git_ref": body.get("mainRepoGitRef")}
