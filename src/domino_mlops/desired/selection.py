"""Which manifest entries one run is about: all of an environment's, one project's (a matrix
job), or one model's, optionally at another version (a workflow_dispatch). Pure: the models' kind
(kinds/models.py) and the facade's verbs both ask it."""

from __future__ import annotations

from domino_mlops.desired.environments import Environment
from domino_mlops.desired.load import Desired
from domino_mlops.desired.manifest import ManifestEntry, VersionRef
from domino_mlops.errors import ConfigError, NotFound


def select_entries(desired: Desired, env: Environment, *, project: str | None = None, model: str | None = None,
                   version: str | None = None) -> tuple[ManifestEntry, ...]:
    """The manifest entries one run is about: all of an environment's, one project's (a matrix
    job), or one model's, optionally at another version (a workflow_dispatch)."""
    entries = tuple(e for e in desired.manifest.for_environment(env.name) if project in (None, e.project_id))
    known = sorted(desired.manifest.project_ids)
    if project is not None and model is None and project not in known:
        raise NotFound(f"project {project!r} is not in {desired.manifest.file}",
                       hint=f"Its projects are: {', '.join(known) or '(none)'}. Check --project for a typo.")
    if model is None:
        if version is not None:
            raise ConfigError("--version needs --model", hint="Name the model whose version you pass.")
        return entries
    chosen = [e for e in entries if e.name == model]
    listed_elsewhere = any(e.name == model for e in desired.manifest.for_environment(env.name))
    if not chosen and listed_elsewhere:
        return ()  # a matrix job of another project: the model is not this project's to deploy
    if not chosen and project is None:
        raise NotFound(f"model {model!r} is not in {desired.manifest.file} for {env.name}",
                       hint="Add it to the manifest, or pass --project <id> to deploy it anyway.")
    base = chosen[0] if chosen else ManifestEntry(project or "", model, VersionRef(number=1))
    if version is None:
        return (base,)
    if not (version.startswith("@") or version.isdigit()):
        raise ConfigError(f"--version {version!r} is not a version number or an @alias",
                          hint="Pass a number such as 3, or an alias such as @candidate.")
    return (ManifestEntry(base.project_id, base.name, VersionRef.parse(version), base.index, base.line,
                          base.environments, base.replicas, base.smoke_test),)
