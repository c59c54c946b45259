"""What MLflow holds for the models a plan is about, read in batches: one search for the models
per credential (plus pages), however many entries the manifest has, and one for the versions of
the models whose newest versions do not answer the manifest (an older version asked for, a
version in a legacy stage).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from domino_mlops.clients.mlflow.types import ModelVersionInfo, RegisteredModelInfo
from domino_mlops.desired.manifest import ManifestEntry, VersionRef
from domino_mlops.errors import NotFound

if TYPE_CHECKING:  # annotations only: the planner imports ObservedModel without an HTTP library
    from domino_mlops.clients.mlflow.registry import MlflowRegistry


READ_PARALLELISM = 4  # credentials (and Domino projects) read at once


@dataclass(frozen=True, slots=True)
class ObservedModel:
    """One manifest entry beside the registry's answer: the model and the version it names."""

    entry: ManifestEntry
    model: RegisteredModelInfo
    target: ModelVersionInfo
    # The separated topology (observed/copies.py): `model` and `target` are the environment's own
    # registered model and copy; `source` the manifest's version it copies (the gate reads it).
    source: ModelVersionInfo | None = None


class ModelReader(Protocol):
    """Reads registered models (aliases and all versions) by name; absent names are left out.
    ``enough``: a model with only its latest versions that satisfies it may come back so
    (clients/mlflow/reader.py)."""

    @property
    def display_uri(self) -> str: ...

    def models(self, names: Collection[str], *,
               enough: Callable[[RegisteredModelInfo], bool] | None = None) -> Mapping[str, RegisteredModelInfo]: ...


class OneModelAtATime:
    """The reader before batching (two registry requests per model), kept so the benchmark
    can compare against it (benchmarks/plan_scale.py)."""

    def __init__(self, registry: MlflowRegistry) -> None:
        self._registry = registry

    @property
    def display_uri(self) -> str:
        return self._registry.credentials.display_uri

    def models(self, names: Collection[str], *,
               enough: Callable[[RegisteredModelInfo], bool] | None = None) -> dict[str, RegisteredModelInfo]:
        found = {}
        for name in sorted(set(names)):
            try:
                found[name] = self._registry.get_model(name)
            except NotFound:
                pass
        return found


def observe_registry(entries: Iterable[ManifestEntry],
                     reader_for: Callable[[str], ModelReader]) -> tuple[ObservedModel, ...]:
    """Read every model the entries name and resolve each entry's version.

    `reader_for(project_id)` gives the reader holding that project's credential. Projects that
    share a reader (the same credential) share its batches; a request never asks about a model
    on behalf of a project whose credential it does not carry.
    """
    entries = tuple(entries)
    groups: dict[int, tuple[ModelReader, dict[str, set[VersionRef]]]] = {}
    for entry in entries:
        reader = reader_for(entry.project_id)
        groups.setdefault(id(reader), (reader, {}))[1].setdefault(entry.name, set()).add(entry.version)

    def read(group: tuple[ModelReader, dict[str, set[VersionRef]]]) -> Mapping[str, RegisteredModelInfo]:
        reader, refs = group
        return reader.models(refs, enough=lambda model: _answers(model, refs[model.name]))

    # Credentials are read side by side: most of a read is the server's time, and each reader has
    # its own session, used by one thread.
    with ThreadPoolExecutor(max_workers=max(1, min(READ_PARALLELISM, len(groups))),
                            thread_name_prefix="observe") as pool:
        answers = pool.map(lambda item: (item[0], read(item[1])), list(groups.items()))
        known = {(key, name): model for key, models in answers for name, model in models.items()}
    observed, missing = [], []  # every entry MLflow cannot answer is reported, not only the first
    for entry in entries:
        reader = reader_for(entry.project_id)
        model = known.get((id(reader), entry.name))
        try:
            if model is None:
                raise NotFound(f"model {entry.name!r} ({_where(entry)}) is not registered in MLflow at "
                               f"{reader.display_uri}",
                               hint="Register it first, or fix the name in the manifest.")
            observed.append(ObservedModel(entry, model, _resolve(entry, model)))
        except NotFound as exc:
            missing.append((entry, exc))
    if missing:
        raise _all_missing(missing)
    return tuple(observed)


def _answers(model: RegisteredModelInfo, refs: Collection[VersionRef]) -> bool:
    """Whether a model read with only its newest versions plans as the whole model would: every
    version the manifest names is among them, and none holds a legacy stage (the planner asks
    which versions hold one, and only the newest of each is here). Anything else, an error too
    (its hint lists every version), is read whole."""
    if any(v.current_stage != "None" for v in model.versions):
        return False
    aliases = model.alias_map
    return all(model.version(aliases.get(ref.alias, "") if ref.alias is not None else str(ref.number)) is not None
               for ref in refs)


def _all_missing(missing: list[tuple[ManifestEntry, NotFound]]) -> NotFound:
    if len(missing) == 1:
        (entry, error), = missing
    else:
        error = NotFound(f"{len(missing)} manifest entries name what MLflow does not have: "
                         + "; ".join(exc.message for _, exc in missing),
                         hint="Register them first, or fix the names and versions in the manifest.")
    # One place per entry: the command that knows the manifest's file name fills it in.
    error.places = [("", entry.line, exc.message) for entry, exc in missing]
    return error


def _resolve(entry: ManifestEntry, model: RegisteredModelInfo) -> ModelVersionInfo:
    ref = entry.version
    number = model.alias_map.get(ref.alias) if ref.alias is not None else str(ref.number)
    version = model.version(number) if number is not None else None
    if version is None:
        what = f"alias @{ref.alias}" if ref.alias is not None else f"version {ref.number}"
        known = ", ".join(v.version for v in model.versions) or "none"
        raise NotFound(f"model {entry.name!r} has no {what} ({_where(entry)})",
                       hint=f"Registered versions: {known}; aliases: "
                            f"{', '.join('@' + a for a, _ in model.aliases) or 'none'}.")
    return version


def _where(entry: ManifestEntry) -> str:
    return f"project {entry.project_id}, line {entry.line}" if entry.line else f"project {entry.project_id}"
