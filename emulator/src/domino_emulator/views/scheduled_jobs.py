"""Scheduled jobs: ``domino.scheduledjob.api.ScheduledJobDto``."""

from __future__ import annotations

from typing import Any

from domino_emulator import records as r
from domino_emulator.seed import user_id
from domino_emulator.views import iso
from domino_emulator.world import World


def scheduled_job(s: r.ScheduledJob, world: World) -> dict[str, Any]:
    tier = world.hardware_tiers.get(s.hardware_tier_id)
    scheduler = next((c.username for c in world.credentials.values() if user_id(c.username) == s.scheduled_by_user_id),
                     "unknown")
    body: dict[str, Any] = {
        "id": s.id, "created": iso(s.created), "projectId": s.project_id, "title": s.title, "command": s.command,
        "schedule": {"cronString": s.cron, "isCustom": s.is_custom,
                     "humanReadableCronString": f"{s.cron} ({s.timezone})"},  # an emulator reading
        "timezoneId": s.timezone, "isPaused": s.is_paused, "allowConcurrentExecution": s.allow_concurrent,
        "hardwareTierIdentifier": s.hardware_tier_id, "hardwareTierName": tier.name if tier else s.hardware_tier_id,
        "environmentRevisionSpec": s.environment_revision_spec, "scheduledByUserId": s.scheduled_by_user_id,
        "scheduledByUserName": scheduler, "notifyOnCompleteEmailAddresses": list(s.notify),
        "dataConfig": {"snapshotDatasetsOnCompletion": False, "snapshotNetAppVolumesOnCompletion": False},
    }
    if s.environment_id:
        body["overrideEnvironmentId"] = s.environment_id
    if s.main_repo_git_ref:
        body["mainRepoGitRef"] = dict(s.main_repo_git_ref)
    return body
