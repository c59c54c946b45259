"""The separated topology's copy: the exact version that passed the previous environment, made a
version of the environment's own registered model the way MLflow's
``MlflowClient.copy_model_version`` makes it (source ``models:/<model>/<version>``: the same
files; the source's run id; its tags), over REST. The copy also carries SOURCE_TAG, by which a
re-run (or the lookup after an ambiguous create) finds it instead of copying twice.
"""

from __future__ import annotations

from domino_mlops.clients.mlflow.registry import MlflowRegistry
from domino_mlops.clients.mlflow.types import SOURCE_TAG, ModelVersionInfo
from domino_mlops.errors import NotFound
from domino_mlops.observed.copies import find_copy, source_label
from domino_mlops.plan.steps import CopyVersion


def copy_version(registry: MlflowRegistry, step: CopyVersion) -> tuple[ModelVersionInfo, bool]:
    """The destination version holding ``step``'s source version, and whether this call made it.
    Checked first, so a re-run after a crash writes nothing."""
    source = registry.get_version(step.model, step.version)  # its tags now: they travel with the copy

    def existing() -> ModelVersionInfo | None:
        try:
            return find_copy(registry.get_model(step.registered_model), source)
        except NotFound:
            return None

    found = existing()
    if found is not None:
        return found, False
    # The executor made it before taking the lease on it; made here too for a caller without one.
    registry.create_registered_model(step.registered_model)
    tags = {**source.tag_map, SOURCE_TAG: source_label(source)}
    made = registry.create_version(step.registered_model, source=f"models:/{source.name}/{source.version}",
                                   run_id=source.run_id, tags=tags, lookup=existing)
    return made, True
