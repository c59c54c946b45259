"""`domino-mlops projects`: the manifest's Domino project ids as a JSON list, for a job matrix."""

from __future__ import annotations

import argparse
import json

from domino_mlops.commands.runtime import read_desired_from
from domino_mlops.errors import ConfigError
from domino_mlops.report import github, limits


def run(args: argparse.Namespace) -> int:
    desired = read_desired_from(args)
    entries = desired.manifest.entries
    if args.env:
        env = desired.environments.get(args.env)
        entries = desired.manifest.for_environment(env.name)
    listed = list(dict.fromkeys(e.project_id for e in entries))
    wanted = getattr(args, "project", None)
    if wanted:
        # A dispatch input: checked against the manifest, so nothing else reaches a job matrix.
        if wanted not in listed:
            raise ConfigError(f"project {wanted[:80]!r} is not in the manifest"
                              + (f" for {args.env}" if args.env else ""),
                              hint=f"Use one of {', '.join(listed) or '(none)'}, or leave project empty.")
        listed = [wanted]
    # The list becomes a job matrix: refused here, before any job starts, if GitHub would refuse it.
    limits.check_matrix(listed, "the manifest" + (f" for {args.env}" if args.env else ""))
    projects = json.dumps(listed)
    print(projects)
    github.set_output("projects", projects)
    return 0
