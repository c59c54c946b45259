"""The world an emulator starts from: the default one, or a seed file (YAML or JSON).

A seed file looks like this (every section is optional; missing ones come from the default)::

    domino_version: "6.1.0"                     # GET /version; 5.7.x refuses Model APIs on remote data planes
    default_project: demo-user/demo-project     # what `emu.project_id` / the banner name
    failing_job_pattern: "fail"                 # regex; a job whose command matches goes Failed
    failing_app_pattern: "broken"               # regex; an app whose name matches goes Failed at start
    data_planes:
      - {id: "000000000000000000000000", name: local}
    projects:
      - {id: "65f000000000000000000001", owner: demo-user, name: demo-project}
    credentials:                                # api_key -> X-Domino-Api-Key, token -> Bearer
      - {api_key: LOCAL-TEST-KEY, user: demo-user, projects: [demo-user/demo-project]}
      - {token: LOCAL-TEST-TOKEN, user: demo-user, projects: ["65f000000000000000000001"]}
      - {api_key: LOCAL-ADMIN-KEY, user: admin, admin: true}
      - {api_key: LOCAL-READER-KEY, user: reader, projects: [demo-user/demo-project], read_only: true}  # 403 on writes
    hardware_tiers:                             # data_plane: a data plane id or name
      - {id: small-k8s, name: Small, data_plane: local, default: true, cents_per_minute: 1.5}
    environments:
      - {id: "65f0000000000000000000e1", name: MLflow serving, visibility: Global}
    jobs:                                       # finished before the emulator started
      - {project: demo-user/demo-project, command: "python train.py", status: Succeeded}
    apps:                                       # visibility: GRANT_BASED (default), PUBLIC, ...
      - {project: demo-user/demo-project, name: dashboard, status: Running, visibility: PUBLIC}
    model_api_access:                           # what an admin sets in Domino's UI, per Model API
      - project: demo-user/demo-project
        model_api: churn-stage                  # a Model API name (or a pattern: "*", "*-stage")
        public: false                           # true: callers need no token (Domino's default: false)
        tokens:                                 # access tokens, used as HTTP Basic user and password
          - {name: ci, token: LOCAL-TEST-MODEL-TOKEN-churn-stage-not-a-secret}

Projects are named by id or ``owner/name`` wherever a seed refers to one. Project and environment
ids are 24 hex digits, as Domino's are (its v4 routes refuse anything else). A
``model_api_access`` rule applies to the Model API with that name in that project when it is
created (also later, by a pipeline) and when one is renamed to it; its tokens are added once. A
name with ``*`` or ``?`` is a pattern: ``{project: ..., model_api: "*", public: true}`` is an
organisation whose admins make every Model API of the project public (unrestricted). A rule for
the exact name wins over a pattern.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from domino_emulator import access
from domino_emulator import records as r
from domino_emulator.world import World, new_id
from domino_mlops.errors import ConfigError

DOMINO_VERSION = "6.1.0"
DEMO_OWNER, DEMO_PROJECT, DEMO_PROJECT_ID = "demo-user", "demo-project", "65f0c0ffee00000000000001"
OTHER_OWNER, OTHER_PROJECT, OTHER_PROJECT_ID = "other-user", "other-project", "65f0c0ffee00000000000002"
# Obviously fake on purpose: they open nothing but a local emulator, and say so.
DEMO_API_KEY = "LOCAL-TEST-API-KEY-demo-user-not-a-secret"
DEMO_TOKEN = "LOCAL-TEST-TOKEN-demo-user-not-a-secret"
OTHER_API_KEY = "LOCAL-TEST-API-KEY-other-user-not-a-secret"
ADMIN_API_KEY = "LOCAL-TEST-API-KEY-admin-not-a-secret"
READER_API_KEY = "LOCAL-TEST-API-KEY-reader-not-a-secret"  # a Results Consumer of both projects
LOCAL_DATA_PLANE_ID = "000000000000000000000000"  # Domino's own id for the local data plane
PROD_WEST_DATA_PLANE_ID = "65f0c0ffee000000000000d1"


def default_seed() -> dict[str, Any]:
    demo, other = f"{DEMO_OWNER}/{DEMO_PROJECT}", f"{OTHER_OWNER}/{OTHER_PROJECT}"
    return {
        "domino_version": DOMINO_VERSION,
        "default_project": demo,
        "failing_job_pattern": "fail",
        "failing_app_pattern": "broken",
        "data_planes": [
            {"id": LOCAL_DATA_PLANE_ID, "name": "local"},
            {"id": PROD_WEST_DATA_PLANE_ID, "name": "prod-west"},
        ],
        "projects": [
            {"id": DEMO_PROJECT_ID, "owner": DEMO_OWNER, "name": DEMO_PROJECT},
            {"id": OTHER_PROJECT_ID, "owner": OTHER_OWNER, "name": OTHER_PROJECT},
        ],
        "credentials": [
            {"api_key": DEMO_API_KEY, "user": DEMO_OWNER, "projects": [demo]},
            {"token": DEMO_TOKEN, "user": DEMO_OWNER, "projects": [demo]},
            {"api_key": OTHER_API_KEY, "user": OTHER_OWNER, "projects": [other]},
            {"api_key": ADMIN_API_KEY, "user": "admin", "admin": True},
            # What a plan job holds: a collaborator with a read-only role, so plans read, never write.
            {"api_key": READER_API_KEY, "user": "reader", "projects": [demo, other], "read_only": True},
        ],
        "hardware_tiers": [
            {"id": "small-k8s", "name": "Small", "data_plane": "local", "default": True,
             "cents_per_minute": 1.0, "cores": 1, "memory_gib": 4},
            {"id": "medium-k8s", "name": "Medium", "data_plane": "local",
             "cents_per_minute": 4.0, "cores": 4, "memory_gib": 16},
            {"id": "prod-small", "name": "Prod Small", "data_plane": "prod-west",
             "cents_per_minute": 2.0, "cores": 2, "memory_gib": 8},
        ],
        "environments": [
            {"id": "65f0c0ffee000000000000e1", "name": "Domino Standard Environment", "visibility": "Global"},
            {"id": "65f0c0ffee000000000000e2", "name": "MLflow Model Serving", "visibility": "Global"},
        ],
        "jobs": [],
        "apps": [],
        "model_api_access": [],
    }


def load_seed_file(path: Path) -> dict[str, Any]:
    """Read a YAML or JSON seed file (JSON is YAML, so one parser reads both)."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read the emulator seed file {path}: {exc}",
                          hint="Check the path and that the file is valid YAML or JSON.") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the seed must be a mapping at the top level",
                          hint="See the example in emulator/src/domino_emulator/seed.py.")
    return data


def build_world(seed: Mapping[str, Any] | None, *, source: str = "seed",
                run_seconds: float = 0.0, now: float | None = None) -> World:
    """A world from a seed mapping; sections the seed leaves out come from the default world."""
    data = {**default_seed(), **(seed or {})}
    try:
        return _Builder(data, source, run_seconds, time.time() if now is None else now).world()
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: invalid emulator seed: {exc}",
                          hint="See the example in emulator/src/domino_emulator/seed.py.") from exc


def user_id(username: str) -> str:
    """A stable 24-hex user id derived from the name, so ids survive restarts without storage."""
    return hashlib.sha256(username.encode()).hexdigest()[:24]


class _Builder:
    def __init__(self, data: dict[str, Any], source: str, run_seconds: float, now: float) -> None:
        self.data, self.source, self.run_seconds = data, source, run_seconds
        self.started = now
        self.projects = [
            r.Project(id=_domino_id(p["id"], "project"), name=str(p["name"]), owner=str(p["owner"]),
                      owner_id=user_id(str(p["owner"])), description=str(p.get("description", "")),
                      commits=[hashlib.sha1(f"{p['id']}/initial".encode()).hexdigest()], created=self.started)
            for p in data["projects"]
        ]
        if not self.projects:
            raise ValueError("a seed needs at least one project")

    def project_id(self, ref: str) -> str:
        for p in self.projects:
            if ref in (p.id, f"{p.owner}/{p.name}"):
                return p.id
        raise ValueError(f"unknown project {ref!r} (name it by id or owner/name)")

    def world(self) -> World:
        data = self.data
        planes = [r.DataPlane(id=str(d["id"]), name=str(d["name"])) for d in data["data_planes"]]
        default_ref = data.get("default_project") or self.projects[0].id
        world = World(
            domino_version=str(data["domino_version"]),
            default_project_id=self.project_id(default_ref),
            failing_job_pattern=str(data["failing_job_pattern"]),
            failing_app_pattern=str(data.get("failing_app_pattern", "")),
            projects=self.projects,
            data_planes=planes,
            credentials=[self.credential(c) for c in data["credentials"]],
            hardware_tiers=[self.tier(t, planes) for t in data["hardware_tiers"]],
            environments=[r.Environment(id=_domino_id(e["id"], "environment"), name=str(e["name"]),
                                        visibility=_visibility(e.get("visibility", "Global")))
                          for e in data["environments"]],
            access_rules=[self.access_rule(a) for a in data.get("model_api_access") or []],
        )
        for item in data.get("jobs") or []:
            self.add_job(world, item)
        for item in data.get("apps") or []:
            self.add_app(world, item)
        return world

    def access_rule(self, item: Mapping[str, Any]) -> r.AccessRule:
        project_id, name = self.project_id(str(item["project"])), str(item["model_api"])
        tokens = [{"name": str(t.get("name", "token")), "token": str(t["token"])} for t in item.get("tokens") or []]
        if any(not t["token"].strip() for t in tokens):
            raise ValueError(f"model_api_access {item['project']}/{name}: a token must not be empty")
        return r.AccessRule(id=access.rule_id(project_id, name), project_id=project_id, model_api=name,
                            public=bool(item.get("public", False)), tokens=tokens)

    def credential(self, item: Mapping[str, Any]) -> r.Credential:
        kind = "api_key" if "api_key" in item else "token"
        return r.Credential(
            secret=str(item[kind]), kind=kind, username=str(item["user"]),
            projects=[self.project_id(str(p)) for p in item.get("projects", [])],
            admin=bool(item.get("admin", False)), read_only=bool(item.get("read_only", False)),
        )

    def tier(self, item: Mapping[str, Any], planes: list[r.DataPlane]) -> r.HardwareTier:
        ref = str(item["data_plane"])
        plane = next((d for d in planes if ref in (d.id, d.name)), None)
        if plane is None:
            raise ValueError(f"hardware tier {item['id']!r}: unknown data plane {ref!r}")
        projects = item.get("projects")
        return r.HardwareTier(
            id=str(item["id"]), name=str(item.get("name", item["id"])), data_plane_id=plane.id,
            is_default=bool(item.get("default", False)),
            cents_per_minute=float(item.get("cents_per_minute", 0.0)),
            cores=float(item.get("cores", 1)), memory_gib=float(item.get("memory_gib", 2)),
            projects=None if projects is None else [self.project_id(str(p)) for p in projects],
            created=self.started,
        )

    def add_job(self, world: World, item: Mapping[str, Any]) -> None:
        project_id = self.project_id(str(item["project"]))
        status = str(item.get("status", "Succeeded"))
        if status not in ("Succeeded", "Failed"):
            raise ValueError(f"a seeded job is finished: status Succeeded or Failed, not {status!r}")
        number = 1 + sum(1 for j in world.jobs.values() if j.project_id == project_id)
        tier = world.default_tier(project_id)
        job = r.Job(
            id=new_id(), number=number, project_id=project_id, title=str(item.get("title", "")),
            command=str(item["command"]), hardware_tier_id=tier.id if tier else "",
            environment_id=next(iter(world.environments), ""), commit_id=world.project(project_id).commits[0],
            started_by=world.project(project_id).owner, submitted=self.started - 3600.0,
            seconds=max(self.run_seconds, 1.0), fails=status == "Failed",
        )
        world.jobs[job.id] = job

    def add_app(self, world: World, item: Mapping[str, Any]) -> None:
        status = str(item.get("status", "Stopped"))
        if status not in ("Running", "Stopped"):
            raise ValueError(f"a seeded app is Running or Stopped, not {status!r}")
        visibility = str(item.get("visibility", "GRANT_BASED"))
        if visibility not in ("PUBLIC", "AUTHENTICATED", "GRANT_BASED", "GRANT_BASED_STRICT"):
            raise ValueError(f"app visibility {visibility!r} is not PUBLIC, AUTHENTICATED, GRANT_BASED or "
                             "GRANT_BASED_STRICT")
        long_ago = self.started - 3600.0
        project = world.project(self.project_id(str(item["project"])))
        tier = world.default_tier(project.id)
        running = status == "Running"
        app = r.App(id=new_id(), project_id=project.id, name=str(item.get("name", "")),
                    created=long_ago, seconds=max(self.run_seconds, 1.0),
                    hardware_tier_id=str(item.get("hardware_tier", tier.id if tier else "")) or None,
                    permissions={"visibility": visibility, "accessRequestStatuses": {}, "pendingInvitations": [],
                                 "discoverable": True, "appAccessStatus": "ALLOWED"},
                    started=long_ago if running else None, instance_id=new_id() if running else None,
                    commit_id=project.commits[0] if running else None, started_by=project.owner if running else "")
        world.apps[app.id] = app


def _domino_id(value: Any, what: str) -> str:
    text = str(value)
    if not re.fullmatch(r"[0-9a-f]{24}", text):
        raise ValueError(f"{what} id {text!r} is not 24 hex digits, as Domino's ids are")
    return text


def _visibility(value: Any) -> str:
    text = str(value)
    if text not in ("Global", "Private", "Organization"):  # the v4 ProjectEnvironmentDTO's enum
        raise ValueError(f"environment visibility {text!r} is not Global, Private or Organization")
    return text
