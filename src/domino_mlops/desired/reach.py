"""What each environment's credentials can reach, and which environments share it. Pure.

Approval is only as strong as the credentials it guards: if the run that deploys STAGE holds a
token that can also write what PROD uses, a pull request or a branch that gets STAGE's secrets
reaches production without anyone approving it. Two environments **share reach** when

- they share a Domino project: the environment's own ``domino.project_id``, else the projects
  the manifest lists (its models, jobs and apps), or
- they mark the same MLflow registered models: the same tracking server (the variable that names
  it, or the URI both variables hold) and the same registered model names (the manifest's names
  through each environment's ``mlflow.registered_model`` template).

The run-time guard (api.guard_writes) then asks that whatever shares reach with a protected
environment runs in a GitHub environment that admits only the default branch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from domino_mlops.desired.environments import Environment, Environments
from domino_mlops.desired.manifest import Manifest

DEFAULT_TRACKING_VARIABLE = "MLFLOW_TRACKING_URI"


@dataclass(frozen=True, slots=True)
class Reach:
    """What one environment's credentials write: Domino projects, and (server, model) pairs."""

    environment: str
    projects: frozenset[str]
    models: frozenset[tuple[str, str]]  # (tracking server, registered model name)


@dataclass(frozen=True, slots=True)
class SharedReach:
    """A protected environment that ``environment`` can reach, and through what."""

    environment: str
    protected: str
    projects: tuple[str, ...]
    models: tuple[str, ...]  # registered model names
    server: str = ""  # the tracking server variable the shared models live on

    def describe(self) -> str:
        parts = []
        if self.projects:
            parts.append(f"Domino project{'s' if len(self.projects) > 1 else ''} {', '.join(self.projects)}")
        if self.models:
            parts.append(f"MLflow registered model{'s' if len(self.models) > 1 else ''} "
                         f"{', '.join(self.models)} (on {self.server or DEFAULT_TRACKING_VARIABLE})")
        return " and ".join(parts)


def tracking_server(env: Environment, environ: Mapping[str, str]) -> str:
    """The server an environment's MLflow writes go to: its variable's value when the run has it
    (two variables holding one URI are one server), else the variable's name."""
    variable = env.tracking_uri_variable or DEFAULT_TRACKING_VARIABLE
    value = environ.get(variable, "").strip()
    if not value:
        return f"${variable}"
    parts = urlsplit(value)  # without user:password@, which does not make it another server
    return f"{parts.hostname or ''}{f':{parts.port}' if parts.port else ''}{parts.path.rstrip('/')}" or value


def registered_model(env: Environment, model: str) -> str:
    return env.registered_model.replace("{model}", model) if env.registered_model else model


def reach_of(env: Environment, manifests: Sequence[Manifest], environ: Mapping[str, str] | None = None) -> Reach:
    """``manifests``: every manifest that may be in force (the run's, and the default branch's
    when the run is elsewhere). All their models count, not only those listed for ``env``: a
    credential that can write a model is not held back by a line of the manifest."""
    projects = {env.project_id} if env.project_id else {
        p for manifest in manifests
        for p in (*manifest.project_ids, *(j.project_id for j in manifest.jobs), *(a.project_id for a in manifest.apps))
        if p}
    server = tracking_server(env, environ or {})
    models = {(server, registered_model(env, entry.name)) for manifest in manifests for entry in manifest.entries}
    return Reach(env.name, frozenset(projects), frozenset(models))


def shared_with_protected(env: Environment, environments: Sequence[Environments], manifests: Sequence[Manifest],
                          environ: Mapping[str, str] | None = None) -> tuple[SharedReach, ...]:
    """Each protected environment (other than ``env``, in any of ``environments``) whose
    resources ``env``'s credentials also reach. Empty: ``env`` reaches nothing protected."""
    mine = reach_of(env, manifests, environ)
    found: dict[str, SharedReach] = {}
    for environments_file in environments:
        for other in environments_file.items:
            if not other.protected or other.name == env.name:
                continue
            theirs = reach_of(other, manifests, environ)
            projects = tuple(sorted(mine.projects & theirs.projects))
            models = sorted(mine.models & theirs.models)
            if not (projects or models):
                continue
            previous = found.get(other.name)
            shared = SharedReach(env.name, other.name, projects, tuple(name for _, name in models),
                                 models[0][0] if models else "")
            if previous is None or len(shared.describe()) > len(previous.describe()):
                found[other.name] = shared
    return tuple(found[name] for name in sorted(found))
