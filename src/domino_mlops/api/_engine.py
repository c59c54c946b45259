"""The engine under the facade: choose what to change, plan it (reads only), apply a plan,
guard the writes, find a rollback's target. Private: callers use the verbs of domino_mlops.api,
which run every safety check around these (api/_verbs.py); ``_apply`` applies whatever plan it is
given, so only a verb calls it, after its checks.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from typing import Any

from domino_mlops.apply.context import ApplyContext
from domino_mlops.apply.executor import ApplyResult, apply_plan
from domino_mlops.state.lease import Leases
from domino_mlops.state.ledger import LedgerEntry
from domino_mlops.apply.options import ApplyOptions
from domino_mlops.connections import Connections
from domino_mlops.desired.environments import Environment
from domino_mlops.desired.load import Desired
from domino_mlops.desired.manifest import ManifestEntry, VersionRef
from domino_mlops.clients.github import GitHubClient
from domino_mlops.desired.reach import shared_with_protected
from domino_mlops.errors import (
    AliasConflict,
    ApprovalMissing,
    ApprovalNotEnforced,
    ConfigError,
    GateRefused,
    ReachNotGuarded,
    RollbackMoved,
)
from domino_mlops.observed.approvals import check_run_approval
from domino_mlops.observed.default_branch import read_default_branch
from domino_mlops.observed.domino_version import check_data_planes
from domino_mlops.observed.ancestry import Ancestry
from domino_mlops.kinds.models import MODELS, ModelAsk
from domino_mlops.observed.protection import check_branch_rule, check_protection
from domino_mlops.plan.kinds import in_run_order, kind_named, workload_kinds
from domino_mlops.plan.actions import PlanAction
from domino_mlops.plan.steps import Plan, WorkloadChange
from domino_mlops.desired.selection import select_entries


@dataclass(frozen=True, slots=True)
class Workloads:
    """What each registered kind besides the models selected for one run (plan/kinds.py):
    (kind name, its specs), in the registry's order; kinds that selected nothing are left out."""

    selected: tuple[tuple[str, tuple[object, ...]], ...] = ()

    def of(self, kind: str) -> tuple[Any, ...]:
        return next((specs for name, specs in self.selected if name == kind), ())

    def __bool__(self) -> bool:
        return bool(self.selected)


def select_workloads(desired: Desired, env: Environment, *, project: str | None = None,
                     model: str | None = None) -> Workloads:
    """The environment's jobs, scheduled jobs, apps (every registered kind's specs; one project's,
    for a matrix job). A run about one model (``model``: a workflow_dispatch of a version) leaves
    them alone."""
    return Workloads(tuple((kind.name, specs) for kind in workload_kinds()
                           if (specs := kind.select(desired, env, project=project, model=model))))


def plan(desired: Desired, env: Environment, connections: Connections, *,
         entries: Sequence[ManifestEntry] | None = None, action: PlanAction = "plan", retry_failed: bool = False,
         see_tokens: bool = True, commit: str = "", ancestry: Ancestry | None = None,
         explicit: Collection[str] = (), workloads: Workloads = Workloads(),
         rollback: RollbackTarget | None = None) -> Plan:
    """The models observe and plan first (kinds/models.py: MLflow, Domino when configured, the
    ledger when it can change the plan), then every other kind (plan_jobs_and_apps). Writes nothing.

    ``see_tokens``, ``retry_failed``, ``ancestry``, ``explicit``: the models' (kinds/models.py,
    ModelAsk). ``commit``: the run's commit. ``workloads``: the jobs and apps to plan beside the
    models (select_workloads).
    ``rollback``: a rollback's target (rollback_target); the plan then names the version each model
    goes back from, and refuses (RollbackMoved) when MLflow's alias serves neither it nor the target.
    """
    if rollback is not None:
        return _rolling_back(plan(desired, env, connections, entries=entries, action=action,
                                  retry_failed=retry_failed, see_tokens=see_tokens, commit=commit,
                                  ancestry=ancestry, explicit=explicit, workloads=workloads), rollback)
    entries = select_entries(desired, env) if entries is None else tuple(entries)
    ask = ModelAsk(desired.environments, desired.manifest.file, see_tokens=see_tokens, retry_failed=retry_failed,
                   ancestry=ancestry, explicit=frozenset(explicit))
    # What this Domino version cannot run where (clients/domino/capabilities.py) spans the kinds
    # (Model API waves and apps' tiers): the models call it once MLflow is read, before Domino is.
    observed = MODELS.observe(entries, env, connections, commit=commit, action=action, ask=ask,
                              check_domino=lambda projects: check_data_planes(env, projects, workloads.of("app"),
                                                                              connections))
    models = MODELS.plan(entries, observed, env, commit=commit, action=action, ask=ask)
    if not connections.domino_configured:  # MLflow's side only
        left_out = ("jobs and apps are left out: DOMINO_API_HOST is not set",) if workloads else ()
        return replace(models, warnings=models.warnings + left_out + _bypass_warning(env))
    return replace(models, workloads=plan_jobs_and_apps(env, workloads, connections, commit=commit, action=action),
                   warnings=models.warnings + _bypass_warning(env))


def _bypass_warning(env: Environment) -> tuple[str, ...]:
    """allow_admin_bypass is a weaker approval: every plan of the environment says so."""
    if not env.allow_admin_bypass:
        return ()
    return (f"{env.name} allows administrators to bypass the review of {env.github_environment!r} "
            "(allow_admin_bypass: true in environments.yaml): an administrator can promote without an approval",)


def _environment_ledger(connections: Connections, env: Environment, projects: set[str]) -> list[LedgerEntry]:
    """The environment's ledger entries, oldest first: one search per credential, not per project
    (projects that share a credential read the same entries), each entry once."""
    readers: set[int] = set()
    found: dict[str, LedgerEntry] = {}
    for project in sorted(projects):
        reader = connections.mlflow_reader(project)
        if id(reader) in readers:
            continue
        readers.add(id(reader))
        for entry in connections.ledger_reader(project).entries(environment=env.name):
            found.setdefault(entry.run_id or f"{len(found)}", entry)
    return sorted(found.values(), key=lambda e: e.time_ms)


def plan_jobs_and_apps(env: Environment, workloads: Workloads, connections: Connections, *, commit: str,
                       action: str) -> tuple[WorkloadChange, ...]:
    """Every registered kind besides the models observes what it selected (for jobs and apps: one
    job scan, one schedule list and one app list per project), then, with the environment's
    ledger (read once for all of them), plans it (kinds/). In run order: phase, then manifest line."""
    if not workloads:
        return ()
    chosen = [(kind_named(name), specs) for name, specs in workloads.selected]
    observed = [kind.observe(specs, env, connections, commit=commit) for kind, specs in chosen]
    ledger = _environment_ledger(connections, env, {spec.project_id for _, specs in chosen for spec in specs})
    return in_run_order(change for (kind, specs), seen in zip(chosen, observed)
                        for change in kind.plan(specs, seen, env, commit=commit, action=action, ledger=ledger))


def _apply(plan: Plan, env: Environment, connections: Connections, options: ApplyOptions, *,
           approve: Callable[[], str | None], manifest_file: str | None = None) -> ApplyResult:
    """Carry out a plan (gates and compare-and-swap first, then ``approve`` before the first write;
    see apply/executor.py). A refusal raised before any write names the manifest lines at fault
    when ``manifest_file`` is given. Only a verb calls this, after its own checks."""
    ctx = ApplyContext(
        registry_for=connections.registry, domino_for=connections.domino_for(env), domino_host=connections.domino_host,
        model_host=connections.model_host(env), environment_id_for=connections.environment_id(env), options=options,
        model_tokens=connections.model_tokens(env.name), leases=Leases(options.lease, on_wait=lambda model, holder: options.on_event(
            model, f"waiting for another run to finish: {holder}")), approve=approve)
    try:
        return apply_plan(plan, env, ctx)
    except (GateRefused, AliasConflict) as refusal:
        if manifest_file is not None:
            if isinstance(refusal, GateRefused):
                refusal.places = [(manifest_file, plan.line_of(model), reason) for model, reason in refusal.reasons]
            else:
                refusal.places = [(manifest_file, plan.line_of(refusal.model), refusal.message)]
        raise


def require_approval(env: Environment, github: GitHubClient) -> tuple[str, ...]:
    """Refuse (ApprovalNotEnforced, exit 3) unless GitHub says the environment's GitHub environment
    exists with required reviewers who may not approve themselves, cannot be bypassed by
    administrators (unless ``allow_admin_bypass``) and admits only the default branch. Returns warnings."""
    verdict = check_protection(github, env.github_environment, allow_admin_bypass=env.allow_admin_bypass)
    if not verdict.guarded:
        raise ApprovalNotEnforced(env.name, env.github_environment, verdict.problems)
    return verdict.warnings


@dataclass(frozen=True, slots=True)
class GitHubRun:
    """The workflow run asking to write: GitHub's own variables, never the run's files."""

    run_id: str
    actor: str  # GITHUB_ACTOR: who pushed, merged or dispatched
    triggering_actor: str  # GITHUB_TRIGGERING_ACTOR: who started this attempt (a re-run)
    ref: str  # GITHUB_REF: refs/heads/main, refs/pull/7/merge, ...
    workspace: str = ""  # GITHUB_WORKSPACE: where the run's files are
    # Who caused the run besides its actors (DMLOPS_INITIATED_BY: who merged, when another workflow's
    # token dispatched this one and the actor is github-actions[bot]). Only ever excludes approvers.
    initiated_by: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> GitHubRun:
        import os

        env = os.environ if environ is None else environ
        actor = env.get("GITHUB_ACTOR", "").strip()
        initiated = tuple(login.strip() for login in env.get("DMLOPS_INITIATED_BY", "").split(",") if login.strip())
        return cls(env.get("GITHUB_RUN_ID", "").strip(), actor, env.get("GITHUB_TRIGGERING_ACTOR", "").strip() or actor,
                   env.get("GITHUB_REF", "").strip(), env.get("GITHUB_WORKSPACE", "").strip(), initiated)


@dataclass(frozen=True, slots=True)
class WriteGuard:
    """What the guard found: who approved (for the ledger) and what the log should warn about."""

    approved_by: str = ""  # "" when the environment needs no approval
    warnings: tuple[str, ...] = ()


def guard_writes(env: Environment, desired: Desired, github: GitHubClient, run: GitHubRun,
                 environ: dict[str, str] | None = None) -> WriteGuard:
    """Everything a run in GitHub Actions must prove before its first write to ``env`` (exit 3
    otherwise), asked of GitHub, never read from the run's own files alone:

    1. protection: ``env`` counts as protected if the run's environments file or the default
       branch's says so; its GitHub environment must then have reviewers who may not approve
       themselves, no administrator bypass (unless allowed) and admit only the default branch;
    2. reach (desired/reach.py): if ``env``'s credentials reach what a protected environment
       uses, its GitHub environment must admit only the default branch. Off the default branch,
       reach and protection come from the default branch's files as well as the run's;
    3. approval: a protected ``env`` must have been approved in this run (GitHub's review
       history) by someone other than the run's actor and triggering actor.
    """
    import os

    environ = dict(os.environ) if environ is None else environ
    default = github.default_branch()
    environments, manifests = [desired.environments], [desired.manifest]
    if run.ref != f"refs/heads/{default}":
        reviewed = read_default_branch(github, desired, run.workspace, default)
        environments.append(reviewed.environments)
        manifests += [reviewed.manifest] if reviewed.manifest is not None else []
    protected = any(e.protected for found in environments for e in found.items if e.name == env.name)
    shared = shared_with_protected(env, environments, manifests, environ)
    if (protected or shared) and run.ref != f"refs/heads/{default}":
        # GitHub's branch rule should never have let this job start; refuse whatever it says.
        if protected:
            raise ApprovalNotEnforced(env.name, env.github_environment, (
                f"this run is on {run.ref or 'an unknown ref'}, not the default branch {default!r} (the "
                f"deployment branch rule of {env.github_environment!r} should not have let it start)",))
        raise ReachNotGuarded(env.name, env.github_environment, tuple(f"{s.protected} ({s.describe()})" for s in shared),
                              (f"this run is on {run.ref or 'an unknown ref'}, not the default branch {default!r} "
                               f"(the deployment branch rule of {env.github_environment!r} should not have let it "
                               "start)",))
    warnings: list[str] = []
    if protected:
        # A branch may loosen its own file, never the default branch's: bypass only if both allow it.
        allow_bypass = all(e.allow_admin_bypass for found in environments for e in found.items if e.name == env.name)
        warnings += require_approval(replace(env, protected=True, allow_admin_bypass=allow_bypass), github)
    else:
        if shared:
            verdict = check_branch_rule(github, env.github_environment)
            if not verdict.guarded:
                raise ReachNotGuarded(env.name, env.github_environment,
                                      tuple(f"{s.protected} ({s.describe()})" for s in shared), verdict.problems)
        return WriteGuard("", tuple(warnings))
    if not run.run_id:
        raise ConfigError("cannot prove this run's approval: GITHUB_RUN_ID is not set",
                          hint="Run inside GitHub Actions, where the runner sets it.")
    actors = tuple(dict.fromkeys(a for a in (run.actor, run.triggering_actor, *run.initiated_by) if a))
    approval = check_run_approval(github, env.github_environment, run.run_id, actors)
    if not approval.approved:
        raise ApprovalMissing(env.name, env.github_environment, run.run_id, actors, approval.self_approved_by)
    return WriteGuard(f"{', '.join(approval.approvers)} (GitHub environment {env.github_environment}, "
                      f"run {run.run_id})", tuple(warnings))


@dataclass(frozen=True, slots=True)
class RollbackTarget:
    """Where a rollback goes: the manifest entry to apply, and what the ledger says it leaves."""

    entry: ManifestEntry
    current: str | None  # the version the environment's last ledger entry moved to
    listed: ManifestEntry | None  # the model's manifest entry (still naming the newer version)
    again: bool = False  # the last change was this rollback already: it is finished, not repeated
    # The version the approved plan went back from (--expect-from): the re-plan refuses another.
    expect_from: str | None = None


def _rolling_back(planned: Plan, target: RollbackTarget) -> Plan:
    """Name where the rollback goes back from: the ledger's (what its last change left, or what a
    finished rollback left behind it), which neither a partial nor a finished attempt moves, so a
    re-run of the approved rollback still matches. MLflow's alias must agree: before the rollback
    it names that version, after its marking the target. Anything else means the environment
    moved in a way the ledger does not show, and going back from there was never reviewed."""
    changes = []
    for change in planned.changes:
        moving_from = target.current if target.current is not None else change.current
        if target.expect_from is not None and moving_from != target.expect_from:
            raise RollbackMoved(planned.environment, change.model, target.expect_from, moving_from,
                                seen=f"{planned.environment} is now at")
        if change.current not in (moving_from, change.version):
            raise RollbackMoved(planned.environment, change.model, moving_from, change.current,
                                seen=f"MLflow's alias {planned.alias!r} names")
        changes.append(replace(change, rolls_back_from=moving_from))
    return replace(planned, changes=tuple(changes))


def rollback_target(desired: Desired, env: Environment, model: str, connections: Connections, *,
                    to: str | None = None, project: str | None = None) -> RollbackTarget:
    """The version before the current one, from the ledger (or ``to``), as an entry to apply."""
    listed = desired.manifest.find(model)
    project = project or (listed.project_id if listed else "")
    last: LedgerEntry | None = connections.ledger_reader(project).last(env.name, model)
    # The last change already a rollback: re-apply it, which finishes one a crash interrupted and
    # changes nothing after a finished one. Going back again would flip a re-run of a rollback
    # workflow forward to the version it rolled back from; going further back is `--to`'s job.
    again = to is None and last is not None and last.action == "rollback"
    target = to or (last.to_version if again else last.from_version if last else None)
    if target is None:
        raise ConfigError(f"nothing to roll back to: the ledger has no earlier version of {model} in {env.name}",
                          hint="Pass --to <version> to choose one.")
    if not str(target).isdigit():
        raise ConfigError(f"--to {target!r} is not a version number", hint="Pass a number such as 3.")
    project = project or (last.project_id if last else "")
    if not project:
        raise ConfigError(f"cannot tell which Domino project serves {model}", hint="Pass --project <id>.")
    entry = ManifestEntry(project, model, VersionRef(number=int(target)), line=listed.line if listed else None,
                          replicas=listed.replicas if listed else None,
                          smoke_test=listed.smoke_test if listed else None)
    return RollbackTarget(entry, (last.from_version if again else last.to_version) if last else None, listed,
                          again=again)
