"""`domino-mlops export`: plan which tagged model versions go to which registry, then export them.

Read-only with --plan-only; --context-only (or no docker, podman or buildah on PATH) lays out the
build contexts and pushes nothing, so nothing is tagged either.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from domino_mlops import api
from domino_mlops.apply.export_build import find_tool
from domino_mlops.apply.poll import PollSettings
from domino_mlops.commands.runtime import adopt_project_token, approval, connect, run_info
from domino_mlops.desired.paths import DEFAULT_TARGETS
from domino_mlops.desired.targets import load_targets
from domino_mlops.report import github
from domino_mlops.report.exports import report_export_result
from domino_mlops.report.reporters import ExportReporter


def run(args: argparse.Namespace) -> int:
    adopt_project_token(args.project)
    if args.targets == DEFAULT_TARGETS and not Path(DEFAULT_TARGETS).exists():
        # The scheduled workflow in a repository that exports nothing yet: not an error.
        github.annotate("notice", f"No {DEFAULT_TARGETS}: no export targets, nothing to export.",
                        title="domino-mlops export", stream=sys.stderr)
        return 0
    targets = load_targets(args.targets)
    request = api.ExportRequest(
        target=args.target, plan_only=args.plan_only, context_only=args.context_only, output=Path(args.output),
        tool=None if args.context_only else find_tool(), poll=PollSettings(timeout=args.export_timeout),
        run=run_info(), approval=approval(), github_environment=args.github_environment, manifest=args.manifest,
        environments=args.environments, expect_plan_digest=args.expect_plan_digest,
        reporter=ExportReporter(json=args.json, pr_comment=args.pr_comment, plan_only=args.plan_only))
    with connect() as connections:
        outcome = api.export(request, targets, connections)
    if outcome.result is None:
        if not args.plan_only and not args.json:  # nothing to export: plan-only and --json said so already
            print("Nothing to export: every tagged version is in its registry.", flush=True)
        return 0
    report_export_result(outcome.result, outcome.plan, show_json=args.json)
    return outcome.result.exit_code
