"""Jobs run once per commit and definition (``jobs:`` of a project in the manifest, no schedule).

A job's title carries a marker whose key is a digest of its definition and the pipeline run's
commit (plus an attempt number), so a re-run finds the job that already succeeded and runs
nothing, joins one still running, and starts a new attempt only after a failure. A gate job
(``gate: true``, the default) that fails stops everything after it. The ledger records each
run (kind "job", version: the digest). Steps: RunJob (apply/job_run.py), then RecordLedger.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING

from domino_mlops.desired.environments import Environment
from domino_mlops.desired.workloads import JobSpec
from domino_mlops.kinds.protocol import Description, Handler, WorkloadKind, short_digest
from domino_mlops.plan.steps import AFTER_MODELS, BEFORE_MODELS, RecordLedger, RunJob, WorkloadChange

if TYPE_CHECKING:
    from domino_mlops.state.ledger import LedgerEntry
    from domino_mlops.clients.domino.job_types import Job
    from domino_mlops.connections import Connections
    from domino_mlops.desired.load import Desired

Runs = Mapping[tuple[str, str], Sequence["Job"]]  # (project, digest) -> the jobs marked with it, newest first


def job_digest(job: JobSpec, env: Environment, commit: str) -> str:
    """What makes a job run "the same": where and how it runs in ``env``, and the commit of the
    pipeline run (a new commit runs it again; a re-run of the same commit does not)."""
    return short_digest({"environment": env.name, "project": job.project_for(env), "name": job.name,
                         "command": job.command, "variables": job.variables_for(env), "tier": job.tier_for(env),
                         "environment_id": job.environment_id, "commit": job.commit, "branch": job.branch,
                         "run_commit": commit})


def marked_runs(digest: str, jobs: Sequence[Job]) -> tuple[Job, ...]:
    """The jobs (newest first) started for this digest, whatever their attempt number."""
    return tuple(job for job in jobs if (job.marker or "").split(".")[0] == digest)


def plan_job(job: JobSpec, env: Environment, runs: Sequence[Job], *, commit: str, action: str,
             recorded: Collection[tuple[str, str, str]] = ()) -> WorkloadChange:
    """``runs``: the project's jobs marked with this job's digest, newest first. ``recorded``:
    (kind, name, version) of the environment's ledger entries."""
    digest = job_digest(job, env, commit)
    # The approval covers the definition; the run's commit is the same for the plan job and the
    # apply job of one workflow run, but a plan made elsewhere (a PR) must not differ for it.
    common = dict(subject="job", name=job.name, project_id=job.project_for(env),
                  phase=BEFORE_MODELS if job.when == "before_models" else AFTER_MODELS, gate=job.gate,
                  line=job.line, digest=job_digest(job, env, ""), listed_under=job.project_id, kind=JOBS.name)
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


class Jobs(WorkloadKind):
    name = "job"
    ledger_kind = "job"

    def handlers(self) -> Mapping[type, Handler]:
        from domino_mlops.apply.job_run import run_job

        return {RunJob: run_job}

    def candidates(self, desired: Desired, env: Environment) -> tuple[JobSpec, ...]:
        return tuple(job for job in desired.manifest.jobs_for(env.name) if job.schedule is None)

    def observe(self, specs: Sequence[JobSpec], env: Environment, connections: Connections, *, commit: str) -> Runs:
        """One scan of each project's newest jobs, kept when marked with a wanted digest."""
        from domino_mlops.observed.workloads import observe_job_runs

        digests: dict[str, set[str]] = {}
        for job in specs:
            digests.setdefault(job.project_for(env), set()).add(job_digest(job, env, commit))
        return {(project, digest): runs for project, wanted in sorted(digests.items())
                for digest, runs in observe_job_runs(connections.domino(project), project, wanted).items()}

    def plan(self, specs: Sequence[JobSpec], observed: Runs, env: Environment, *, commit: str, action: str,
             ledger: Sequence[LedgerEntry]) -> tuple[WorkloadChange, ...]:
        recorded = self.recorded(ledger)
        return tuple(plan_job(job, env, observed.get((job.project_for(env), job_digest(job, env, commit)), ()),
                              commit=commit, action=action, recorded=recorded) for job in specs)

    def describe(self, change: WorkloadChange) -> Description:
        # A gate job stops what follows when it fails: the reviewer sees which jobs can.
        return Description(change.subject + (" (gate)" if change.gate else ""),
                           super().describe(change).steps)


JOBS = Jobs()
