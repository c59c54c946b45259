"""What the verbs take and give back: frozen requests, frozen outcomes, and the Reporter through
which a verb tells its caller what happens while it runs (the library itself never prints)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from domino_mlops.api._engine import GitHubRun, RollbackTarget
from domino_mlops.apply.executor import ApplyResult
from domino_mlops.apply.export_run import ExportResult
from domino_mlops.state.lease import LeaseSettings
from domino_mlops.state.ledger import LedgerEntry
from domino_mlops.apply.options import RunInfo
from domino_mlops.apply.parallelism import DEFAULT_MAX_PARALLEL
from domino_mlops.apply.poll import PollSettings
from domino_mlops.desired.environments import Environment
from domino_mlops.desired.paths import DEFAULT_MANIFEST
from domino_mlops.observed.ancestry import Ancestry
from domino_mlops.plan.actions import PlanAction
from domino_mlops.plan.export_plan import ExportPlan
from domino_mlops.plan.steps import Plan


class Reporter:
    """What a verb tells its caller while it runs. Every method does nothing here: override the
    ones you show. ``on_event`` and ``on_warning`` are called from the apply's worker threads."""

    def on_plan(self, plan: Plan, env: Environment) -> None:
        """The plan, once made and before any check or write: show it (a reviewer reads it)."""

    def on_export_plan(self, plan: ExportPlan) -> None:
        """The export plan, once made and before any write."""

    def on_event(self, subject: str, message: str) -> None:
        """Progress of one model, job, app or export target."""

    def on_warning(self, subject: str, message: str) -> None:
        """Something the reader should know; ``subject`` "" when it is about the whole run."""

    def on_notice(self, message: str) -> None:
        """A line about the run: the plan is the approved one, who approved it, where a rollback goes."""

    def on_secret(self, value: str) -> None:
        """A credential the verb just read (a GitHub token): mask it before anything could log it."""


@dataclass(frozen=True, slots=True)
class LocalApproval:
    """Outside GitHub Actions no GitHub environment guards a run: the holder of the credentials
    approves a protected environment, and the warning and the ledger say so."""

    user: str


# Who approves a write to a protected environment: GitHub, for a workflow run (its review
# history, asked of GitHub: api.guard_writes), or the local user; None: nobody, so a protected
# environment is refused (ApprovalNotGiven) before any write.
Approval = GitHubRun | LocalApproval | None


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """``action``: plan with that apply's rules (its commit checks, held-back models), so the plan
    and its digest are the apply's; "plan" plans for review only. ``see_tokens=False``: this run
    does not hold the smoke tests' tokens, so the plan does not predict skipped smoke tests."""

    env: str
    project: str | None = None
    action: PlanAction = "plan"
    see_tokens: bool = True
    commit: str = ""  # the run's commit: a job already run for it shows as done
    ancestry: Ancestry | None = field(default=None, compare=False)  # how commits relate (None: the local clone)


@dataclass(frozen=True, slots=True)
class PlanOutcome:
    environment: Environment
    plan: Plan
    action: PlanAction = "plan"

    @property
    def nothing_to_approve(self) -> bool:
        """An apply's plan with no work: no apply job needs to start, nobody needs to approve."""
        return self.action != "plan" and not self.plan.has_work


@dataclass(frozen=True, slots=True)
class DeployRequest:
    """One environment (``project``: one project's models, a matrix job; ``model`` and ``version``:
    one model, at another version). ``expect_plan_digest``: the approved plan's digest; a
    different plan is refused (PlanChanged) before any write. ``lease.wait``: seconds to wait for
    another run changing the same models before planning."""

    env: str
    project: str | None = None
    model: str | None = None
    version: str | None = None
    expect_plan_digest: str | None = None
    retry_failed: bool = False  # build again a version whose build (or analysis) failed before
    max_parallel: int = DEFAULT_MAX_PARALLEL
    poll: PollSettings = PollSettings()
    lease: LeaseSettings = LeaseSettings()
    run: RunInfo = RunInfo()  # who and what runs this (the ledger); approved_by is set by the guard
    approval: Approval = None
    ancestry: Ancestry | None = field(default=None, compare=False)
    reporter: Reporter = field(default_factory=Reporter, compare=False)
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)  # the bake between waves


@dataclass(frozen=True, slots=True)
class RollbackRequest:
    """Back to the version before the current one (from the ledger), or to ``to``.
    ``plan_only``: plan from -> to and stop (reads only, takes no lease). ``expect_from``: the
    version the approved plan went back from; the re-plan refuses another (RollbackMoved)."""

    env: str
    model: str
    to: str | None = None
    project: str | None = None
    plan_only: bool = False
    expect_from: str | None = None
    expect_plan_digest: str | None = None
    retry_failed: bool = False
    max_parallel: int = DEFAULT_MAX_PARALLEL
    poll: PollSettings = PollSettings()
    lease: LeaseSettings = LeaseSettings()
    run: RunInfo = RunInfo()
    approval: Approval = None
    ancestry: Ancestry | None = field(default=None, compare=False)
    reporter: Reporter = field(default_factory=Reporter, compare=False)
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)


@dataclass(frozen=True, slots=True)
class DeployOutcome:
    """What a deploy, promote, rollout or rollback did. ``result`` None: nothing was applied, and
    ``nothing_to_do`` says why (or the rollback was only planned)."""

    environment: Environment
    plan: Plan
    result: ApplyResult | None = None
    nothing_to_do: str = ""
    approved_by: str = ""  # "" when the environment needed no approval (or nothing was applied)
    cleared_leases: tuple[tuple[str, str], ...] = ()  # (model, whose run left it): stale leases removed
    rollback: RollbackTarget | None = None

    @property
    def exit_code(self) -> int:
        return self.result.exit_code if self.result is not None else 0


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """``target``: only that export target. ``plan_only``: plan, export nothing. ``tool``: the
    container tool's path (None: lay out the build contexts only, push and tag nothing).
    ``manifest``, ``environments``: the repository's files, read only in GitHub Actions to check
    that the export's credentials do not reach a protected environment unguarded.
    ``expect_plan_digest``: the approved export plan's digest; a different plan is refused
    (PlanChanged) before any write."""

    target: str | None = None
    plan_only: bool = False
    context_only: bool = False
    output: Path = Path("export-build")
    tool: str | None = None
    poll: PollSettings = PollSettings(timeout=1800.0)
    run: RunInfo = RunInfo()
    approval: Approval = None
    github_environment: str = "export"  # the GitHub environment this run's export secrets come from
    manifest: str = DEFAULT_MANIFEST
    environments: str | None = None
    expect_plan_digest: str | None = None
    reporter: Reporter = field(default_factory=Reporter, compare=False)
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)


@dataclass(frozen=True, slots=True)
class ExportRunOutcome:
    """``result`` None: nothing was exported (only planned, or nothing to export)."""

    plan: ExportPlan
    result: ExportResult | None = None

    @property
    def exit_code(self) -> int:
        return self.result.exit_code if self.result is not None else 0


@dataclass(frozen=True, slots=True)
class HistoryRequest:
    """``kind``: model, job or app; ``env``: only this environment (or export:<TARGET>);
    ``at``: what ``env`` served at this ISO 8601 time; ``project``: whose token reads the ledger."""

    name: str
    kind: str = "model"
    env: str | None = None
    at: str | None = None
    project: str | None = None
    environments: str | None = None  # the file ``env`` is checked against


@dataclass(frozen=True, slots=True)
class HistoryOutcome:
    """Every recorded change, oldest first; with ``at``: the one entry in force then, or none."""

    entries: tuple[LedgerEntry, ...]
    at_ms: int | None = None
