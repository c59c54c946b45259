"""Creating, starting and stopping Model API versions, and building them in the background.

"Building" a version is what the emulator can honestly do of a Domino build: fetch the
registered MLflow model and load it. A background thread does that during the Building phase
and records the outcome on the version; the status itself is computed in ``lifecycle.py``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from domino_emulator import lifecycle
from domino_emulator import records as r
from domino_emulator.context import Context
from domino_emulator.lifecycle import PREPARE_SHARE
from domino_emulator.predictor import ModelLoadError
from domino_emulator.web import ApiError
from domino_emulator.world import new_id

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class VersionSpec:
    """A version to create: a ``ModelApiVersionCreationRequest`` (or a /v1 publish) after checks."""

    project_id: str
    source: dict[str, Any]
    description: str = ""
    log_http: bool = True
    monitoring: bool = False
    record_invocation: bool = True
    should_deploy: bool = True
    commit_id: str = ""  # "": the project's newest commit
    environment_id: str = ""  # "": the Model API's environment


def read_version(body: dict[str, Any], where: str, problems: list[str]) -> VersionSpec:
    """A contract-checked ``ModelApiVersionCreationRequest``; what no schema says goes to ``problems``."""
    return VersionSpec(
        project_id=body["projectId"], source=read_source(body["source"], f"{where}.source", problems),
        description=body.get("description") or "", log_http=body["logHttpRequestResponse"],
        monitoring=body["monitoringEnabled"], record_invocation=body.get("recordInvocation", True),
        should_deploy=body.get("shouldDeploy", True), commit_id=body.get("commitId") or "",
        environment_id=body.get("environmentId") or "",
    )


def read_source(src: dict[str, Any], where: str, problems: list[str]) -> dict[str, Any]:
    """``ModelApiSource``: the schema requires only ``type``; each type needs its own fields."""
    if src["type"] == "File":
        for key in ("file", "function"):
            if not src.get(key):
                problems.append(f"{where}.{key} is required for a File source")
        return {"type": "File", "file": src.get("file", ""), "function": src.get("function", ""),
                "excludeFiles": list(src.get("excludeFiles") or [])}
    for key in ("registeredModelName", "registeredModelVersion"):
        if src.get(key) in (None, ""):
            problems.append(f"{where}.{key} is required for a Registry source")
    return {"type": "Registry", "registeredModelName": src.get("registeredModelName", ""),
            "registeredModelVersion": src.get("registeredModelVersion")}


def check_refs(ctx: Context, project: r.Project, spec: VersionSpec, problems: list[str]) -> None:
    """The commit and environment a version names must exist."""
    if spec.commit_id and spec.commit_id not in project.commits:
        problems.append(f"commit {spec.commit_id!r} is not in project {project.id!r}")
    if spec.environment_id and spec.environment_id not in ctx.world.environments:
        problems.append(f"environment {spec.environment_id!r} does not exist")


def add_version(ctx: Context, api: r.ModelApi, spec: VersionSpec, created_by: str) -> r.ModelVersion:
    """A new version of ``api`` from ``read_version``; deployed at once unless shouldDeploy is false."""
    tier = ctx.world.hardware_tiers.get(api.hardware_tier_id)
    now = ctx.now()
    version = r.ModelVersion(
        id=new_id(), model_api_id=api.id, project_id=api.project_id,
        number=1 + max((v.number for v in ctx.world.versions_of(api.id)), default=0),
        source=spec.source, description=spec.description, created=now, created_by=created_by,
        log_http_request_response=spec.log_http, monitoring_enabled=spec.monitoring,
        record_invocation=spec.record_invocation, data_plane_id=tier.data_plane_id if tier else "",
        seconds=ctx.version_seconds(), build_started=now,
        commit_id=spec.commit_id or ctx.world.project(api.project_id).commits[0],
        environment_id=spec.environment_id or api.environment_id,
    )
    ctx.world.versions[version.id] = version
    start_build(ctx, version)
    if spec.should_deploy:
        start(ctx, api, version)
    return version


def running_version(ctx: Context, api: r.ModelApi) -> r.ModelVersion:
    """The version a model call reaches; 503 while none is Running (as Domino's router answers).
    The caller holds the world lock."""
    version = ctx.world.versions.get(api.serving_version_id or "")
    if version is None or lifecycle.deployment_status(version, ctx.now()) != lifecycle.RUNNING:
        raise ApiError(503, f"model API {api.id} has no running version")
    return version


def start(ctx: Context, api: r.ModelApi, version: r.ModelVersion) -> None:
    """Make ``version`` the active one; it takes traffic once Running (see lifecycle.settle)."""
    now = ctx.now()
    if version.build_error is not None:  # a failed build is retried, as Domino rebuilds on start
        version.build_started, version.build_done, version.build_error = now, None, None
        version.seconds = ctx.version_seconds()
        start_build(ctx, version)
    tier = ctx.world.hardware_tiers.get(api.hardware_tier_id)
    version.data_plane_id = tier.data_plane_id if tier else version.data_plane_id
    version.deploy_started, version.stopped_at = now, None
    api.active_version_id = version.id
    log(version.instance_log, now, f"deployment requested on hardware tier {api.hardware_tier_id}")


def stop(ctx: Context, api: r.ModelApi, version: r.ModelVersion) -> None:
    now = ctx.now()
    if version.stopped_at is None or (version.deploy_started or 0) > version.stopped_at:
        version.stopped_at = now
        log(version.instance_log, now, "stopped")
    if api.serving_version_id == version.id:
        api.serving_version_id = None


def start_build(ctx: Context, version: r.ModelVersion) -> None:
    version.build_id = new_id()
    log(version.build_log, version.build_started, f"Preparing to build version {version.number} (build {version.build_id})")
    token = version.build_started  # a restarted build supersedes this one
    thread = threading.Thread(target=_build, args=(ctx, version.id, token),
                              name=f"emulator-build-{version.id}", daemon=True)
    thread.start()


def resume_builds(ctx: Context) -> None:
    """After a restart from a state file, finish the builds that were under way."""
    for version in ctx.world.versions.values():
        if version.build_done is None:
            start_build(ctx, version)


def _build(ctx: Context, version_id: str, token: float) -> None:
    with ctx.world.lock:
        version = ctx.world.versions.get(version_id)
        if version is None:
            return
        source, seconds = dict(version.source), version.seconds
        api = ctx.world.model_apis.get(version.model_api_id)
        tier = api.hardware_tier_id if api is not None else None
    ctx.sleep_until(token + PREPARE_SHARE * seconds)  # the load belongs to "Building"
    if ctx.closed:  # stopped meanwhile: a restart resumes the build (resume_builds)
        return
    lines: list[dict[str, Any]] = []  # stamped when they happen, written to the log when the build ends
    error: str | None = None
    if tier is not None and tier in ctx.faults.plan.failing_tiers:
        error = f"the data plane of hardware tier {tier} cannot run this version (injected by the emulator)"
    elif source.get("type") != "Registry":
        error = "the emulator can only serve Registry sources (a registered MLflow model), not File sources"
    else:
        name, number = str(source["registeredModelName"]), str(source["registeredModelVersion"])
        log(lines, ctx.now(), f"Fetching models:/{name}/{number} from MLflow at {ctx.models.mlflow_uri or '(none)'}")
        try:
            model = ctx.models.load(name, number)
            flavors = ", ".join(sorted(getattr(model.metadata, "flavors", {}) or {}))
            log(lines, ctx.now(), f"Loaded the MLflow model (flavors: {flavors or 'unknown'})")
        except ModelLoadError as exc:
            error = str(exc)
    with ctx.world.lock:
        version = ctx.world.versions.get(version_id)
        if ctx.closed or version is None or version.build_started != token:
            return
        now = ctx.now()
        version.build_log.extend(lines)
        log(version.build_log, now, f"ERROR {error}" if error else "Build complete")
        version.build_done, version.build_error = now, error
        ctx.persist()
    if error:
        logger.info("build of model API version %s failed: %s", version_id, error)


def log(entries: list[dict[str, Any]], when: float, line: str, *, keep: int = 1000) -> None:
    """Append a log line; logs are bounded, so a soak test cannot grow them forever."""
    entries.append({"time": when, "log": line})
    del entries[:-keep]
