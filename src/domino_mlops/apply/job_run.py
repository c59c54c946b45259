"""The RunJob step: start (or join) a Domino job, report each status change, and on failure
raise JobFailed with its last log lines. The ScheduleJob step: create or replace a scheduled job.

A start carries the plan's marker in its title, so a start whose answer was lost is found
again instead of run twice (clients/domino/jobs.py), and the next plan sees the job ran.
"""

from __future__ import annotations

from domino_mlops.apply.poll import PollTimeout, poll_until
from domino_mlops.apply.workload_run import WorkloadRun
from domino_mlops.clients.domino.job_types import Job
from domino_mlops.clients.domino.scheduled_jobs import NewScheduledJob
from domino_mlops.errors import ConfigError, DominoMlopsError, JobFailed
from domino_mlops.plan.steps import RunJob, ScheduleJob

LOG_LINES = 20  # what a failed job shows of its output: enough for a traceback


def run_job(step: RunJob, run: WorkloadRun) -> None:
    jobs = run.domino.jobs
    if step.action == "wait" and step.job_id:
        job = jobs.get(step.job_id)
        run.say(f"joining job #{job.number or job.id}, already started for this commit ({job.status})")
    else:
        job = jobs.start(step.project_id, step.command, title=f"{step.job} {run.env.name}", commit_id=step.commit,
                         branch=step.branch, hardware_tier=step.hardware_tier, environment_id=step.environment_id,
                         variables=step.variables, marker=step.marker)
        run.writes += 1
        run.say(f"started job #{job.number or job.id} on {step.hardware_tier or 'the default tier'}")
    run.domino_ids.append(job.id)
    try:
        final = poll_until(lambda: jobs.get(job.id), lambda j: j.is_completed, settings=run.ctx.options.poll,
                           key=lambda j: j.status,
                           on_change=lambda j: run.say(f"job #{j.number or j.id}: {j.status or 'queued'}"))
    except PollTimeout as timeout:
        raise JobFailed(step.job, run.env.name, f"unfinished ({timeout})", job.number, _tail(run, job),
                        gate=step.gate) from timeout
    if not final.succeeded:
        raise JobFailed(step.job, run.env.name, final.status or "unknown", final.number, _tail(run, final),
                        gate=step.gate)
    run.message = f"job #{final.number or final.id} succeeded"


def _tail(run: WorkloadRun, job: Job) -> tuple[str, ...]:
    try:
        run.log_tail = run.domino.jobs.logs(job.id).tail(LOG_LINES)
    except DominoMlopsError as exc:  # the failure matters more than its log: report it anyway
        run.log_tail = (f"(the job's log could not be read: {exc})",)
    return run.log_tail


def schedule_job(step: ScheduleJob, run: WorkloadRun) -> None:
    """Domino's scheduler needs a tier and the user it runs as: the project's default tier when
    the manifest names none, and whoever holds this run's credential."""
    domino = run.domino
    tier = step.hardware_tier or next((t.id for t in domino.hardware_tiers(step.project_id) if t.is_default), None)
    if tier is None:
        raise ConfigError(f"Domino names no default hardware tier for project {step.project_id}",
                          hint=f"Give job {step.job!r} a hardware_tier in the manifest.")
    definition = NewScheduledJob(
        title=f"{step.job} {run.env.name}", command=step.command, cron=step.cron, hardware_tier=tier,
        scheduled_by=domino.current_user().id, timezone=step.timezone, environment_id=step.environment_id,
        branch=step.branch, commit_id=step.commit, variables=step.variables, marker=step.marker)
    if step.action == "update" and step.scheduled_id:
        made = domino.scheduled_jobs.update(step.project_id, step.scheduled_id, definition)
    else:
        made = domino.scheduled_jobs.create(step.project_id, definition)
    run.writes += 1
    run.domino_ids.append(made.id)
    run.message = f"scheduled at {made.cron!r} ({made.timezone}) on {made.hardware_tier_id}"
    run.say(run.message)
