"""The verbs: each owns its whole safety contract, so a caller cannot skip a check by calling
things in another order. Before the first write: the other runs' leases waited out (when asked),
the plan made and shown (Reporter.on_plan), the expected digest checked (PlanChanged), the gates
and compare-and-swap (apply/executor.py), then the guard (``_guard``: GitHub's protection, reach
and this run's approval, or the local user's); with nothing to do, stale leases cleared.
"""

from __future__ import annotations

import os

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timezone

from domino_mlops.api import _engine
from domino_mlops.api._engine import GitHubRun, RollbackTarget, Workloads, guard_writes, rollback_target
from domino_mlops.api._types import (
    Approval,
    DeployOutcome,
    DeployRequest,
    HistoryOutcome,
    HistoryRequest,
    PlanOutcome,
    PlanRequest,
    Reporter,
    RollbackRequest,
)
from domino_mlops.state.lease import Leases, LeaseSettings
from domino_mlops.apply.options import ApplyOptions
from domino_mlops.connections import Connections
from domino_mlops.desired.environments import Environment
from domino_mlops.desired.load import Desired
from domino_mlops.desired.manifest import ManifestEntry
from domino_mlops.errors import ApprovalNotGiven, ConfigError, DominoMlopsError, PlanChanged
from domino_mlops.plan.actions import Action
from domino_mlops.plan.digest import plan_digest
from domino_mlops.plan.steps import Plan


def plan(request: PlanRequest, desired: Desired, connections: Connections) -> PlanOutcome:
    """What would change in one environment, with its jobs and apps. Reads only."""
    env = desired.environments.get(request.env)
    entries = _engine.select_entries(desired, env, project=request.project)
    workloads = _engine.select_workloads(desired, env, project=request.project)
    planned = _engine.plan(desired, env, connections, entries=entries, action=request.action,
                           see_tokens=request.see_tokens, workloads=workloads, commit=request.commit,
                           ancestry=request.ancestry)
    return PlanOutcome(env, planned, request.action)


def deploy(request: DeployRequest, desired: Desired, connections: Connections) -> DeployOutcome:
    """Plan and apply one environment, recorded as a deploy."""
    return _forward("deploy", request, desired, connections)


def promote(request: DeployRequest, desired: Desired, connections: Connections) -> DeployOutcome:
    """As deploy, recorded as a promotion: a model whose last change here comes from a later
    commit, or from a rollback, is held back (plan/forward.py)."""
    return _forward("promote", request, desired, connections)


def rollout(request: DeployRequest, desired: Desired, connections: Connections) -> DeployOutcome:
    """As promote, with the environment moving as one: a failed wave puts back every model."""
    return _forward("rollout", request, desired, connections)


def _forward(action: Action, request: DeployRequest, desired: Desired, connections: Connections) -> DeployOutcome:
    env = desired.environments.get(request.env)
    entries = _engine.select_entries(desired, env, project=request.project, model=request.model,
                                     version=request.version)
    workloads = _engine.select_workloads(desired, env, project=request.project, model=request.model)
    explicit = {request.model} if request.model and request.version else set()
    return _plan_and_apply(action, request, desired, env, connections, entries, workloads=workloads,
                           explicit=explicit)


def rollback(request: RollbackRequest, desired: Desired, connections: Connections) -> DeployOutcome:
    """Back to the version before the current one (from the ledger), through the same gated,
    smoke-tested path as a promotion; with ``plan_only``, only its plan (reads only, no lease)."""
    env = desired.environments.get(request.env)
    if request.plan_only:
        target = rollback_target(desired, env, request.model, connections, to=request.to, project=request.project)
        planned = _engine.plan(desired, env, connections, entries=[target.entry], action="rollback",
                               see_tokens=False, commit=request.run.commit_sha, rollback=target)
        request.reporter.on_plan(planned, env)
        why = "" if planned.has_work else f"already serves version {target.entry.version.number} of {request.model}"
        return DeployOutcome(env, planned, nothing_to_do=why, rollback=target)
    if request.lease.wait:  # a promotion still running: roll back from what it leaves, not from before it
        listed = desired.manifest.find(request.model)
        project = request.project or (listed.project_id if listed else None)
        if project:
            _wait_for_other_runs([(project, request.model)], env, connections, request.lease, request.reporter)
    target = rollback_target(desired, env, request.model, connections, to=request.to, project=request.project)
    target = replace(target, expect_from=request.expect_from)
    version = target.entry.version.number
    if target.again:
        request.reporter.on_notice(
            f"The last change of {request.model} in {env.name} was a rollback to version {version} (from "
            f"{target.current}): finishing it if it was interrupted; pass --to N to go further back.")
    else:
        request.reporter.on_notice(f"Rolling {request.model} in {env.name} back to version {version}"
                                   f"{f' (from {target.current})' if target.current else ''}.")
    outcome = _plan_and_apply("rollback", request, desired, env, connections, [target.entry], rollback=target)
    return replace(outcome, rollback=target)


def _plan_and_apply(action: Action, request: DeployRequest | RollbackRequest, desired: Desired, env: Environment,
                    connections: Connections, entries: Sequence[ManifestEntry], *,
                    workloads: Workloads = Workloads(), explicit: set[str] | frozenset[str] = frozenset(),
                    rollback: RollbackTarget | None = None) -> DeployOutcome:
    """Wait, plan, show, check, then apply behind the guard: what every writing verb shares.
    ``rollback``: the plan names (and its digest covers) where the rollback goes back from."""
    reporter = request.reporter
    _wait_for_other_runs([(e.project_id, e.name) for e in entries], env, connections, request.lease, reporter)
    planned = _engine.plan(desired, env, connections, entries=entries, action=action,
                           retry_failed=request.retry_failed, commit=request.run.commit_sha, ancestry=request.ancestry,
                           explicit=explicit, workloads=workloads, rollback=rollback)
    reporter.on_plan(planned, env)
    _check_digest(planned, env, request.expect_plan_digest, reporter)
    if not planned.has_work:
        cleared = _clear_stale_leases(planned, env, connections, request.lease, reporter)
        why = "nothing moves forward from this commit" if planned.held_back else "already serves what the manifest says"
        return DeployOutcome(env, planned, nothing_to_do=why, cleared_leases=cleared)
    approved: list[str] = []

    def approve() -> str:  # called by the executor after the gates, before the first write
        approved.append(_guard(env, desired, request.approval, reporter))
        return approved[-1]

    options = ApplyOptions(max_parallel=request.max_parallel, poll=request.poll, run=request.run, lease=request.lease,
                           retry_failed=request.retry_failed, whole_environment=action == "rollout",
                           sleep=request.sleep, on_event=reporter.on_event, on_warning=reporter.on_warning)
    result = _engine._apply(planned, env, connections, options, approve=approve, manifest_file=desired.manifest.file)
    return DeployOutcome(env, planned, result, approved_by=approved[-1] if approved else "")


def _guard(env: Environment, desired: Desired, approval: Approval, reporter: Reporter) -> str:
    """What must hold before the first write. In GitHub Actions (a GitHubRun): protection, credential
    reach and this run's approval, asked of GitHub (guard_writes). Outside Actions no GitHub
    environment guards the run: the person holding the credentials is the approval, and the log
    and the ledger say so. No approval at all: a protected environment is refused. Returns who
    approved, for the ledger."""
    if isinstance(approval, GitHubRun):
        from domino_mlops.clients.github import GitHubClient

        with GitHubClient.from_env(on_secret=reporter.on_secret) as client:
            found = guard_writes(env, desired, client, approval)
        for warning in found.warnings:
            reporter.on_warning("", warning)
        if found.approved_by:
            reporter.on_notice(f"{env.name} was approved in this run by {found.approved_by}.")
        return found.approved_by
    if not env.protected:
        return ""
    if approval is None:
        raise ApprovalNotGiven(env.name, env.github_environment)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        # Inside a workflow run the run's GitHub approval is the only one that counts: a program
        # with production credentials in a job cannot vouch for itself by naming a local user.
        raise ApprovalNotGiven(env.name, env.github_environment, in_actions=True)
    reporter.on_warning("", f"{env.name} is protected; outside GitHub Actions no approval of "
                            f"{env.github_environment!r} is checked: the holder of the credentials "
                            f"({approval.user}) approves")
    return f"local user {approval.user}, no GitHub approval"


def _check_digest(planned: Plan, env: Environment, expected: str | None, reporter: Reporter) -> None:
    """The plan job's digest, which the reviewer approved. Checked before anything is written, and
    before the approval check: a changed plan is never applied."""
    if not expected:
        return
    digest = plan_digest(planned, env)
    if digest != expected.strip().lower():
        raise PlanChanged(env.name, expected.strip().lower(), digest)
    reporter.on_notice(f"The plan is the approved one (digest {digest[:16]}).")


def _clear_stale_leases(planned: Plan, env: Environment, connections: Connections, settings: LeaseSettings,
                        reporter: Reporter) -> tuple[tuple[str, str], ...]:
    """Nothing to write, yet a run killed after its last write (the alias, the ledger) left its
    lease, and another runner would wait for it until it expires: remove the leases of this
    plan's models that provably guard nothing (Leases.clear_stale says which). A failure here
    fails nothing: those leases expire by themselves."""
    leases = Leases(settings)
    by_registry: dict[str, list[str]] = {}
    for change in planned.changes:
        by_registry.setdefault(change.registry_project, []).append(change.model)
    cleared: list[tuple[str, str]] = []
    for project, models in sorted(by_registry.items()):
        try:
            found = leases.clear_stale(connections.registry(project), models, env.name)
        except DominoMlopsError as exc:
            reporter.on_warning("", f"could not look for stale leases in {env.name}: {exc}; they expire by themselves")
            continue
        cleared += sorted(found.items())
    return tuple(cleared)


def _wait_for_other_runs(models: Sequence[tuple[str, str]], env: Environment, connections: Connections,
                         settings: LeaseSettings, reporter: Reporter) -> None:
    """Wait out another run's lease on these (project, model)s before planning, so the plan
    starts from what that run left (a rollback queued behind a promotion)."""
    if not settings.wait:
        return
    leases = Leases(settings, on_wait=lambda model, holder: reporter.on_event(
        model, f"waiting for another run to finish: {holder}"))
    for project, model in models:
        leases.wait_until_free(connections.registry(project), model, env.name)


def history(request: HistoryRequest, connections: Connections) -> HistoryOutcome:
    """Every applied change of a model, job or app, from the ledger; with ``at``, the one in force
    then. An unknown ``env`` is a typo, not an environment that served nothing (NotFound)."""
    if request.env and not request.env.startswith("export:"):  # export entries are per target
        from domino_mlops.desired.load import read_environments_file

        read_environments_file(request.environments).get(request.env)
    ledger = connections.ledger_reader(request.project or "")
    if not request.at:
        return HistoryOutcome(ledger.entries(model=request.name, environment=request.env, kind=request.kind))
    if not request.env:
        raise ConfigError("--at needs --env", hint="Say which environment: --env PROD --at 2026-11-23T10:00Z.")
    when = parse_time(request.at)
    entry = ledger.at(request.env, request.name, when, kind=request.kind)
    return HistoryOutcome((entry,) if entry else (), when)


def parse_time(text: str) -> int:
    """An ISO 8601 time (UTC when it names no zone) in milliseconds."""
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"--at {text!r} is not an ISO 8601 time", hint="For example 2026-11-23T10:00Z.") from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return int(when.timestamp() * 1000)
