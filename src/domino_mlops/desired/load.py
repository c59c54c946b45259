"""Read both desired-state files together, so one run reports every error in either file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from domino_mlops.desired.environments import Environments, default_environments, read_environments
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


def load_desired(manifest_path: str | Path, environments_path: str | Path) -> Desired:
    """Both files, checked alone and against each other; ValidationFailed lists every issue."""
    manifest, issues = read_manifest(manifest_path)
    environments, env_issues = read_environments(environments_path)
    issues += env_issues
    if manifest is not None and environments is not None:
        issues += _cross_issues(manifest, environments)
    if issues or manifest is None or environments is None:
        raise ValidationFailed(issues)
    return Desired(manifest, environments)


def _cross_issues(manifest: Manifest, environments: Environments) -> list[ValidationIssue]:
    issues = []
    known = environments.names
    for entry in manifest.entries:
        for name in entry.environments or ():
            if name not in known:
                issues.append(ValidationIssue(
                    manifest.file, entry.line, json_path((entry.project_id, entry.index, "environments")),
                    f"unknown environment {name!r}; {environments.file} defines {', '.join(known)}"))
    return issues
