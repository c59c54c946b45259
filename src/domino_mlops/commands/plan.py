"""`domino-mlops plan --env NAME`: what would change for one environment. Read-only.

With DOMINO_API_HOST set, the plan covers Domino (Model APIs per hardware tier) as well as
MLflow; without it, only what the MLflow marking would change.
"""

from __future__ import annotations

import argparse
import os

from domino_mlops.commands.common import apply_mlflow_http_defaults, read_desired, registry_factory
from domino_mlops.commands.deploy import (
    comment_plan,
    compute_plan,
    observe_manifest,
    report_plan,
    select_entries,
)
from domino_mlops.commands.runtime import DominoClients, adopt_project_token
from domino_mlops.observed.model_tokens import ModelTokens
from domino_mlops.plan.planner import plan_registry
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
            tokens = ModelTokens.from_env(os.environ, environment.name, on_secret=github.mask)
            # No tokens variable here (a plan job runs outside the GitHub environment that holds
            # them): say so rather than predict a skipped smoke test.
            plan = compute_plan(entries, desired, environment, registry_for, clients, action="plan",
                                tokens=tokens if tokens.variable else None)
        finally:
            clients.close()
    else:
        # MLflow access follows the project that owns the model (its PROJECT_ID_<id> token).
        plan = plan_registry(environment, desired.environments, observe_manifest(entries, registry_for, desired))
    markdown = report_plan(plan, show_json=args.json)
    if args.pr_comment:
        comment_plan(markdown, environment.name)
    return 0
