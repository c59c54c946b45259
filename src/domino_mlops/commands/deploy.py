"""`domino-mlops deploy` / `promote` / `rollout`: plan one environment against MLflow and Domino, then apply.

deploy-to-staging, promote-to-production and each stage of a rollout are the same verb of the
facade (domino_mlops.api), which owns every check before the first write: the approved plan
(--expect-plan-digest), a protected environment's approval and its credentials' reach
(api.guard_writes), a forward change from an older commit held back (plan/forward.py). This
command parses, calls, and reports.
"""

from __future__ import annotations

import argparse

from domino_mlops import api
from domino_mlops.apply.poll import PollSettings
from domino_mlops.commands.runtime import (adopt_project_token, ancestry, approval, connect, lease_settings,
                                           read_desired_from, run_info)
from domino_mlops.connections import Connections
from domino_mlops.plan.actions import Action
from domino_mlops.report.reporters import RunReporter
from domino_mlops.report.runs import report_result, report_serving

VERBS = {"deploy": api.deploy, "promote": api.promote, "rollout": api.rollout}


def run(args: argparse.Namespace, *, action: Action) -> int:
    adopt_project_token(args.project)
    desired = read_desired_from(args)
    run = run_info()
    with connect() as connections, ancestry() as commits:
        request = api.DeployRequest(
            args.env, project=args.project, model=args.model, version=args.version,
            expect_plan_digest=args.expect_plan_digest, retry_failed=args.retry_failed_builds,
            max_parallel=args.max_parallel, poll=PollSettings(timeout=args.deploy_timeout), run=run,
            lease=lease_settings(run, wait=args.lease_wait), approval=approval(), ancestry=commits,
            reporter=RunReporter(pr_comment=args.pr_comment))
        outcome = VERBS[action](request, desired, connections)
        return report_outcome(outcome, connections, desired.manifest.file, action)


def report_outcome(outcome: api.DeployOutcome, connections: Connections, manifest_file: str, action: Action) -> int:
    """The result, or what still serves and why nothing was done (the plan was shown already)."""
    env = outcome.environment
    if outcome.result is None:
        report_serving(outcome.plan, connections.domino_host, connections.model_host(env).url)
        for model, whose in outcome.cleared_leases:
            print(f"Removed the stale lease of {model} in {env.name}, left by {whose}.", flush=True)
        print(f"Nothing to do: {env.name} {outcome.nothing_to_do}.")
        return 0
    report_result(outcome.result, outcome.plan, manifest_file, action)
    return outcome.result.exit_code
