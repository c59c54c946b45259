"""What several commands share: locating the files, MLflow's HTTP defaults, registries per project."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, MutableMapping
from pathlib import Path

from domino_mlops.desired.environments import default_environments
from domino_mlops.desired.load import Desired, load_desired
from domino_mlops.errors import ValidationFailed

# MLflow's own defaults (120 s timeout, 7 retries with backoff 2) make an unreachable server
# look like a hang for minutes. A CLI run in CI should fail in well under a minute instead.
MLFLOW_HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "20",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
}


def apply_mlflow_http_defaults(environ: MutableMapping[str, str] | None = None) -> None:
    env = os.environ if environ is None else environ
    for key, value in MLFLOW_HTTP_DEFAULTS.items():
        env.setdefault(key, value)


def read_desired(args: argparse.Namespace) -> Desired:
    """Both files; without --environments and without the default file, DEV -> STAGE -> PROD."""
    from domino_mlops.cli import DEFAULT_ENVIRONMENTS
    from domino_mlops.desired.manifest import load_manifest

    if args.environments is None and not Path(DEFAULT_ENVIRONMENTS).exists():
        return Desired(load_manifest(args.manifest), default_environments())
    return load_desired(args.manifest, args.environments or DEFAULT_ENVIRONMENTS)


def registry_factory(environ: MutableMapping[str, str] | None = None) -> Callable[[str], object]:
    """project id -> an MlflowRegistry using that project's credential (created once each)."""
    from domino_mlops.clients.mlflow import MlflowRegistry
    from domino_mlops.clients.mlflow_auth import MlflowCredentials
    from domino_mlops.report import github

    env = os.environ if environ is None else environ
    cache: dict[str, MlflowRegistry] = {}

    def registry_for(project_id: str) -> MlflowRegistry:
        if project_id not in cache:
            credentials = MlflowCredentials.from_env(env, project_id=project_id)
            for secret in credentials.secrets():
                github.mask(secret)  # the moment it exists, before any log line can carry it
            cache[project_id] = MlflowRegistry(credentials)
        return cache[project_id]

    return registry_for


__all__ = ["ValidationFailed", "apply_mlflow_http_defaults", "read_desired", "registry_factory"]
