"""Build what an apply needs from the environment: per-project Domino clients and MLflow
registries, the compute environment for new Model APIs, and who/what is running (for the ledger).

A project's secret `PROJECT_ID_<ID>` is its service token: calls about that project use it, as a
Bearer token for Domino and as the MLflow token, and never for another project. Without one,
Domino falls back to DOMINO_USER_API_KEY / DOMINO_TOKEN_FILE / DOMINO_API_PROXY.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, MutableMapping
from dataclasses import dataclass

from domino_mlops.apply.executor import RunInfo
from domino_mlops.apply.lease import LeaseSettings
from domino_mlops.clients.domino import DominoClient
from domino_mlops.clients.domino_auth import DominoConfig, normalize_host
from domino_mlops.clients.mlflow_auth import project_token_variable
from domino_mlops.desired.environments import Environment
from domino_mlops.errors import ConfigError
from domino_mlops.report import github


def adopt_project_token(project: str | None, environ: MutableMapping[str, str] | None = None) -> None:
    """Composite actions cannot name a variable after an input, so they pass the token as
    DMLOPS_PROJECT_TOKEN with --project ID; it becomes PROJECT_ID_<ID> here, masked first."""
    env = os.environ if environ is None else environ
    token = env.pop("DMLOPS_PROJECT_TOKEN", "")
    if token and project:
        github.mask(token)
        env[project_token_variable(project)] = token
    elif token:
        raise ConfigError("DMLOPS_PROJECT_TOKEN is set but no --project says whose it is",
                          hint="Pass --project <Domino project id> with the project token.")


@dataclass
class DominoClients:
    """One DominoClient per project, each with that project's credential (created on first use)."""

    environ: MutableMapping[str, str]

    def __post_init__(self) -> None:
        self._clients: dict[str, DominoClient] = {}
        self._environment_ids: dict[str, str] = {}
        self._lock = threading.Lock()

    @property
    def host(self) -> str:
        return normalize_host(self.environ.get("DOMINO_API_HOST", "").strip(), "DOMINO_API_HOST")

    def for_project(self, project_id: str) -> DominoClient:
        with self._lock:
            if project_id not in self._clients:
                variable = project_token_variable(project_id)
                token = self.environ.get(variable, "").strip() or None
                config = DominoConfig.from_env(self.environ, token=token, token_source=variable,
                                               project_id=project_id, on_secret=github.mask)
                self._clients[project_id] = DominoClient.from_config(config)
            return self._clients[project_id]

    def environment_id(self, env: Environment) -> Callable[[str], str]:
        """The compute environment for new Model APIs: configured, else the project's default
        (``useableEnvironments``: the selected one, else the first global one)."""
        def pick(project_id: str) -> str:
            if env.environment_id:
                return env.environment_id
            with self._lock:
                cached = self._environment_ids.get(project_id)
            if cached:
                return cached
            chosen = self.for_project(project_id).project_environments(project_id).default()
            if chosen is None:
                raise ConfigError(f"Domino lists no compute environment for project {project_id}",
                                  hint=f"Set domino.environment_id for {env.name} in the environments file.")
            with self._lock:
                self._environment_ids[project_id] = chosen.id
            return chosen.id
        return pick

    def close(self) -> None:
        for client in self._clients.values():
            client.close()


def run_info(environ: MutableMapping[str, str] | None = None) -> RunInfo:
    env = os.environ if environ is None else environ
    server, repo, run_id = env.get("GITHUB_SERVER_URL", ""), env.get("GITHUB_REPOSITORY", ""), env.get("GITHUB_RUN_ID", "")
    url = f"{server}/{repo}/actions/runs/{run_id}" if server and repo and run_id else ""
    actor = env.get("GITHUB_ACTOR") or env.get("USER", "")
    return RunInfo(commit_sha=env.get("GITHUB_SHA", ""), run_url=url, actor=actor)


def lease_settings(run: RunInfo, environ: MutableMapping[str, str] | None = None) -> LeaseSettings:
    """Who holds a lease (for the message another run reads), and its timing:
    DMLOPS_LEASE_SETTLE_SECONDS (default 1) and DMLOPS_LEASE_TTL_SECONDS (default 90)."""
    env = os.environ if environ is None else environ
    defaults = LeaseSettings()
    holder = " ".join(part for part in (run.actor, run.run_url) if part)
    return LeaseSettings(ttl=_seconds(env, "DMLOPS_LEASE_TTL_SECONDS", defaults.ttl),
                         settle=_seconds(env, "DMLOPS_LEASE_SETTLE_SECONDS", defaults.settle),
                         renew_every=min(defaults.renew_every, _seconds(env, "DMLOPS_LEASE_TTL_SECONDS",
                                                                        defaults.ttl) / 3),
                         holder=holder)


def _seconds(env: MutableMapping[str, str], name: str, default: float) -> float:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0 or value != value:
        raise ConfigError(f"{name}={text!r} is not a number of seconds >= 0", hint=f"Unset it to use {default:g}.")
    return value
