"""(desired jobs and apps, what Domino shows) -> WorkloadChanges. Pure, like plan/planner.py.

A job runs once per commit and definition: its title carries a marker whose key is a digest of
both (plus an attempt number), so a re-run finds the job that already succeeded and runs
nothing, joins one still running, and starts a new attempt only after a failure. An app is
(re)started only when what runs differs from the manifest (not running, another hardware tier,
compute environment or commit); a visibility change alone is one write and no restart. A
scheduled job is Domino's to run: its definition is created, or replaced when it differs (its
title carries its identity and a digest of its definition).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping, Sequence

from domino_mlops.clients.domino.app_types import App
from domino_mlops.clients.domino.job_types import Job, ScheduledJob
from domino_mlops.desired.environments import Environment
from domino_mlops.desired.workloads import AppSpec, JobSpec
from domino_mlops.desired.naming import app_name
from domino_mlops.plan.steps import (
    AppInstanceRef,
    PublishApp,
    RecordLedger,
    RunJob,
    ScheduleJob,
    SetAppVisibility,
    WorkloadChange,
)

BEFORE_MODELS, AFTER_MODELS, APPS = "before_models", "after_models", "apps"
PHASES = (BEFORE_MODELS, AFTER_MODELS, APPS)  # the models run between the first two


def _digest(document: object) -> str:
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def job_digest(job: JobSpec, env: Environment, commit: str) -> str:
    """What makes a job run "the same": where and how it runs in ``env``, and the commit of the
    pipeline run (a new commit runs it again; a re-run of the same commit does not)."""
    return _digest({"environment": env.name, "project": job.project_for(env), "name": job.name,
                    "command": job.command, "variables": job.variables_for(env), "tier": job.tier_for(env),
                    "environment_id": job.environment_id, "commit": job.commit, "branch": job.branch,
                    "run_commit": commit})


def app_digest(app: AppSpec, env: Environment) -> str:
    """What the manifest asks of an app in ``env`` (the ledger's "version" of an app)."""
    return _digest({"environment": env.name, "project": app.project_for(env), "name": app.name,
                    "tier": app.tier_for(env), "environment_id": app.environment_id, "commit": app.commit,
                    "branch": app.branch, "visibility": app.visibility, "entry_point": app.entry_point})


def schedule_identity(job: JobSpec, env: Environment) -> str:
    """Which scheduled job is this one's in ``env``, whatever its definition."""
    return _digest({"environment": env.name, "project": job.project_for(env), "name": job.name, "scheduled": True})


def schedule_digest(job: JobSpec, env: Environment) -> str:
    """The scheduled job's definition in ``env``: a different one is replaced."""
    schedule = job.schedule
    return _digest({"definition": job_digest(job, env, ""), "cron": schedule.cron if schedule else None,
                    "timezone": schedule.timezone if schedule else None})


def plan_schedule(job: JobSpec, env: Environment, found: ScheduledJob | None, *, action: str,
                  recorded: Collection[tuple[str, str, str]] = ()) -> WorkloadChange:
    """``found``: the project's scheduled job carrying this one's identity (None: none yet)."""
    if job.schedule is None:
        raise ValueError(f"job {job.name!r} has no schedule")
    digest = schedule_digest(job, env)
    key = f"{schedule_identity(job, env)}.{digest}"
    common = dict(subject="job", name=job.name, project_id=job.project_for(env),
                  phase=BEFORE_MODELS if job.when == "before_models" else AFTER_MODELS, gate=False,
                  line=job.line, digest=digest, listed_under=job.project_id)
    record = RecordLedger(env.name, job.name, None, digest, action, subject="job")
    if found is not None and found.marker == key:
        seen = f"scheduled at {found.cron!r} ({found.timezone}) as the manifest says"
        return WorkloadChange(**common, steps=() if ("job", job.name, digest) in recorded else (record,),
                              observed=seen)
    step = ScheduleJob(job.name, job.project_for(env), job.command, key, job.schedule.cron, job.schedule.timezone,
                       action="update" if found else "create", variables=job.variables_for(env),
                       hardware_tier=job.tier_for(env), environment_id=job.environment_id, commit=job.commit,
                       branch=job.branch, scheduled_id=found.id if found else None)
    seen = f"scheduled at {found.cron!r} ({found.timezone}), another definition" if found else "not scheduled"
    return WorkloadChange(**common, steps=(step, record), observed=seen)


def marked_runs(digest: str, jobs: Sequence[Job]) -> tuple[Job, ...]:
    """The jobs (newest first) started for this digest, whatever their attempt number."""
    return tuple(job for job in jobs if (job.marker or "").split(".")[0] == digest)


def plan_job(job: JobSpec, env: Environment, runs: Sequence[Job], *, commit: str, action: str,
             recorded: Collection[tuple[str, str, str]] = ()) -> WorkloadChange:
    """``runs``: the project's jobs marked with this job's digest, newest first. ``recorded``:
    (subject, name, version) of the environment's ledger entries."""
    digest = job_digest(job, env, commit)
    # The approval covers the definition; the run's commit is the same for the plan job and the
    # apply job of one workflow run, but a plan made elsewhere (a PR) must not differ for it.
    common = dict(subject="job", name=job.name, project_id=job.project_for(env),
                  phase=BEFORE_MODELS if job.when == "before_models" else AFTER_MODELS, gate=job.gate,
                  line=job.line, digest=job_digest(job, env, ""), listed_under=job.project_id)
    record = RecordLedger(env.name, job.name, None, digest, action, subject="job")
    succeeded = next((run for run in runs if run.succeeded), None)
    if succeeded is not None:
        seen = f"job #{succeeded.number or succeeded.id} succeeded for this commit and definition"
        missing = ("job", job.name, digest) not in recorded
        return WorkloadChange(**common, steps=(record,) if missing else (), observed=seen)
    running = next((run for run in runs if not run.is_completed), None)
    step = RunJob(job.name, job.project_for(env), job.command, f"{digest}.{len(runs) + 1}",
                  action="wait" if running else "start", variables=job.variables_for(env),
                  hardware_tier=job.tier_for(env), environment_id=job.environment_id, commit=job.commit,
                  branch=job.branch, gate=job.gate, job_id=running.id if running else None)
    if running is not None:
        seen = f"job #{running.number or running.id} is {running.status or 'queued'}"
    elif runs:
        seen = f"{len(runs)} earlier attempt(s) for this commit failed"
    else:
        seen = "not run for this commit"
    return WorkloadChange(**common, steps=(step, record), observed=seen)


def plan_app(app: AppSpec, env: Environment, found: App | None, *, action: str,
             last_recorded: str | None = None) -> WorkloadChange:
    """``found``: the project's Domino app for it in ``env`` (naming.app_name; None: none yet).
    ``last_recorded``: the app's last ledger version in this environment."""
    digest = app_digest(app, env)
    tier = app.tier_for(env)
    common = dict(subject="app", name=app.name, project_id=app.project_for(env), phase=APPS, line=app.line,
                  digest=digest, listed_under=app.project_id)
    publish = dict(app=app_name(app.name, env), project_id=app.project_for(env), hardware_tier=tier,
                   environment_id=app.environment_id, commit=app.commit, branch=app.branch,
                   visibility=app.visibility, entry_point=app.entry_point, smoke_path=app.smoke_path)
    record = RecordLedger(env.name, app.name, last_recorded if last_recorded != digest else None, digest, action,
                          subject="app")
    if found is None:
        return WorkloadChange(**common, steps=(PublishApp(**publish, action="create", reason="no app of that name"),
                                               record), observed="none")
    reasons = _differences(app, tier, found)
    steps: list = []
    if reasons:
        previous = (AppInstanceRef(found.running_commit_id, found.hardware_tier_id, found.environment_id,
                                   found.version_id, found.entry_point) if found.is_running else None)
        steps.append(PublishApp(**publish, action="start", app_id=found.id, previous=previous,
                                reason="; ".join(reasons)))
    if found.visibility != app.visibility:
        steps.append(SetAppVisibility(app_name(app.name, env), found.id, found.visibility, app.visibility))
    if steps or last_recorded != digest:
        steps.append(record)
    seen = f"{found.status or 'never started'} on {found.hardware_tier_id or 'the default tier'}"
    if found.running_commit_id:
        seen += f" at commit {found.running_commit_id[:12]}"
    return WorkloadChange(**common, steps=tuple(steps), observed=seen)


def _differences(app: AppSpec, tier: str | None, found: App) -> list[str]:
    """Why the running app is not what the manifest asks (empty: leave it running)."""
    reasons = []
    if not found.is_running:
        reasons.append(f"it is {found.status or 'not started'}")
    if tier and found.hardware_tier_id != tier:
        reasons.append(f"tier {found.hardware_tier_id or '(default)'} -> {tier}")
    if app.environment_id and found.environment_id != app.environment_id:
        reasons.append(f"compute environment {found.environment_id or '(default)'} -> {app.environment_id}")
    if app.entry_point and found.api == "public" and found.entry_point != app.entry_point:
        # Only the public Apps API changes an entry point (PATCH); v4 sets it at creation only.
        reasons.append(f"entry point {found.entry_point or '(default)'} -> {app.entry_point}")
    if app.commit and found.is_running and found.running_commit_id != app.commit:
        reasons.append(f"commit {(found.running_commit_id or '?')[:12]} -> {app.commit[:12]}")
    return reasons


def plan_workloads(env: Environment, jobs: Sequence[JobSpec], apps: Sequence[AppSpec], *,
                   job_runs: Mapping[tuple[str, str], Sequence[Job]], found_apps: Mapping[tuple[str, str], App],
                   commit: str, action: str, recorded: Collection[tuple[str, str, str]] = (),
                   last_app_versions: Mapping[str, str] | None = None,
                   scheduled: Mapping[tuple[str, str], ScheduledJob] | None = None) -> tuple[WorkloadChange, ...]:
    """Every job and app of the environment, in phase order, the manifest's order within a phase.

    ``job_runs``: (project, digest) -> marked jobs, newest first; ``found_apps``: (project, Domino
    app name) -> app; ``scheduled``: (project, schedule identity) -> scheduled job."""
    last, schedules = last_app_versions or {}, scheduled or {}
    changes = [
        plan_schedule(job, env, schedules.get((job.project_for(env), schedule_identity(job, env))), action=action,
                      recorded=recorded) if job.schedule is not None else
        plan_job(job, env, job_runs.get((job.project_for(env), job_digest(job, env, commit)), ()),
                 commit=commit, action=action, recorded=recorded)
        for job in jobs]
    changes += [plan_app(app, env, found_apps.get((app.project_for(env), app_name(app.name, env))), action=action,
                         last_recorded=last.get(app.name)) for app in apps]
    return tuple(sorted(changes, key=lambda change: PHASES.index(change.phase)))  # stable: file order kept
