"""`domino-mlops rollback --env PROD --model X [--to N]`: back to the previous version (from the
ledger) through the same gated, smoke-tested path as a promotion, recorded as a rollback.
"""

from __future__ import annotations

import argparse
import sys

from domino_mlops.apply.ledger import Ledger
from domino_mlops.commands.common import apply_mlflow_http_defaults, read_desired, registry_factory
from domino_mlops.commands.deploy import apply_entries
from domino_mlops.commands.runtime import adopt_project_token
from domino_mlops.desired.manifest import ManifestEntry, VersionRef
from domino_mlops.errors import ConfigError
from domino_mlops.report import github


def run(args: argparse.Namespace) -> int:
    apply_mlflow_http_defaults()
    adopt_project_token(args.project)
    desired = read_desired(args)
    env = desired.environments.get(args.env)
    listed = desired.manifest.find(args.model)
    project = args.project or (listed.project_id if listed else "")
    registry_for = registry_factory()
    last = Ledger(registry_for(project)).last(env.name, args.model)
    target = args.to or (last.from_version if last else None)
    if target is None:
        raise ConfigError(f"nothing to roll back to: the ledger has no earlier version of {args.model} in {env.name}",
                          hint="Pass --to <version> to choose one.")
    if not str(target).isdigit():
        raise ConfigError(f"--to {target!r} is not a version number", hint="Pass a number such as 3.")
    project = project or (last.project_id if last else "")
    if not project:
        raise ConfigError(f"cannot tell which Domino project serves {args.model}",
                          hint="Pass --project <id>.")
    entry = ManifestEntry(project, args.model, VersionRef(number=int(target)), line=listed.line if listed else None,
                          replicas=listed.replicas if listed else None,
                          smoke_test=listed.smoke_test if listed else None)
    print(f"Rolling {args.model} in {env.name} back to version {target}"
          f"{f' (from {last.to_version})' if last else ''}.", flush=True)
    code = apply_entries([entry], desired, env, args, action="rollback", registry_for=registry_for)
    if code == 0 and listed is not None and str(listed.version) != str(target):
        github.annotate("warning", f"the manifest still says {args.model} version {listed.version}; "
                        f"set it to {target}, or the next promotion moves it forward again",
                        file=desired.manifest.file, line=listed.line, stream=sys.stderr)
    return code
