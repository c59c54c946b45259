"""`domino-mlops rollback --env PROD --model X [--to N]`: back to the previous version (from the
ledger) through the same gated, smoke-tested path as a promotion, recorded as a rollback.

A rollback is planned like a promotion: `--plan-only` (read-only credentials, no lease, no write)
shows from -> to per data plane and the plan digest; the apply, given `--expect-plan-digest` and
`--expect-from`, re-plans and refuses (exit 4) before any write when the environment moved since.
"""

from __future__ import annotations

import argparse
import sys

from domino_mlops import api
from domino_mlops.apply.poll import PollSettings
from domino_mlops.commands.deploy import report_outcome
from domino_mlops.commands.runtime import (adopt_project_token, ancestry, approval, connect, lease_settings,
                                           read_desired_from, run_info)
from domino_mlops.report import github
from domino_mlops.report.reporters import RunReporter


def run(args: argparse.Namespace) -> int:
    adopt_project_token(args.project)
    desired = read_desired_from(args)
    run = run_info()
    with connect() as connections, ancestry() as commits:
        request = api.RollbackRequest(
            args.env, args.model, to=args.to, project=args.project, plan_only=args.plan_only,
            expect_from=args.expect_from, expect_plan_digest=args.expect_plan_digest,
            retry_failed=args.retry_failed_builds, max_parallel=args.max_parallel,
            poll=PollSettings(timeout=args.deploy_timeout), run=run, lease=lease_settings(run, wait=args.lease_wait),
            approval=approval(), ancestry=commits,
            reporter=RunReporter(pr_comment=args.pr_comment and not args.plan_only, rollback=True))
        outcome = api.rollback(request, desired, connections)
        if args.plan_only:  # what the reviewer approves: from -> to and the digest, shown already
            if outcome.nothing_to_do:
                print(f"Nothing to do: {outcome.environment.name} {outcome.nothing_to_do}.")
            return 0
        code = report_outcome(outcome, connections, desired.manifest.file, "rollback")
    listed, version = outcome.rollback.listed, outcome.rollback.entry.version.number  # type: ignore[union-attr]
    if code == 0 and listed is not None and str(listed.version) != str(version):
        github.annotate("warning", f"the manifest still says {args.model} version {listed.version}; "
                        f"set it to {version}, or the next promotion moves it forward again",
                        file=desired.manifest.file, line=listed.line, stream=sys.stderr)
    return code
