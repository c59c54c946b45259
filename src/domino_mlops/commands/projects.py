"""`domino-mlops projects`: the manifest's Domino project ids as a JSON list, for a job matrix."""

from __future__ import annotations

import argparse
import json

from domino_mlops.commands.runtime import read_desired_from
from domino_mlops.report import github


def run(args: argparse.Namespace) -> int:
    desired = read_desired_from(args)
    entries = desired.manifest.entries
    if args.env:
        env = desired.environments.get(args.env)
        entries = desired.manifest.for_environment(env.name)
    projects = json.dumps(list(dict.fromkeys(e.project_id for e in entries)))
    print(projects)
    github.set_output("projects", projects)
    return 0
