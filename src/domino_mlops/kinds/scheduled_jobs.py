"""Scheduled jobs (a job with ``schedule:`` in the manifest): Domino runs them on its own clock.

The definition is created, or replaced whole when it differs; its title carries the job's
identity in the environment and a digest of its definition, so the plan finds it again whatever
its definition. The ledger records the definition (kind "job", version: the definition digest).
Steps: ScheduleJob (apply/job_run.py), then RecordLedger.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING

from domino_mlops.desired.environments import Environment
from domino_mlops.desired.workloads import JobSpec
from domino_mlops.kinds.jobs import job_digest
from domino_mlops.kinds.protocol import Handler, WorkloadKind, short_digest
from domino_mlops.plan.steps import AFTER_MODELS, BEFORE_MODELS, RecordLedger, ScheduleJob, WorkloadChange

if TYPE_CHECKING:
    from domino_mlops.state.ledger import LedgerEntry
    from domino_mlops.clients.domino.job_types import ScheduledJob
    from domino_mlops.connections import Connections
    from domino_mlops.desired.load import Desired

Found = Mapping[tuple[str, str], "ScheduledJob"]  # (project, schedule identity) -> scheduled job


def schedule_identity(job: JobSpec, env: Environment) -> str:
    """Which scheduled job is this one's in ``env``, whatever its definition."""
    return short_digest({"environment": env.name, "project": job.project_for(env), "name": job.name,
                         "scheduled": True})


def schedule_digest(job: JobSpec, env: Environment) -> str:
    """The scheduled job's definition in ``env``: a different one is replaced."""
    schedule = job.schedule
    return short_digest({"definition": job_digest(job, env, ""), "cron": schedule.cron if schedule else None,
                         "timezone": schedule.timezone if schedule else None})


def plan_schedule(job: JobSpec, env: Environment, found: ScheduledJob | None, *, action: str,
                  recorded: Collection[tuple[str, str, str]] = ()) -> WorkloadChange:
    """``found``: the project's scheduled job carrying this one's identity (None: none yet).
    ``recorded``: (kind, name, version) of the environment's ledger entries."""
    if job.schedule is None:
        raise ValueError(f"job {job.name!r} has no schedule")
    digest = schedule_digest(job, env)
    key = f"{schedule_identity(job, env)}.{digest}"
    common = dict(subject="job", name=job.name, project_id=job.project_for(env),
                  phase=BEFORE_MODELS if job.when == "before_models" else AFTER_MODELS, gate=False,
                  line=job.line, digest=digest, listed_under=job.project_id, kind=SCHEDULED_JOBS.name)
    record = RecordLedger(env.name, job.name, None, digest, action, subject="job")
    if found is not None and found.marker == key:
        seen = f"scheduled at {found.cron!r} ({found.timezone}) as the manifest says"
        return WorkloadChange(**common, steps=() if ("job", job.name, digest) in recorded else (record,), observed=seen)
    step = ScheduleJob(job.name, job.project_for(env), job.command, key, job.schedule.cron, job.schedule.timezone,
                       action="update" if found else "create", variables=job.variables_for(env),
                       hardware_tier=job.tier_for(env), environment_id=job.environment_id, commit=job.commit,
                       branch=job.branch, scheduled_id=found.id if found else None)
    seen = f"scheduled at {found.cron!r} ({found.timezone}), another definition" if found else "not scheduled"
    return WorkloadChange(**common, steps=(step, record), observed=seen)


class ScheduledJobs(WorkloadKind):
    name = "scheduled_job"
    ledger_kind = "job"  # a scheduled job's entries are a job's: one name, one history

    def handlers(self) -> Mapping[type, Handler]:
        from domino_mlops.apply.job_run import schedule_job

        return {ScheduleJob: schedule_job}

    def candidates(self, desired: Desired, env: Environment) -> tuple[JobSpec, ...]:
        return tuple(job for job in desired.manifest.jobs_for(env.name) if job.schedule is not None)

    def observe(self, specs: Sequence[JobSpec], env: Environment, connections: Connections, *, commit: str) -> Found:
        """One list of each project's scheduled jobs."""
        from domino_mlops.observed.workloads import observe_schedules

        identities: dict[str, set[str]] = {}
        for job in specs:
            identities.setdefault(job.project_for(env), set()).add(schedule_identity(job, env))
        return {(project, identity): found for project, wanted in sorted(identities.items())
                for identity, found in observe_schedules(connections.domino(project), project, wanted).items()}

    def plan(self, specs: Sequence[JobSpec], observed: Found, env: Environment, *, commit: str, action: str,
             ledger: Sequence[LedgerEntry]) -> tuple[WorkloadChange, ...]:
        recorded = self.recorded(ledger)
        return tuple(plan_schedule(job, env, observed.get((job.project_for(env), schedule_identity(job, env))),
                                   action=action, recorded=recorded) for job in specs)


SCHEDULED_JOBS = ScheduledJobs()
