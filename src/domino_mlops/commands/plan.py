"""`domino-mlops plan --env NAME`: what would change for one environment. Read-only.

With DOMINO_API_HOST set, the plan covers Domino (Model APIs per hardware tier) as well as
MLflow; without it, only what the MLflow marking would change.

`--as promote|rollout|deploy` plans with the rules of that apply: the run's commit and the commit
ancestry, exactly as commands/deploy.py passes them, so a model the apply will hold back (an
older commit, a version that was rolled back: plan/forward.py) is shown held back, not as a move,
and the projects with work (the `work-projects` output, for the apply's matrix) are the apply's.
"""

from __future__ import annotations

import argparse

from domino_mlops import api
from domino_mlops.commands.deploy import _ancestry  # the apply's ancestry, so both plan alike
from domino_mlops.commands.runtime import adopt_project_token, connect, read_desired_from, run_info
from domino_mlops.report import github
from domino_mlops.report.runs import comment_plan, report_plan

PLAN_AS = ("deploy", "promote", "rollout")


def run(args: argparse.Namespace) -> int:
    adopt_project_token(args.project)
    desired = read_desired_from(args)
    environment = desired.environments.get(args.env)
    entries = api.select_entries(desired, environment, project=args.project)
    workloads = api.select_workloads(desired, environment, project=args.project)
    action = getattr(args, "plan_as", None) or "plan"
    with connect() as connections, _ancestry() as ancestry:
        # A plan job runs outside the GitHub environment that holds the smoke tests' tokens:
        # without a tokens variable it says so, rather than predict skipped smoke tests.
        # The run's commit: a job already run for it shows as done, as the apply will see it.
        plan = api.plan(desired, environment, connections, entries=entries, action=action, see_tokens=False,
                        workloads=workloads, commit=run_info().commit_sha, ancestry=ancestry)
    markdown = report_plan(plan, environment, show_json=args.json)
    if args.pr_comment:
        comment_plan(markdown, environment.name)
    if action != "plan" and not plan.has_work:
        # The apply jobs' matrix (work-projects) is empty, so no environment job starts and nobody
        # is asked to approve a run that would change nothing.
        note = f"Nothing to approve: {environment.name} has nothing to {action} from this commit."
        github.append_summary(f"**{note}**")
        print(note, flush=True)
    return 0
