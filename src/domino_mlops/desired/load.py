"""Read both desired-state files together, so one run reports every error in either file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from domino_mlops.desired.collisions import domino_name_issues
from domino_mlops.desired.environments import Environments, default_environments, load_environments, read_environments
from domino_mlops.desired.locate import json_path
from domino_mlops.desired.manifest import Manifest, load_manifest, read_manifest
from domino_mlops.desired.paths import DEFAULT_ENVIRONMENTS, DEFAULT_MANIFEST
from domino_mlops.errors import ValidationFailed, ValidationIssue


@dataclass(frozen=True, slots=True)
class Desired:
    manifest: Manifest
    environments: Environments


def read_desired(manifest_path: str | Path = DEFAULT_MANIFEST, environments_path: str | Path | None = None) -> Desired:
    """Both files; without an environments file given and without the default one,
    DEV -> STAGE -> PROD."""
    if environments_path is None and not Path(DEFAULT_ENVIRONMENTS).exists():
        return Desired(load_manifest(manifest_path), default_environments())
    return load_desired(manifest_path, environments_path or DEFAULT_ENVIRONMENTS)


def read_environments_file(environments_path: str | Path | None = None) -> Environments:
    """The environments file alone, with read_desired's rule: none given and no default file,
    DEV -> STAGE -> PROD."""
    if environments_path is None and not Path(DEFAULT_ENVIRONMENTS).exists():
        return default_environments()
    return load_environments(environments_path or DEFAULT_ENVIRONMENTS)


def load_desired(manifest_path: str | Path, environments_path: str | Path) -> Desired:
    """Both files, checked alone and against each other; ValidationFailed lists every issue."""
    manifest, issues = read_manifest(manifest_path)
    environments, env_issues = read_environments(environments_path)
    issues += env_issues
    if manifest is not None and environments is not None:
        issues += _cross_issues(manifest, environments) + domino_name_issues(manifest, environments)
    if issues or manifest is None or environments is None:
        raise ValidationFailed(issues)
    return Desired(manifest, environments)


def _cross_issues(manifest: Manifest, environments: Environments) -> list[ValidationIssue]:
    """Every environment a model, job or app names exists; a per-environment hardware tier names
    one the job or app runs in (else it is a typo, or a tier that would never be used)."""
    issues = []
    known = environments.names

    def issue(path: tuple[str | int, ...], message: str) -> None:
        issues.append(ValidationIssue(manifest.file, manifest.line_of(path), json_path(path), message))

    for item in (*manifest.entries, *manifest.jobs, *manifest.apps):
        for name in item.environments or ():
            if name not in known:
                issue(item.path + ("environments",),
                      f"unknown environment {name!r}; {environments.file} defines {', '.join(known)}")
    for spec in (*manifest.jobs, *manifest.apps):
        for name, _ in spec.hardware_tier.per_environment:
            if name not in known:
                issue(spec.path + ("hardware_tier", name), f"hardware_tier names unknown environment {name!r}; "
                      f"{environments.file} defines {', '.join(known)}")
            elif not spec.applies_to(name):
                issue(spec.path + ("hardware_tier", name), f"hardware_tier names {name!r}, but {spec.name!r} runs "
                      f"only in {', '.join(spec.environments or ())}; remove that tier or add {name!r} to environments")
    return issues
