"""Which model versions ask for an export: one MLflow search per target, on its request tag."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from domino_mlops.clients.mlflow.registry import MlflowRegistry, ModelVersionInfo
from domino_mlops.desired.targets import Target
from domino_mlops.errors import ConfigError
from domino_mlops.observed.export_snapshot import TaggedVersion, TargetSnapshot

log = logging.getLogger(__name__)


def tag_filter(tag: str) -> str:
    """An MLflow filter for versions that carry ``tag`` with any value (backquoted: dots, dashes)."""
    return f"tags.`{tag}` LIKE '%'"


def observe_targets(targets: Iterable[Target],
                    registry_for: Callable[[str], MlflowRegistry]) -> tuple[TargetSnapshot, ...]:
    """Each target's tagged versions of the models it takes (``registry_for(project_id)`` gives
    the registry with that project's credential; "" the general one)."""
    snapshots = []
    for target in targets:
        found = _search(registry_for(target.project_id or ""), target.request_tag)
        snapshots.append(TargetSnapshot(target.name, tuple(
            _tagged(v) for v in found if target.wants(v.name))))
    return tuple(snapshots)


def _search(registry: MlflowRegistry, tag: str) -> tuple[ModelVersionInfo, ...]:
    """Versions carrying ``tag``: searched by MLflow; a server too old for LIKE on tags (it refuses
    the filter) is listed whole and filtered here."""
    try:
        return registry.search_versions(tag_filter(tag))
    except ConfigError as exc:
        if type(exc) is not ConfigError:  # NotFound, a refused credential: not about the filter
            raise
        log.info("MLflow refused the tag filter (%s); listing every version instead", exc)
        return tuple(v for v in registry.search_versions("") if tag in v.tag_map)


def _tagged(version: ModelVersionInfo) -> TaggedVersion:
    return TaggedVersion(version.name, version.version, version.run_id, version.tags)
