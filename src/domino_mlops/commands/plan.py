"""`domino-mlops plan --env NAME`: what would change for one environment. Read-only.

With DOMINO_API_HOST set, the plan covers Domino (Model APIs per hardware tier) as well as
MLflow; without it, only what the MLflow marking would change.
"""

from __future__ import annotations

import argparse

from domino_mlops import api
from domino_mlops.commands.runtime import adopt_project_token, connect, read_desired_from, run_info
from domino_mlops.report.runs import comment_plan, report_plan


def run(args: argparse.Namespace) -> int:
    adopt_project_token(args.project)
    desired = read_desired_from(args)
    environment = desired.environments.get(args.env)
    entries = api.select_entries(desired, environment, project=args.project)
    workloads = api.select_workloads(desired, environment, project=args.project)
    with connect() as connections:
        # A plan job runs outside the GitHub environment that holds the smoke tests' tokens:
        # without a tokens variable it says so, rather than predict skipped smoke tests.
        # The run's commit: a job already run for it shows as done, as the apply will see it.
        plan = api.plan(desired, environment, connections, entries=entries, action="plan", see_tokens=False,
                        workloads=workloads, commit=run_info().commit_sha)
    markdown = report_plan(plan, environment, show_json=args.json)
    if args.pr_comment:
        comment_plan(markdown, environment.name)
    return 0
