"""Domino's version (read once per run) and the data planes of the tiers a plan uses, checked
against what that version can run there (clients/domino/capabilities.py).

On a version whose documentation lists no limit (6.0 and later) this costs one request
(``GET /version``); only an older one lists the hardware tiers of the projects involved
(``DominoClient.hardware_tiers``, one request per project).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Protocol

from domino_mlops.clients.domino.capabilities import Kind, TierUse, limits_remote, refusal
from domino_mlops.desired.naming import tiers_in_waves

if TYPE_CHECKING:
    from domino_mlops.clients.domino.client import DominoClient
    from domino_mlops.desired.environments import Environment
    from domino_mlops.desired.workloads import AppSpec


class Connections(Protocol):
    """What this module needs of a run's connections (domino_mlops.connections.Connections): a
    Domino client per project. A protocol, so the observed layer does not import the wiring above it."""

    def domino(self, project_id: str) -> DominoClient: ...


_versions: weakref.WeakKeyDictionary[Connections, str] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def domino_version(connections: Connections, project_id: str) -> str:
    """Domino's version, read once per run (per Connections): ``/version`` needs no project, but
    a client does, so any project's serves."""
    with _lock:
        known = _versions.get(connections)
    if known is None:
        known = connections.domino(project_id).domino_version()
        with _lock:
            _versions[connections] = known
    return known


def check_data_planes(env: Environment, model_projects: Iterable[str], apps: Sequence[AppSpec],
                      connections: Connections) -> None:
    """Refuse (NotSupportedByDomino, exit 2) a Model API wave or an app on a remote data plane's
    tier when this Domino version cannot run it there. Reads nothing more on a current version."""
    model_projects = set(model_projects)
    projects = sorted(model_projects | {app.project_for(env) for app in apps})
    if not projects:
        return
    version = domino_version(connections, projects[0])
    if not limits_remote(version):
        return
    uses: list[TierUse] = []
    for project in projects:
        tiers = {tier.id: tier for tier in connections.domino(project).hardware_tiers(project)}
        default = next((tier for tier in tiers.values() if tier.is_default), None)

        def use(kind: Kind, tier_id: str | None, where: str) -> None:
            tier = tiers.get(tier_id) if tier_id else default
            if tier is not None:  # an unknown tier is refused elsewhere (it is not a data plane question)
                uses.append(TierUse(kind, tier.id, tier.data_plane_name or tier.data_plane_id or "?",
                                    tier.data_plane_is_local, where))

        if project in model_projects:
            for wave, tier_id in tiers_in_waves(env):
                use("Model API", tier_id, f"wave {wave + 1} of {env.name}")
        for app in apps:
            if app.project_for(env) == project:
                use("app", app.hardware_tier.for_environment(env), f"app {app.name} in {env.name}")
    problem = refusal(version, uses)
    if problem is not None:
        raise problem
