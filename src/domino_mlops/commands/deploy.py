"""`domino-mlops deploy` / `promote` / `rollout`: plan one environment against MLflow and Domino, then apply.

deploy-to-staging, promote-to-production and each stage of a rollout are the same engine
(domino_mlops.api); what differs is the environment (and so its gate, tiers and alias) and the
word recorded in the ledger. Before anything is written: the plan must be the approved one
(--expect-plan-digest); a protected environment's approval must be enforced by GitHub and given
in this run by someone else, and whatever shares its credentials' reach must be kept to the
default branch (api.guard_writes); a forward change from an older commit holds back (plan/forward.py).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from domino_mlops import api
from domino_mlops.state.lease import Leases, LeaseSettings
from domino_mlops.apply.poll import PollSettings
from domino_mlops.commands.runtime import adopt_project_token, connect, lease_settings, read_desired_from, run_info
from domino_mlops.connections import Connections
from domino_mlops.desired.environments import Environment
from domino_mlops.desired.load import Desired
from domino_mlops.desired.manifest import ManifestEntry
from domino_mlops.errors import ConfigError, DominoMlopsError, PlanChanged
from domino_mlops.observed.ancestry import Ancestry
from domino_mlops.plan.digest import plan_digest
from domino_mlops.plan.steps import Plan
from domino_mlops.report import github
from domino_mlops.report.rollback import report_rollback
from domino_mlops.report.runs import Progress, comment_plan, report_plan, report_result, report_serving


def run(args: argparse.Namespace, *, action: str) -> int:
    adopt_project_token(args.project)
    desired = read_desired_from(args)
    env = desired.environments.get(args.env)
    entries = api.select_entries(desired, env, project=args.project, model=args.model, version=args.version)
    workloads = api.select_workloads(desired, env, project=args.project, model=args.model)
    with connect() as connections:
        return plan_and_apply(entries, desired, env, args, connections, action=action,
                              explicit={args.model} if args.model and args.version else set(), workloads=workloads)


def plan_and_apply(entries: Sequence[ManifestEntry], desired: Desired, env: Environment, args: argparse.Namespace,
                   connections: Connections, *, action: str, explicit: set[str] | frozenset[str] = frozenset(),
                   workloads: api.Workloads = api.Workloads(), rollback: api.RollbackTarget | None = None) -> int:
    """Plan, check, report, apply, report: what deploy, promote, rollout and rollback share.
    ``rollback``: the plan names (and its digest covers) where the rollback goes back from."""
    retry_failed = getattr(args, "retry_failed_builds", False)
    progress, run = Progress(), run_info()
    leases = lease_settings(run, wait=getattr(args, "lease_wait", 0.0))
    wait_for_other_runs([(e.project_id, e.name) for e in entries], env, connections, leases, progress)
    with _ancestry() as ancestry:
        plan = api.plan(desired, env, connections, entries=entries, action=action, retry_failed=retry_failed,
                        commit=run.commit_sha, ancestry=ancestry, explicit=explicit, workloads=workloads,
                        rollback=rollback)
    if rollback is not None:
        report_rollback(plan, env)
    markdown = report_plan(plan, env)
    if getattr(args, "pr_comment", False):
        comment_plan(markdown, env.name)
    _check_digest(plan, env, getattr(args, "expect_plan_digest", None))
    if not plan.has_work:
        report_serving(plan, connections.domino_host, connections.model_host(env).url)
        clear_stale_leases(plan, env, connections, leases)
        why = "nothing moves forward from this commit" if plan.held_back else "already serves what the manifest says"
        print(f"Nothing to do: {env.name} {why}.")
        return 0
    options = api.ApplyOptions(max_parallel=args.max_parallel, poll=PollSettings(timeout=args.deploy_timeout),
                               run=run, lease=leases, retry_failed=retry_failed,
                               whole_environment=action == "rollout",
                               approve=lambda: guard(env, desired),
                               on_event=progress.event, on_warning=progress.warning)
    result = api.apply(plan, env, connections, options, manifest_file=desired.manifest.file)
    report_result(result, plan, desired.manifest.file, action)
    return result.exit_code


def clear_stale_leases(plan: Plan, env: Environment, connections: Connections, settings: LeaseSettings) -> None:
    """Nothing to write, yet a run killed after its last write (the alias, the ledger) left its
    lease, and another runner would wait for it until it expires: remove the leases of this
    plan's models that provably guard nothing (Leases.clear_stale says which). A failure here
    fails nothing: those leases expire by themselves."""
    leases = Leases(settings)
    by_registry: dict[str, list[str]] = {}
    for change in plan.changes:
        by_registry.setdefault(change.registry_project, []).append(change.model)
    for project, models in sorted(by_registry.items()):
        try:
            cleared = leases.clear_stale(connections.registry(project), models, env.name)
        except DominoMlopsError as exc:
            github.annotate("warning", f"could not look for stale leases in {env.name}: {exc}; they expire "
                            "by themselves", title="domino-mlops", stream=sys.stdout)
            continue
        for model, whose in sorted(cleared.items()):
            print(f"Removed the stale lease of {model} in {env.name}, left by {whose}.", flush=True)


def guard(env: Environment, desired: Desired) -> str:
    """What must hold before the first write (api.guard_writes): in GitHub Actions, protection,
    credential reach and this run's approval, asked of GitHub. Outside Actions no GitHub
    environment guards the run: the person holding the credentials is the approval, and the log
    and the ledger say so. Returns who approved, for the ledger."""
    if not github.in_actions():
        if not env.protected:
            return ""
        user = os.environ.get("USER") or os.environ.get("USERNAME") or "unknown"
        github.annotate("warning", f"{env.name} is protected; outside GitHub Actions no approval of "
                        f"{env.github_environment!r} is checked: the holder of the credentials ({user}) approves",
                        title="domino-mlops", stream=sys.stdout)
        return f"local user {user}, no GitHub approval"
    from domino_mlops.clients.github import GitHubClient

    with GitHubClient.from_env(on_secret=github.mask) as client:
        found = api.guard_writes(env, desired, client, api.GitHubRun.from_env())
    for warning in found.warnings:
        github.annotate("warning", warning, title="domino-mlops", stream=sys.stdout)
    if found.approved_by:
        print(f"{env.name} was approved in this run by {found.approved_by}.", flush=True)
    return found.approved_by


def _check_digest(plan: Plan, env: Environment, expected: str | None) -> None:
    """--expect-plan-digest: the plan job's digest, which the reviewer approved. Checked before
    anything is written, and before the approval check: a changed plan is never applied."""
    if not expected:
        return
    planned = plan_digest(plan, env)
    if planned != expected.strip().lower():
        raise PlanChanged(env.name, expected.strip().lower(), planned)
    print(f"The plan is the approved one (digest {planned[:16]}).", flush=True)


@contextmanager
def _ancestry() -> Iterator[Ancestry]:
    """How commits relate: the local clone, then (in Actions, with the job's token) GitHub."""
    client = None
    if github.in_actions():
        from domino_mlops.clients.github import GitHubClient

        try:
            client = GitHubClient.from_env(on_secret=github.mask)
        except ConfigError:
            pass  # no token: the local clone may still answer, and the plan warns when nothing does
    try:
        yield Ancestry(github=client.compare if client is not None else None)
    finally:
        if client is not None:
            client.close()


def wait_for_other_runs(models: Sequence[tuple[str, str]], env: Environment, connections: Connections,
                        settings: LeaseSettings, progress: Progress) -> None:
    """--lease-wait: wait out another run's lease on these (project, model)s before planning, so
    the plan starts from what that run left (a rollback queued behind a promotion)."""
    if not settings.wait:
        return
    leases = Leases(settings, on_wait=lambda model, holder: progress.event(
        model, f"waiting for another run to finish: {holder}"))
    for project, model in models:
        leases.wait_until_free(connections.registry(project), model, env.name)
