"""`domino-mlops plan --env NAME`: what would change for one environment. Read-only.

With DOMINO_API_HOST set, the plan covers Domino (Model APIs per hardware tier) as well as
MLflow; without it, only what the MLflow marking would change.

`--as promote|rollout|deploy` plans with the rules of that apply: the run's commit and the commit
ancestry, exactly as the apply's verb gets them, so a model the apply will hold back (an
older commit, a version that was rolled back: plan/forward.py) is shown held back, not as a move,
and the projects with work (the `work-projects` output, for the apply's matrix) are the apply's.
"""

from __future__ import annotations

import argparse

from domino_mlops import api
from domino_mlops.commands.runtime import adopt_project_token, ancestry, connect, read_desired_from, run_info
from domino_mlops.report import github
from domino_mlops.report.runs import comment_plan, report_plan

PLAN_AS = ("deploy", "promote", "rollout")


def run(args: argparse.Namespace) -> int:
    adopt_project_token(args.project)
    desired = read_desired_from(args)
    with connect() as connections, ancestry() as commits:
        # A plan job runs outside the GitHub environment that holds the smoke tests' tokens:
        # without a tokens variable it says so, rather than predict skipped smoke tests.
        # The run's commit: a job already run for it shows as done, as the apply will see it.
        request = api.PlanRequest(args.env, project=args.project, action=args.plan_as or "plan", see_tokens=False,
                                  commit=run_info().commit_sha, ancestry=commits)
        outcome = api.plan(request, desired, connections)
    markdown = report_plan(outcome.plan, outcome.environment, show_json=args.json)
    if args.pr_comment:
        comment_plan(markdown, outcome.environment.name)
    if outcome.nothing_to_approve:
        # The apply jobs' matrix (work-projects) is empty, so no environment job starts and nobody
        # is asked to approve a run that would change nothing.
        note = f"Nothing to approve: {outcome.environment.name} has nothing to {outcome.action} from this commit."
        github.append_summary(f"**{note}**")
        print(note, flush=True)
    return 0
