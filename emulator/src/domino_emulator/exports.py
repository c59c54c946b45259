"""Image exports of a Model API version: their status and log, computed from timestamps.

An image exists only once the version's build succeeded, so an export waits for the build and
fails with it. Both the v4 export routes and the public ``exportLogs`` route read from here.
"""

from __future__ import annotations

from typing import Any

from domino_emulator import lifecycle
from domino_emulator import records as r
from domino_emulator.world import World


def built(world: World, export: r.Export) -> bool | None:
    """The version's image built (True), failed or is gone (False), or is still building (None)."""
    version = world.versions.get(export.version_id)
    if version is None:
        return False
    return None if version.build_done is None else version.build_error is None


def status(world: World, export: r.Export, now: float) -> str:
    return lifecycle.export_status(export, now, built=built(world, export))


def error_message(world: World, export: r.Export) -> str:
    version = world.versions.get(export.version_id)
    if version is None:
        return "the model version no longer exists"
    return f"the model version's image did not build: {version.build_error or 'unknown error'}"


def log_entries(world: World, export: r.Export, now: float) -> list[dict[str, Any]]:
    """``{"time", "log"}`` lines of one export so far."""
    state = status(world, export, now)
    target = f"{export.registry_url.split('://', 1)[-1].rstrip('/')}/{export.repository}:{export.tag}"
    lines = [{"time": export.created, "log": f"Export of model version {export.version_id} to {target} requested"}]
    if state == "pending":
        return lines
    lines.append({"time": export.created + 0.5 * export.seconds, "log": "Building the model image"})
    if state == "complete":
        lines.append({"time": export.created + export.seconds, "log": f"Pushed {target}"})
    elif state == "failed":
        lines.append({"time": min(now, export.created + export.seconds), "log": f"ERROR {error_message(world, export)}"})
    return lines


def of_version(world: World, version_id: str) -> list[r.Export]:
    return sorted((e for e in world.exports.values() if e.version_id == version_id), key=lambda e: e.created)
