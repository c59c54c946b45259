"""`domino-mlops environments`: the environments in roll-out order, as JSON, for workflow jobs.

A workflow cannot read YAML, and GitHub creates a missing environment on the fly, so the job that
writes to an environment takes its GitHub environment from this output, computed from
environments.yaml, never typed into the workflow. ``projects`` are the manifest's projects with
models, jobs or apps in that environment: one matrix job each, holding that project's token.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from domino_mlops.commands.runtime import read_desired_from
from domino_mlops.desired.environments import Environment
from domino_mlops.desired.load import Desired
from domino_mlops.report import github, limits


def describe(desired: Desired, env: Environment) -> dict[str, Any]:
    # Every project with a model, a job or an app here: each gets its own rollout job.
    manifest = desired.manifest
    listed = {item.project_id for item in (*manifest.for_environment(env.name), *manifest.jobs_for(env.name),
                                           *manifest.apps_for(env.name))}
    projects = [project for project in manifest.project_ids if project in listed]
    return {"name": env.name, "github_environment": env.github_environment, "protected": env.protected,
            "requires": env.requires, "alias": env.alias,
            "waves": [list(wave) for wave in env.waves], "projects": projects}


def run(args: argparse.Namespace) -> int:
    desired = read_desired_from(args)
    if args.env:
        one = describe(desired, desired.environments.get(args.env))
        limits.check_matrix(one["projects"], f"the manifest for {one['name']}")
        print(json.dumps(one, indent=2))
        github.set_output("github-environment", one["github_environment"])
        github.set_output("protected", "true" if one["protected"] else "false")
        github.set_output("projects", json.dumps(one["projects"]))
        return 0
    every = [describe(desired, env) for env in desired.environments.items]
    for one in every:  # each environment's projects become a rollout job's matrix
        limits.check_matrix(one["projects"], f"the manifest for {one['name']}")
    print(json.dumps(every, indent=2))
    github.set_output("environments", json.dumps(every, separators=(",", ":")))
    github.set_output("count", str(len(every)))
    return 0
