"""`domino-mlops rollback --env PROD --model X [--to N]`: back to the previous version (from the
ledger) through the same gated, smoke-tested path as a promotion, recorded as a rollback.

A rollback is planned like a promotion: `--plan-only` (read-only credentials, no lease, no write)
shows from -> to per data plane and the plan digest; the apply, given `--expect-plan-digest` and
`--expect-from`, re-plans and refuses (exit 4) before any write when the environment moved since.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from domino_mlops import api
from domino_mlops.commands.deploy import plan_and_apply, wait_for_other_runs
from domino_mlops.commands.runtime import adopt_project_token, connect, lease_settings, read_desired_from, run_info
from domino_mlops.connections import Connections
from domino_mlops.desired.environments import Environment
from domino_mlops.desired.load import Desired
from domino_mlops.report import github
from domino_mlops.report.rollback import report_rollback
from domino_mlops.report.runs import Progress, report_plan


def run(args: argparse.Namespace) -> int:
    adopt_project_token(args.project)
    desired = read_desired_from(args)
    env = desired.environments.get(args.env)
    with connect() as connections:
        if args.plan_only:
            return _plan_only(args, desired, env, connections)
        if args.lease_wait:  # a promotion still running: roll back from what it leaves, not from before it
            listed = desired.manifest.find(args.model)
            project = args.project or (listed.project_id if listed else None)
            if project:
                wait_for_other_runs([(project, args.model)], env, connections,
                                    lease_settings(run_info(), wait=args.lease_wait), Progress())
        target = api.rollback_target(desired, env, args.model, connections, to=args.to, project=args.project)
        target = replace(target, expect_from=args.expect_from)
        version = target.entry.version.number
        if target.again:
            print(f"The last change of {args.model} in {env.name} was a rollback to version {version} "
                  f"(from {target.current}): finishing it if it was interrupted; pass --to N to go "
                  "further back.", flush=True)
        else:
            print(f"Rolling {args.model} in {env.name} back to version {version}"
                  f"{f' (from {target.current})' if target.current else ''}.", flush=True)
        code = plan_and_apply([target.entry], desired, env, args, connections, action="rollback", rollback=target)
    listed = target.listed
    if code == 0 and listed is not None and str(listed.version) != str(version):
        github.annotate("warning", f"the manifest still says {args.model} version {listed.version}; "
                        f"set it to {version}, or the next promotion moves it forward again",
                        file=desired.manifest.file, line=listed.line, stream=sys.stderr)
    return code


def _plan_only(args: argparse.Namespace, desired: Desired, env: Environment, connections: Connections) -> int:
    """What the reviewer approves: from -> to and the digest. Reads only (a plan job holds
    read-only credentials and no smoke-test tokens), takes no lease, waits for none."""
    target = api.rollback_target(desired, env, args.model, connections, to=args.to, project=args.project)
    plan = api.plan(desired, env, connections, entries=[target.entry], action="rollback", see_tokens=False,
                    commit=run_info().commit_sha, rollback=target)
    report_rollback(plan, env)
    report_plan(plan, env)
    if not plan.has_work:
        print(f"Nothing to do: {env.name} already serves version {target.entry.version.number} of {args.model}.")
    return 0
