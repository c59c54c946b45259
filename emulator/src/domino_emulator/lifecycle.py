"""Timed status progressions, computed from timestamps: no thread ticks a clock.

A Model API version goes ``Preparing to build`` (first 20 % of its time) -> ``Building`` (until
40 % more have passed *and* the MLflow model has loaded) -> ``Starting`` (40 %) -> ``Running``;
``Failed`` when the model could not be loaded; ``Ready to run`` when built but never started.
Jobs go Queued -> Running -> Succeeded | Failed; apps Pending -> Running | Failed; exports
pending -> building -> complete | failed.
"""

from __future__ import annotations

from domino_emulator import records as r
from domino_emulator.world import World

PREPARING, BUILDING, STARTING, RUNNING = "Preparing to build", "Building", "Starting", "Running"
STOPPED, FAILED, READY = "Stopped", "Failed", "Ready to run"
SETTLED = frozenset({RUNNING, STOPPED, FAILED, READY})  # isPending is false for these

PREPARE_SHARE, BUILD_SHARE, START_SHARE = 0.2, 0.4, 0.4  # shares of a version's seconds


def deployment_status(v: r.ModelVersion, now: float) -> str:
    if v.stopped_at is not None and (v.deploy_started is None or v.stopped_at >= v.deploy_started):
        return STOPPED
    if now < v.build_started + PREPARE_SHARE * v.seconds:
        return PREPARING
    built_at = _built_at(v)
    if built_at is None or now < built_at:
        return BUILDING
    if v.build_error is not None:
        return FAILED
    if v.deploy_started is None:
        return READY
    return RUNNING if now >= running_at(v) else STARTING  # type: ignore[operator]


def is_pending(status: str) -> bool:
    return status not in SETTLED


def running_at(v: r.ModelVersion) -> float | None:
    """When the version reaches (or reached) Running, once that is known."""
    built_at = _built_at(v)
    if built_at is None or v.build_error is not None or v.deploy_started is None:
        return None
    return max(built_at, v.deploy_started) + START_SHARE * v.seconds


def _built_at(v: r.ModelVersion) -> float | None:
    if v.build_done is None:  # the model load is still under way
        return None
    return max(v.build_done, v.build_started + (PREPARE_SHARE + BUILD_SHARE) * v.seconds)


def settle(world: World, now: float) -> None:
    """Switch each Model API's traffic to its active version once that version is Running.

    Until then the previous version keeps serving: that is how Domino avoids downtime.
    """
    for api in world.model_apis.values():
        if not api.active_version_id or api.active_version_id == api.serving_version_id:
            continue
        active = world.versions.get(api.active_version_id)
        if active is None or deployment_status(active, now) != RUNNING:
            continue
        previous = world.versions.get(api.serving_version_id or "")
        if previous is not None and previous.stopped_at is None:
            previous.stopped_at = running_at(active) or now
        api.serving_version_id = active.id


def job_status(job: r.Job, now: float) -> str:
    done_at = job.submitted + job.seconds
    if job.stopped_at is not None and job.stopped_at < done_at:
        return "Stopped"
    if now < job_started_at(job):
        return "Queued"
    if now < done_at:
        return "Running"
    return "Failed" if job.fails else "Succeeded"


def job_started_at(job: r.Job) -> float:
    return job.submitted + 0.25 * job.seconds


def app_status(app: r.App, now: float) -> str:
    """Pending while the instance starts, then Running, or Failed when it cannot start."""
    if app.started is None or (app.stopped_at is not None and app.stopped_at >= app.started):
        return "Stopped"
    if now < app.started + app.seconds:
        return "Pending"
    return "Failed" if app.fails else "Running"


def export_status(export: r.Export, now: float, *, built: bool | None) -> str:
    """``built``: the version's image built (True), failed (False), or is still building (None)."""
    if now < export.created + 0.5 * export.seconds:
        return "pending"
    if now < export.created + export.seconds or built is None:
        return "building"
    return "complete" if built and not export.fails else "failed"
