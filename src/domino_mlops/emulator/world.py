"""Everything the emulated Domino knows, behind one lock, plus the JSON state file.

Route handlers run while holding ``World.lock`` (see ``server.py``), so they can read and change
the collections directly; lookups here raise the contract's 404 so handlers stay short.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from domino_mlops.emulator import records as r
from domino_mlops.emulator.web import not_found
from domino_mlops.errors import ConfigError

# 2: the published shapes (labels, structured logs, access tokens with metadata, access rules)
STATE_FORMAT = "domino-mlops-emulator-state/2"

_COLLECTIONS: dict[str, type] = {
    "projects": r.Project,
    "credentials": r.Credential,
    "data_planes": r.DataPlane,
    "hardware_tiers": r.HardwareTier,
    "environments": r.Environment,
    "model_apis": r.ModelApi,
    "versions": r.ModelVersion,
    "jobs": r.Job,
    "scheduled_jobs": r.ScheduledJob,
    "apps": r.App,
    "exports": r.Export,
    "access_rules": r.AccessRule,
    "service_accounts": r.ServiceAccount,
    "monitored_models": r.MonitoredModel,
    "metric_values": r.MetricValue,
    "metric_alerts": r.MetricAlert,
}


def new_id() -> str:
    """A 24-hex id, the shape of Domino's (MongoDB ObjectId) ids."""
    return secrets.token_hex(12)


def derived_id(*parts: str) -> str:
    """A stable 24-hex id for something the emulator does not store (a stage, a revision, a user)."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:24]


class World:
    def __init__(self, *, domino_version: str, default_project_id: str, failing_job_pattern: str,
                 failing_app_pattern: str = "", **collections: Iterable[Any]) -> None:
        self.lock = threading.RLock()
        self.domino_version = domino_version
        self.default_project_id = default_project_id
        self.failing_job_pattern = failing_job_pattern
        self.failing_app_pattern = failing_app_pattern
        self.projects: dict[str, r.Project] = {}
        self.credentials: dict[str, r.Credential] = {}  # by secret
        self.data_planes: dict[str, r.DataPlane] = {}
        self.hardware_tiers: dict[str, r.HardwareTier] = {}
        self.environments: dict[str, r.Environment] = {}
        self.model_apis: dict[str, r.ModelApi] = {}
        self.versions: dict[str, r.ModelVersion] = {}
        self.jobs: dict[str, r.Job] = {}
        self.scheduled_jobs: dict[str, r.ScheduledJob] = {}
        self.apps: dict[str, r.App] = {}
        self.exports: dict[str, r.Export] = {}
        self.access_rules: dict[str, r.AccessRule] = {}
        self.service_accounts: dict[str, r.ServiceAccount] = {}  # by idpId
        self.monitored_models: dict[str, r.MonitoredModel] = {}  # by modelMonitoringId
        self.metric_values: dict[str, r.MetricValue] = {}
        self.metric_alerts: dict[str, r.MetricAlert] = {}
        for name, items in collections.items():
            if name not in _COLLECTIONS:
                raise TypeError(f"unknown collection {name!r}")
            table = getattr(self, name)
            for item in items:
                table[item.secret if name == "credentials" else item.idp_id if name == "service_accounts"
                      else item.id] = item

    # --- lookups that answer 404 -----------------------------------------------------------

    def project(self, project_id: str) -> r.Project:
        return _get(self.projects, project_id, "project")

    def model_api(self, model_api_id: str) -> r.ModelApi:
        return _get(self.model_apis, model_api_id, "model API")

    def version(self, model_api_id: str, version_id: str) -> r.ModelVersion:
        found = self.versions.get(version_id)
        if found is None or found.model_api_id != model_api_id:
            raise not_found("model API version", version_id)
        return found

    def job(self, job_id: str) -> r.Job:
        return _get(self.jobs, job_id, "job")

    def service_account(self, idp_id: str) -> r.ServiceAccount:
        return _get(self.service_accounts, idp_id, "service account")

    def app(self, app_id: str) -> r.App:
        return _get(self.apps, app_id, "app")

    def scheduled_job(self, project_id: str, key: str) -> r.ScheduledJob:
        found = self.scheduled_jobs.get(key)
        if found is None or found.project_id != project_id:
            raise not_found("scheduled job", key)
        return found

    def monitored_model(self, model_monitoring_id: str) -> r.MonitoredModel:
        return _get(self.monitored_models, model_monitoring_id, "monitored model")

    def export(self, export_id: str) -> r.Export:
        return _get(self.exports, export_id, "export")

    def find_project(self, owner: str, name: str) -> r.Project | None:
        return next((p for p in self.projects.values() if p.owner == owner and p.name == name), None)

    def versions_of(self, model_api_id: str) -> list[r.ModelVersion]:
        return sorted((v for v in self.versions.values() if v.model_api_id == model_api_id),
                      key=lambda v: v.number)

    def tiers_for(self, project_id: str) -> list[r.HardwareTier]:
        return [t for t in self.hardware_tiers.values() if t.projects is None or project_id in t.projects]

    def default_tier(self, project_id: str) -> r.HardwareTier | None:
        tiers = self.tiers_for(project_id)
        return next((t for t in tiers if t.is_default), tiers[0] if tiers else None)

    # --- state file ------------------------------------------------------------------------

    def to_state(self) -> dict[str, Any]:
        with self.lock:
            return {
                "format": STATE_FORMAT,
                "domino_version": self.domino_version,
                "default_project_id": self.default_project_id,
                "failing_job_pattern": self.failing_job_pattern,
                "failing_app_pattern": self.failing_app_pattern,
                **{name: [r.to_dict(x) for x in getattr(self, name).values()] for name in _COLLECTIONS},
            }

    @classmethod
    def from_state(cls, data: dict[str, Any], *, source: str) -> World:
        if data.get("format") != STATE_FORMAT:
            raise ConfigError(f"{source} is not an emulator state file (format {data.get('format')!r})",
                              hint="Point --state-file at a file the emulator wrote, or at a new path.")
        try:
            return cls(
                domino_version=data["domino_version"],
                default_project_id=data["default_project_id"],
                failing_job_pattern=data["failing_job_pattern"],
                failing_app_pattern=data.get("failing_app_pattern", ""),
                **{name: [r.from_dict(kind, item) for item in data.get(name, [])]
                   for name, kind in _COLLECTIONS.items()},
            )
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"{source} is damaged: {exc}",
                              hint="Delete the state file to start from the seed again.") from exc


def save_state(world: World, path: Path) -> None:
    """Write atomically (temp file + rename) so a crash never leaves half a state file."""
    data = json.dumps(world.to_state(), indent=1, sort_keys=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_state(path: Path) -> World | None:
    """The world saved at ``path``, or None when there is no such file yet."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the emulator state file {path}: {exc}",
                          hint="Delete it to start from the seed again.") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path} is not an emulator state file", hint="Delete it or choose another path.")
    return World.from_state(data, source=str(path))


def _get(table: dict[str, Any], key: str, what: str) -> Any:
    found = table.get(key)
    if found is None:
        raise not_found(what, key)
    return found
