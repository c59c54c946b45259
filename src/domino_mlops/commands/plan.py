"""`domino-mlops plan --env NAME`: what would change for one environment. Read-only.

With DOMINO_API_HOST set, the plan covers Domino (Model APIs per hardware tier) as well as
MLflow; without it, only what the MLflow marking would change.
"""

from __future__ import annotations

import argparse
import os

from domino_mlops.commands.common import apply_mlflow_http_defaults, read_desired, registry_factory
from domino_mlops.commands.deploy import compute_plan, select_entries
from domino_mlops.commands.runtime import DominoClients, adopt_project_token
from domino_mlops.observed.registry import observe_registry
from domino_mlops.plan.planner import plan_registry
from domino_mlops.plan.render import plan_to_json, plan_to_markdown
from domino_mlops.report import github


def run(args: argparse.Namespace) -> int:
    apply_mlflow_http_defaults()
    adopt_project_token(args.project)
    desired = read_desired(args)
    environment = desired.environments.get(args.env)
    entries = select_entries(desired, environment, project=args.project, model=None, version=None)
    registry_for = registry_factory()
    if os.environ.get("DOMINO_API_HOST", "").strip():
        clients = DominoClients(os.environ)
        try:
            plan = compute_plan(entries, desired, environment, registry_for, clients, action="plan")
        finally:
            clients.close()
    else:
        # MLflow access follows the project that owns the model (its PROJECT_ID_<id> token).
        plan = plan_registry(environment, desired.environments, observe_registry(entries, registry_for))
    as_json, as_markdown = plan_to_json(plan), plan_to_markdown(plan)
    print(as_json if args.json else as_markdown, end="" if as_markdown.endswith("\n") else "\n")
    github.set_output("plan-json", as_json)
    github.set_output("changed-models", " ".join(c.model for c in plan.changed))
    github.set_output("has-changes", "true" if plan.changed else "false")
    github.append_summary(as_markdown)
    if args.pr_comment:
        from domino_mlops.commands.deploy import _comment

        _comment(as_markdown, f"plan:{environment.name}")
    return 0
