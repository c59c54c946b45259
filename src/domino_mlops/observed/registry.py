"""What MLflow holds for the models a plan is about, read with two requests per model."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from domino_mlops.clients.mlflow import MlflowRegistry, ModelVersionInfo, RegisteredModelInfo
from domino_mlops.desired.manifest import ManifestEntry
from domino_mlops.errors import NotFound


@dataclass(frozen=True, slots=True)
class ObservedModel:
    """One manifest entry beside the registry's answer: the model and the version it names."""

    entry: ManifestEntry
    model: RegisteredModelInfo
    target: ModelVersionInfo


def observe_registry(entries: Iterable[ManifestEntry],
                     registry_for: Callable[[str], MlflowRegistry]) -> tuple[ObservedModel, ...]:
    """Read each model once (its aliases and versions) and resolve each entry's version.

    `registry_for(project_id)` gives the registry client holding that project's credential.
    """
    cache: dict[tuple[str, str], RegisteredModelInfo | None] = {}
    observed, missing = [], []  # every entry MLflow cannot answer is reported, not only the first
    for entry in entries:
        key = (entry.project_id, entry.name)
        if key not in cache:
            try:
                cache[key] = registry_for(entry.project_id).get_model(entry.name)
            except NotFound:
                cache[key] = None
        model = cache[key]
        try:
            if model is None:
                raise NotFound(f"model {entry.name!r} ({_where(entry)}) is not registered in MLflow",
                               hint="Register it first, or fix the name in the manifest.")
            observed.append(ObservedModel(entry, model, _resolve(entry, model)))
        except NotFound as exc:
            missing.append((entry, exc))
    if missing:
        raise _all_missing(missing)
    return tuple(observed)


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
