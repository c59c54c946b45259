"""Creating, starting and stopping Model API versions, and building them in the background.

"Building" a version is what the emulator can honestly do of a Domino build: fetch the
registered MLflow model and load it. A background thread does that during the Building phase
and records the outcome on the version; the status itself is computed in ``lifecycle.py``.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from domino_mlops.emulator import lifecycle
from domino_mlops.emulator import records as r
from domino_mlops.emulator.context import Context
from domino_mlops.emulator.lifecycle import PREPARE_SHARE
from domino_mlops.emulator.predictor import ModelLoadError
from domino_mlops.emulator.validate import Fields
from domino_mlops.emulator.web import ApiError
from domino_mlops.emulator.world import new_id

logger = logging.getLogger(__name__)


def read_version(f: Fields) -> dict[str, Any]:
    """The contract's ``version`` object, checked; problems go to ``f.errors``."""
    labels = f.mapping("labels", required=False) or {}
    if any(not isinstance(v, str) for v in labels.values()):
        f.errors.append(f"{f.where}.labels must map strings to strings")
    return {
        "project_id": f.string("projectId"),
        "log_http": f.boolean("logHttpRequestResponse"),
        "monitoring": f.boolean("monitoringEnabled"),
        "source": _source(f.child("source")),
        "labels": dict(labels),
        "description": str(f.data.get("description") or ""),
        "record_invocation": bool(f.data.get("recordInvocation", True)),
        "should_deploy": bool(f.data.get("shouldDeploy", True)),
    }


def add_version(ctx: Context, api: r.ModelApi, spec: dict[str, Any], created_by: str) -> r.ModelVersion:
    """A new version of ``api`` from ``read_version``; deployed at once unless shouldDeploy is false."""
    tier = ctx.world.hardware_tiers.get(api.hardware_tier_id)
    now = ctx.now()
    version = r.ModelVersion(
        id=new_id(), model_api_id=api.id, project_id=api.project_id,
        number=1 + max((v.number for v in ctx.world.versions_of(api.id)), default=0),
        source=spec["source"], description=spec["description"], labels=spec["labels"],
        created=now, created_by=created_by, log_http_request_response=bool(spec["log_http"]),
        monitoring_enabled=bool(spec["monitoring"]), record_invocation=spec["record_invocation"],
        data_plane_id=tier.data_plane_id if tier else "", seconds=ctx.version_seconds(), build_started=now,
    )
    ctx.world.versions[version.id] = version
    start_build(ctx, version)
    if spec["should_deploy"]:
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
    version.instance_log.append(f"{_stamp(now)} deployment requested on hardware tier {api.hardware_tier_id}")


def stop(ctx: Context, api: r.ModelApi, version: r.ModelVersion) -> None:
    now = ctx.now()
    if version.stopped_at is None or (version.deploy_started or 0) > version.stopped_at:
        version.stopped_at = now
        version.instance_log.append(f"{_stamp(now)} stopped")
    if api.serving_version_id == version.id:
        api.serving_version_id = None


def start_build(ctx: Context, version: r.ModelVersion) -> None:
    version.build_log.append(f"{_stamp(version.build_started)} Preparing to build version {version.number}")
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
    time.sleep(max(0.0, token + PREPARE_SHARE * seconds - time.time()))  # the load belongs to "Building"
    lines: list[str] = []  # stamped when they happen, written to the log when the build ends
    error: str | None = None
    if source.get("type") != "Registry":
        error = "the emulator can only serve Registry sources (a registered MLflow model), not File sources"
    else:
        name, number = str(source["registeredModelName"]), str(source["registeredModelVersion"])
        lines.append(f"{_stamp(time.time())} Fetching models:/{name}/{number} from MLflow at "
                     f"{ctx.models.mlflow_uri or '(none)'}")
        try:
            model = ctx.models.load(name, number)
            flavors = ", ".join(sorted(getattr(model.metadata, "flavors", {}) or {}))
            lines.append(f"{_stamp(time.time())} Loaded the MLflow model (flavors: {flavors or 'unknown'})")
        except ModelLoadError as exc:
            error = str(exc)
    with ctx.world.lock:
        version = ctx.world.versions.get(version_id)
        if ctx.closed or version is None or version.build_started != token:
            return
        now = ctx.now()
        version.build_log.extend(lines)
        version.build_log.append(f"{_stamp(now)} ERROR {error}" if error else f"{_stamp(now)} Build complete")
        version.build_done, version.build_error = now, error
        ctx.persist()
    if error:
        logger.info("build of model API version %s failed: %s", version_id, error)


def _source(src: Fields | None) -> dict[str, Any]:
    if src is None:
        return {}
    kind = src.choice("type", ("Registry", "File"))
    if kind == "File":
        return {"type": "File", "file": src.string("file"), "function": src.string("function"),
                "excludeFiles": src.array("excludeFiles", required=False) or []}
    name = src.string("registeredModelName")
    number = src.value("registeredModelVersion")
    if number is not None and (isinstance(number, bool) or not str(number).isdigit()):
        src.errors.append(f"{src.where}.registeredModelVersion must be a version number")
        number = None
    # Domino's schema has an integer here; "3" is read as 3 and always answered as a number.
    return {"type": "Registry", "registeredModelName": name,
            "registeredModelVersion": None if number is None else int(number)}


def _stamp(when: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))
