"""What commands read from the process environment: the project token a composite action hands
over, the run's connections, who and what is running (for the ledger and the lease).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator, MutableMapping
from typing import TYPE_CHECKING
from contextlib import contextmanager

from domino_mlops.apply.options import RunInfo
from domino_mlops.state.lease import LeaseSettings
from domino_mlops.clients.mlflow.auth import project_token_variable
from domino_mlops.connections import Connections, apply_mlflow_http_defaults
from domino_mlops.desired.load import Desired, read_desired
from domino_mlops.errors import ConfigError
from domino_mlops.observed.ancestry import Ancestry
from domino_mlops.report import github

if TYPE_CHECKING:
    from domino_mlops.api import GitHubRun, LocalApproval


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


def connect(environ: MutableMapping[str, str] | None = None) -> Connections:
    """The run's connections, with MLflow's gentler HTTP defaults and every credential masked
    in the Actions log the moment it is read."""
    env = os.environ if environ is None else environ
    apply_mlflow_http_defaults(env)  # type: ignore[arg-type]
    connections = Connections(env, on_secret=github.mask)
    if connections.domino_configured:
        connections.domino_host  # noqa: B018 - a malformed DOMINO_API_HOST is exit 2 now, before MLflow is asked
    return connections


def read_desired_from(args: argparse.Namespace) -> Desired:
    """The two files named by --manifest and --environments (defaults: desired/paths.py)."""
    return read_desired(args.manifest, args.environments)


def run_info(environ: MutableMapping[str, str] | None = None) -> RunInfo:
    env = os.environ if environ is None else environ
    server, repo, run_id = env.get("GITHUB_SERVER_URL", ""), env.get("GITHUB_REPOSITORY", ""), env.get("GITHUB_RUN_ID", "")
    url = f"{server}/{repo}/actions/runs/{run_id}" if server and repo and run_id else ""
    actor = env.get("GITHUB_ACTOR") or env.get("USER", "")
    return RunInfo(commit_sha=env.get("GITHUB_SHA", ""), run_url=url, actor=actor)


def approval(environ: MutableMapping[str, str] | None = None) -> GitHubRun | LocalApproval:
    """Who approves this run's writes: in GitHub Actions, GitHub (the run's reviews, asked of
    GitHub by the facade's guard); outside it, the person holding the credentials."""
    from domino_mlops.api import GitHubRun, LocalApproval

    env = os.environ if environ is None else environ
    if github.in_actions(env):
        return GitHubRun.from_env(dict(env))
    return LocalApproval(env.get("USER") or env.get("USERNAME") or "unknown")


@contextmanager
def ancestry() -> Iterator[Ancestry]:
    """How commits relate: the local clone, then (in Actions, with the job's token) GitHub."""
    client = None
    if github.in_actions():
        from domino_mlops.clients.github import GitHubClient

        try:
            client = GitHubClient.from_env(on_secret=github.mask)
        except ConfigError:
            pass  # no token: the local clone may still answer, and the plan warns when nothing does
    try:
        yield Ancestry(github=client.compare if client is not None else None)
    finally:
        if client is not None:
            client.close()


def lease_settings(run: RunInfo, environ: MutableMapping[str, str] | None = None, *, wait: float = 0.0) -> LeaseSettings:
    """Who holds a lease (for the message another run reads), and its timing:
    DMLOPS_LEASE_SETTLE_SECONDS (default 1) and DMLOPS_LEASE_TTL_SECONDS (default 90);
    ``wait``: seconds to wait for another run's lease (--lease-wait); which GitHub job and attempt
    this is (GITHUB_RUN_ID, GITHUB_JOB, GITHUB_RUN_ATTEMPT: state/lease.py, Claim.superseded_by)."""
    env = os.environ if environ is None else environ
    defaults = LeaseSettings()
    holder = " ".join(part for part in (run.actor, run.run_url) if part)
    run_id, job = env.get("GITHUB_RUN_ID", "").strip(), env.get("GITHUB_JOB", "").strip()
    attempt = env.get("GITHUB_RUN_ATTEMPT", "").strip()
    # Only a whole identity counts: another run's claim of an earlier attempt of it is taken as dead.
    whole = bool(run_id and job and attempt.isdigit())
    return LeaseSettings(ttl=_seconds(env, "DMLOPS_LEASE_TTL_SECONDS", defaults.ttl),
                         settle=_seconds(env, "DMLOPS_LEASE_SETTLE_SECONDS", defaults.settle),
                         renew_every=min(defaults.renew_every, _seconds(env, "DMLOPS_LEASE_TTL_SECONDS",
                                                                        defaults.ttl) / 3),
                         holder=holder, wait=wait, job=f"{run_id}/{job}" if whole else "",
                         attempt=int(attempt) if whole else 0)


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
