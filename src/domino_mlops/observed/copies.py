"""The separated topology: an environment with its own registered model (environments.yaml
`mlflow.registered_model`) marks and serves a copy of the manifest's version, not the version
itself. Observing it means reading the destination models (one batch per credential, like
observed/registry.py) and finding the copy already made, by the source tag it carries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from domino_mlops.clients.mlflow.types import NEW_VERSION, SOURCE_TAG, ModelVersionInfo, RegisteredModelInfo
from domino_mlops.desired.environments import Environment
from domino_mlops.observed.registry import ModelReader, ObservedModel


def source_label(version: ModelVersionInfo) -> str:
    """What a copy's SOURCE_TAG says: "<model>/<version>"."""
    return f"{version.name}/{version.version}"


def find_copy(model: RegisteredModelInfo | None, source: ModelVersionInfo) -> ModelVersionInfo | None:
    """The destination version copied from ``source`` (the first, should a race have made two)."""
    label = source_label(source)
    found = [v for v in (model.versions if model else ()) if v.tag_map.get(SOURCE_TAG) == label]
    return min(found, key=lambda v: int(v.version)) if found else None


def observe_copies(observed: Iterable[ObservedModel], env: Environment,
                   reader_for: Callable[[str], ModelReader]) -> tuple[ObservedModel, ...]:
    """Each observed manifest version turned into the environment's own: the destination model
    (empty when not created yet) and its copy (a NEW_VERSION placeholder when not made yet)."""
    observed = tuple(observed)
    if env.registered_model is None:
        return observed
    wanted: dict[int, tuple[ModelReader, set[str]]] = {}
    for item in observed:
        reader = reader_for(item.entry.project_id)
        wanted.setdefault(id(reader), (reader, set()))[1].add(env.registered_model_name(item.model.name))
    known = {(key, name): model for key, (reader, names) in wanted.items()
             for name, model in reader.models(names).items()}
    return tuple(_retarget(item, env, known.get((id(reader_for(item.entry.project_id)),
                                                 env.registered_model_name(item.model.name))))
                 for item in observed)


def _retarget(item: ObservedModel, env: Environment, model: RegisteredModelInfo | None) -> ObservedModel:
    source = item.target
    name = env.registered_model_name(source.name)
    copy = find_copy(model, source)
    if copy is None:
        # Not copied yet: what the copy will be, numbered by MLflow when the apply makes it.
        copy = ModelVersionInfo(name, NEW_VERSION, source.run_id, f"models:/{source.name}/{source.version}")
    return ObservedModel(item.entry, model or RegisteredModelInfo(name), copy, source=source)
