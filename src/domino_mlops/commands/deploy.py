"""`domino-mlops deploy` / `promote`: plan one environment against MLflow and Domino, then apply.

deploy-to-staging and promote-to-production are the same engine (domino_mlops.api); what differs
is the environment (and so its gate, tiers and alias) and the word recorded in the ledger.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from domino_mlops import api
from domino_mlops.apply.poll import PollSettings
from domino_mlops.commands.runtime import adopt_project_token, connect, lease_settings, read_desired_from, run_info
from domino_mlops.connections import Connections
from domino_mlops.desired.environments import Environment
from domino_mlops.desired.load import Desired
from domino_mlops.desired.manifest import ManifestEntry
from domino_mlops.report import github
from domino_mlops.report.runs import Progress, comment_plan, report_plan, report_result


def run(args: argparse.Namespace, *, action: str) -> int:
    adopt_project_token(args.project)
    desired = read_desired_from(args)
    env = desired.environments.get(args.env)
    entries = api.select_entries(desired, env, project=args.project, model=args.model, version=args.version)
    with connect() as connections:
        return plan_and_apply(entries, desired, env, args, connections, action=action)


def plan_and_apply(entries: Sequence[ManifestEntry], desired: Desired, env: Environment, args: argparse.Namespace,
                   connections: Connections, *, action: str) -> int:
    """Plan, report, apply, report: what deploy, promote and rollback share."""
    retry_failed = getattr(args, "retry_failed_builds", False)
    plan = api.plan(desired, env, connections, entries=entries, action=action, retry_failed=retry_failed)
    markdown = report_plan(plan)
    if getattr(args, "pr_comment", False):
        comment_plan(markdown, env.name)
    if not plan.changed:
        print(f"Nothing to do: {env.name} already serves what the manifest says.")
        return 0
    if env.protected:
        check_approval(env)
    progress, run = Progress(), run_info()
    options = api.ApplyOptions(max_parallel=args.max_parallel, poll=PollSettings(timeout=args.deploy_timeout),
                               run=run, lease=lease_settings(run), retry_failed=retry_failed,
                               on_event=progress.event, on_warning=progress.warning)
    result = api.apply(plan, env, connections, options, manifest_file=desired.manifest.file)
    report_result(result, plan, desired.manifest.file, action)
    return result.exit_code


def check_approval(env: Environment) -> None:
    """In GitHub Actions, a protected environment's GitHub environment must enforce an approval
    (asked of GitHub, never assumed). Outside Actions no GitHub environment guards the run: the
    person holding the credentials is the approval, and the log says so."""
    if not github.in_actions():
        github.annotate("warning", f"{env.name} is protected; outside GitHub Actions no approval of "
                        f"{env.github_environment!r} is checked", title="domino-mlops", stream=sys.stdout)
        return
    from domino_mlops.clients.github import GitHubClient

    with GitHubClient.from_env(on_secret=github.mask) as client:
        for warning in api.require_approval(env, client):
            github.annotate("warning", warning, title="domino-mlops", stream=sys.stdout)
