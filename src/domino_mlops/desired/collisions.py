"""Names that become one Domino object: refused at validate, before anything is written.

Domino names are normalised (desired/naming.py: the environment in lower case, anything outside
[A-Za-z0-9_-] made '-'), so two manifest names can land on one Model API or app: ``cx.a`` and
``cx-a`` both become ``cx-a-stage``. Each would then deploy over the other on every run, under
separate leases. The check asks the very functions the planner uses, so the two cannot disagree.
"""

from __future__ import annotations

from domino_mlops.desired.environments import Environments
from domino_mlops.desired.locate import json_path
from domino_mlops.desired.manifest import Manifest
from domino_mlops.errors import ValidationIssue
from domino_mlops.desired.naming import app_name, model_api_name, tiers_in_waves


def domino_name_issues(manifest: Manifest, environments: Environments) -> list[ValidationIssue]:
    """One issue per manifest item whose Domino Model API or app (project, name) another item
    already takes; it names the first one's file:line."""
    issues: list[ValidationIssue] = []
    pairs: set[tuple[object, object]] = set()  # a pair that collides in every environment is one mistake
    taken: dict[tuple[str, str, str], tuple[str, str, int | None, tuple]] = {}  # (kind, project, name) -> first

    def claim(kind: str, project: str, name: str, what: str, path: tuple[str | int, ...], env: str) -> None:
        line = manifest.line_of(path + ("name",))
        first = taken.setdefault((kind, project, name), (what, env, line, path))
        if first[3] != path and (path, first[3]) not in pairs:
            pairs.add((path, first[3]))
            where = f"{manifest.file}:{first[2]}" if first[2] else manifest.file
            envs = f"environment {env}" if first[1] == env else f"environments {first[1]} and {env}"
            issues.append(ValidationIssue(
                manifest.file, line, json_path(path + ("name",)),
                f"{what} and {first[0]} ({where}) both become Domino {kind} {name!r} in project {project} "
                f"({envs}); rename one so each has its own {kind}"))

    for env in environments.items:
        tiers = tiers_in_waves(env)
        for entry in manifest.for_environment(env.name):
            for _, tier in tiers:
                claim("Model API", env.project_id or entry.project_id, model_api_name(entry.name, env, tier),
                      f"model {entry.name!r}", entry.path, env.name)
        for app in manifest.apps_for(env.name):
            claim("app", app.project_for(env), app_name(app.name, env), f"app {app.name!r}", app.path, env.name)
    return issues

