"""Apps (``apps:`` of a project in the manifest), published last, on what the models serve.

An app is (re)started only when what runs differs from the manifest (not running, another
hardware tier, compute environment, entry point or commit); a visibility change alone is one
write and no restart. Its Domino name is <manifest name>-<environment> (desired/naming.py). The
ledger records what the manifest asks of it (kind "app", version: its definition digest; from:
the last one recorded). Steps: PublishApp, SetAppVisibility (apply/app_run.py), RecordLedger.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from domino_mlops.desired.environments import Environment
from domino_mlops.desired.workloads import AppSpec
from domino_mlops.kinds.protocol import Handler, WorkloadKind, short_digest
from domino_mlops.desired.naming import app_name
from domino_mlops.plan.steps import APPS, AppInstanceRef, PublishApp, RecordLedger, SetAppVisibility, WorkloadChange

if TYPE_CHECKING:
    from domino_mlops.state.ledger import LedgerEntry
    from domino_mlops.clients.domino.app_types import App
    from domino_mlops.connections import Connections
    from domino_mlops.desired.load import Desired

Found = Mapping[tuple[str, str], "App"]  # (project, Domino app name) -> app


def app_digest(app: AppSpec, env: Environment) -> str:
    """What the manifest asks of an app in ``env`` (the ledger's "version" of an app)."""
    return short_digest({"environment": env.name, "project": app.project_for(env), "name": app.name,
                         "tier": app.tier_for(env), "environment_id": app.environment_id, "commit": app.commit,
                         "branch": app.branch, "visibility": app.visibility, "entry_point": app.entry_point})


def plan_app(app: AppSpec, env: Environment, found: App | None, *, action: str,
             last_recorded: str | None = None) -> WorkloadChange:
    """``found``: the project's Domino app for it in ``env`` (naming.app_name; None: none yet).
    ``last_recorded``: the app's last ledger version in this environment."""
    digest = app_digest(app, env)
    tier = app.tier_for(env)
    common = dict(subject="app", name=app.name, project_id=app.project_for(env), phase=APPS, line=app.line,
                  digest=digest, listed_under=app.project_id, kind=APPS_KIND.name)
    publish = dict(app=app_name(app.name, env), project_id=app.project_for(env), hardware_tier=tier,
                   environment_id=app.environment_id, commit=app.commit, branch=app.branch,
                   visibility=app.visibility, entry_point=app.entry_point, smoke_path=app.smoke_path)
    record = RecordLedger(env.name, app.name, last_recorded if last_recorded != digest else None, digest, action,
                          subject="app")
    if found is None:
        return WorkloadChange(**common, steps=(PublishApp(**publish, action="create", reason="no app of that name"),
                                               record), observed="none")
    reasons = _differences(app, tier, found)
    steps: list = []
    if reasons:
        previous = (AppInstanceRef(found.running_commit_id, found.hardware_tier_id, found.environment_id,
                                   found.version_id, found.entry_point) if found.is_running else None)
        steps.append(PublishApp(**publish, action="start", app_id=found.id, previous=previous,
                                reason="; ".join(reasons)))
    if found.visibility != app.visibility:
        steps.append(SetAppVisibility(app_name(app.name, env), found.id, found.visibility, app.visibility))
    if steps or last_recorded != digest:
        steps.append(record)
    seen = f"{found.status or 'never started'} on {found.hardware_tier_id or 'the default tier'}"
    if found.running_commit_id:
        seen += f" at commit {found.running_commit_id[:12]}"
    return WorkloadChange(**common, steps=tuple(steps), observed=seen)


def _differences(app: AppSpec, tier: str | None, found: App) -> list[str]:
    """Why the running app is not what the manifest asks (empty: leave it running)."""
    reasons = []
    if not found.is_running:
        reasons.append(f"it is {found.status or 'not started'}")
    if tier and found.hardware_tier_id != tier:
        reasons.append(f"tier {found.hardware_tier_id or '(default)'} -> {tier}")
    if app.environment_id and found.environment_id != app.environment_id:
        reasons.append(f"compute environment {found.environment_id or '(default)'} -> {app.environment_id}")
    if app.entry_point and found.api == "public" and found.entry_point != app.entry_point:
        # Only the public Apps API changes an entry point (PATCH); v4 sets it at creation only.
        reasons.append(f"entry point {found.entry_point or '(default)'} -> {app.entry_point}")
    if app.commit and found.is_running and found.running_commit_id != app.commit:
        reasons.append(f"commit {(found.running_commit_id or '?')[:12]} -> {app.commit[:12]}")
    return reasons


class Apps(WorkloadKind):
    name = "app"
    ledger_kind = "app"

    def handlers(self) -> Mapping[type, Handler]:
        from domino_mlops.apply.app_run import publish_app, set_app_visibility

        return {PublishApp: publish_app, SetAppVisibility: set_app_visibility}

    def candidates(self, desired: Desired, env: Environment) -> tuple[AppSpec, ...]:
        return desired.manifest.apps_for(env.name)

    def observe(self, specs: Sequence[AppSpec], env: Environment, connections: Connections, *, commit: str) -> Found:
        """One app list per project."""
        from domino_mlops.observed.workloads import observe_apps

        names: dict[str, set[str]] = {}
        for app in specs:
            names.setdefault(app.project_for(env), set()).add(app_name(app.name, env))
        return {(project, name): app for project, wanted in sorted(names.items())
                for name, app in observe_apps(connections.domino(project), project, wanted).items()}

    def plan(self, specs: Sequence[AppSpec], observed: Found, env: Environment, *, commit: str, action: str,
             ledger: Sequence[LedgerEntry]) -> tuple[WorkloadChange, ...]:
        last = {entry.subject: entry.to_version for entry in ledger if entry.kind == self.ledger_kind}  # last wins
        return tuple(plan_app(app, env, observed.get((app.project_for(env), app_name(app.name, env))), action=action,
                              last_recorded=last.get(app.name)) for app in specs)


APPS_KIND = Apps()
