"""One job's or app's part of an apply: the state its step handlers share, and the ledger step.

The executor (apply/executor.py) calls one handler per step type on a WorkloadRun; a handler
raises our error on failure and the executor keeps it here (a failed gate job then blocks what
follows). The handlers of the other steps are in apply/job_run.py and apply/app_run.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from domino_mlops.state.ledger import Ledger, LedgerEntry
from domino_mlops.clients.domino.client import DominoClient
from domino_mlops.desired.environments import Environment
from domino_mlops.errors import DominoMlopsError
from domino_mlops.plan.steps import RecordLedger, WorkloadChange

if TYPE_CHECKING:
    from domino_mlops.apply.context import ApplyContext


@dataclass(frozen=True, slots=True)
class WorkloadResult:
    """What became of a job or an app in the environment (for the summary, result-json, exit code)."""

    subject: str  # job | app
    name: str
    status: str  # done | unchanged | failed | put back | unverified | blocked
    message: str = ""
    writes: int = 0
    domino_ids: tuple[str, ...] = ()  # the job's id, or the app's id and instance
    url: str | None = None  # a job's or app's page
    log_tail: tuple[str, ...] = ()  # a failed job's last log lines
    ledger: LedgerEntry | None = None
    error: DominoMlopsError | None = field(default=None, compare=False)
    observed: str = ""


@dataclass
class WorkloadRun:
    change: WorkloadChange
    env: Environment
    ctx: ApplyContext
    writes: int = 0
    status: str = "done"
    message: str = ""
    domino_ids: list[str] = field(default_factory=list)
    url: str | None = None
    log_tail: tuple[str, ...] = ()
    ledger: LedgerEntry | None = None
    error: DominoMlopsError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def domino(self) -> DominoClient:
        return self.ctx.domino_for(self.change.project_id)

    def say(self, message: str) -> None:
        self.ctx.options.on_event(f"{self.change.subject} {self.change.name}", message)

    def fail(self, error: DominoMlopsError) -> None:
        self.error = error
        if self.status == "done":
            self.status = "failed"

    def result(self) -> WorkloadResult:
        message = str(self.error) if self.error is not None else self.message
        return WorkloadResult(self.change.subject, self.change.name, self.status, message, self.writes,
                              tuple(self.domino_ids), self.url, self.log_tail, self.ledger, self.error,
                              self.change.observed)


def record_workload(step: RecordLedger, run: WorkloadRun) -> None:
    """The ledger entry of a job run or an app change, in the MLflow of the project that lists it."""
    ctx = run.ctx
    registry = ctx.registry_for(run.change.listed_under or run.change.project_id)
    entry = LedgerEntry(step.environment, step.model, step.from_version, step.to_version, step.action,
                        project_id=run.change.project_id, model_api_ids=",".join(run.domino_ids),
                        commit_sha=ctx.options.run.commit_sha, run_url=ctx.options.run.run_url,
                        actor=ctx.options.run.actor, approved_by=ctx.options.run.approved_by, kind=step.subject)
    run.ledger, written = Ledger(registry).record(entry)
    run.writes += int(written)
