"""`domino-mlops validate`: check both files, report every error at once (exit 2), touch nothing."""

from __future__ import annotations

import argparse

from domino_mlops.commands.runtime import read_desired_from
from domino_mlops.report import github


def run(args: argparse.Namespace) -> int:
    desired = read_desired_from(args)
    manifest, environments = desired.manifest, desired.environments
    projects = len(manifest.project_ids)
    print(f"ok: {manifest.file}: {len(manifest.entries)} model(s) in {projects} project(s)")
    print(f"ok: {environments.file}: {' -> '.join(environments.names)}")
    github.append_summary(f"### :white_check_mark: validate\n\n{len(manifest.entries)} model(s) in "
                          f"{projects} project(s); environments {' -> '.join(environments.names)}.")
    return 0
