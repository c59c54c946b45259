"""The default branch's manifest and environments file, read from GitHub (contents API).

A run that is not on the default branch (a pull request, a dispatch from a feature branch) reads
its files from that branch, which anyone with push access can edit: set `protected: false` on
PROD, give STAGE the production alias, drop PROD's models. What an environment may reach, and
which environments are protected, is therefore also read from the default branch, where changes
went through review; the run's own files can only add to it.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from domino_mlops.clients.github import GitHubClient
from domino_mlops.desired.environments import Environments, default_environments, load_environments
from domino_mlops.desired.load import Desired
from domino_mlops.desired.manifest import Manifest, load_manifest
from domino_mlops.desired.paths import DEFAULT_ENVIRONMENTS
from domino_mlops.errors import ValidationFailed


@dataclass(frozen=True, slots=True)
class DefaultBranchFiles:
    branch: str
    manifest: Manifest | None  # None: the default branch has no manifest yet
    environments: Environments


def repository_path(file: str, workspace: str) -> str:
    """``file`` as a path inside the repository (the run's working copy is ``workspace``)."""
    return Path(os.path.relpath(Path(file).resolve(), Path(workspace or ".").resolve())).as_posix()


def read_default_branch(github: GitHubClient, desired: Desired, workspace: str, branch: str) -> DefaultBranchFiles:
    """The manifest and environments file at ``branch``, from the paths the run reads them at."""
    environments_file = desired.environments.file
    if environments_file.startswith("("):  # built-in defaults: the default branch may have a file
        environments_file = DEFAULT_ENVIRONMENTS
    environments_text = github.file_text(repository_path(environments_file, workspace), branch)
    manifest_text = github.file_text(repository_path(desired.manifest.file, workspace), branch)
    with tempfile.TemporaryDirectory(prefix="dmlops-default-branch-") as folder:
        environments = default_environments()
        if environments_text is not None:
            environments = _load(load_environments, folder, "environments.yaml", environments_text, branch)
        manifest = None
        if manifest_text is not None:
            manifest = _load(load_manifest, folder, "model_version.json", manifest_text, branch)
    return DefaultBranchFiles(branch, manifest, environments)


def _load(loader, folder: str, name: str, text: str, branch: str):  # type: ignore[no-untyped-def]
    path = Path(folder) / name
    path.write_text(text, encoding="utf-8")
    try:
        return loader(path)
    except ValidationFailed as exc:
        exc.message = f"the {branch!r} branch's {name} (read to check what this run may reach): {exc.message}"
        raise
