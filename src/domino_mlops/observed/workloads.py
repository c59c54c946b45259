"""What Domino shows of an environment's jobs and apps: read-only, one pass per project.

Jobs: the project's jobs newest first (up to the client's scan limit), once, kept when their
title carries one of the digests asked about. Scheduled jobs: the project's list, once. Apps:
the project's app list, once.
"""

from __future__ import annotations

from collections.abc import Collection

from domino_mlops.clients.domino.client import DominoClient
from domino_mlops.clients.domino.app_types import App
from domino_mlops.clients.domino.job_types import Job, ScheduledJob


def observe_job_runs(domino: DominoClient, project_id: str, digests: Collection[str]) -> dict[str, tuple[Job, ...]]:
    """digest -> the project's jobs marked with it, newest first (every attempt)."""
    wanted = set(digests)
    found: dict[str, list[Job]] = {}
    if not wanted:
        return {}
    unsettled = set(wanted)  # digests with no succeeded run seen yet
    for job in domino.jobs.newest(project_id):
        digest = (job.marker or "").split(".")[0]
        if digest in wanted:
            found.setdefault(digest, []).append(job)
            if job.succeeded:
                unsettled.discard(digest)
        if not unsettled:
            break  # every job already ran for this commit: older pages cannot change the plan
    return {digest: tuple(jobs) for digest, jobs in found.items()}


def observe_apps(domino: DominoClient, project_id: str, names: Collection[str]) -> dict[str, App]:
    """name -> the project's app of that name (the first Domino lists, when names repeat)."""
    apps: dict[str, App] = {}
    if not names:
        return apps
    for app in domino.apps.list(project_id):
        if app.name in names and app.name not in apps:
            apps[app.name] = app
    return apps


def observe_schedules(domino: DominoClient, project_id: str, identities: Collection[str]) -> dict[str, ScheduledJob]:
    """schedule identity -> the project's scheduled job carrying it in its title's marker."""
    if not identities:
        return {}
    found: dict[str, ScheduledJob] = {}
    for job in domino.scheduled_jobs.list(project_id):
        identity = (job.marker or "").split(".")[0]
        if identity in identities and identity not in found:
            found[identity] = job
    return found
