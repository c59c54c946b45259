"""`domino-mlops plan --env NAME`: what would change in MLflow for one environment. Read-only."""

from __future__ import annotations

import argparse

from domino_mlops.commands.common import apply_mlflow_http_defaults, read_desired, registry_factory
from domino_mlops.observed.registry import observe_registry
from domino_mlops.plan.planner import plan_registry
from domino_mlops.plan.render import plan_to_json, plan_to_markdown
from domino_mlops.report import github


def run(args: argparse.Namespace) -> int:
    apply_mlflow_http_defaults()
    desired = read_desired(args)
    environment = desired.environments.get(args.env)
    entries = desired.manifest.for_environment(environment.name)
    registry_for = registry_factory()
    # MLflow access follows the project that owns the model (its PROJECT_ID_<id> token).
    observed = observe_registry(entries, registry_for)
    plan = plan_registry(environment, desired.environments, observed)
    as_json, as_markdown = plan_to_json(plan), plan_to_markdown(plan)
    print(as_json if args.json else as_markdown, end="" if as_markdown.endswith("\n") else "\n")
    github.set_output("plan-json", as_json)
    github.set_output("changed-models", " ".join(c.model for c in plan.changed))
    github.set_output("has-changes", "true" if plan.changed else "false")
    github.append_summary(as_markdown)
    return 0
