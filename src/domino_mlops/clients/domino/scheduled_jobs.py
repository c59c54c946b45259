"""Domino scheduled jobs, through the v4 routes (``/v4/projects/{projectId}/scheduledjobs``).

Domino starts them on its own clock from a Quartz cron expression. A definition is created once,
then replaced whole (the update takes every field the create does), or deleted. The marker in its
title (domino_job_types.job_marker) finds the one domino-mlops made again, and makes a create
safe to repeat after an ambiguous failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domino_mlops.clients.domino import urls as urls
from domino_mlops.clients.domino.job_types import ScheduledJob, marked_title
from domino_mlops.clients.domino.jobs import Variables, command_with_variables
from domino_mlops.clients.domino.types import parse_list
from domino_mlops.clients.http import HttpClient
from domino_mlops.errors import ConfigError


@dataclass(frozen=True, slots=True)
class NewScheduledJob:
    """What a scheduled job is: its command and where it runs, and when (Quartz cron, time zone).

    ``hardware_tier`` is required here (the v4 create requires it; pick the project's default
    tier when the manifest names none). ``scheduled_by`` is the id of the user it runs as
    (``DominoClient.current_user()``). At most one of ``commit_id`` and ``branch``.
    """

    title: str
    command: str
    cron: str
    hardware_tier: str
    scheduled_by: str
    timezone: str = "UTC"
    environment_id: str | None = None
    branch: str | None = None
    commit_id: str | None = None
    variables: Variables = ()
    marker: str | None = None
    paused: bool = False

    def to_api(self) -> dict[str, Any]:
        """``NewScheduledJobDto`` (also the ``UpdatedScheduledJobDTO``: the same required fields)."""
        if self.commit_id and self.branch:
            raise ConfigError("a scheduled job runs from a commit or a branch, not both",
                              hint="Pass either commit_id or branch.")
        body: dict[str, Any] = {
            "title": marked_title(self.title, self.marker), "command": command_with_variables(self.command, self.variables),
            "schedule": {"cronString": self.cron, "isCustom": True}, "timezoneId": self.timezone,
            "isPaused": self.paused, "allowConcurrentExecution": False, "hardwareTierIdentifier": self.hardware_tier,
            # The environment's active revision, as a job started from the UI uses.
            "environmentRevisionSpec": "ActiveRevision", "scheduledByUserId": self.scheduled_by,
            "notifyOnCompleteEmailAddresses": [],
        }
        if self.environment_id:
            body["overrideEnvironmentId"] = self.environment_id
        if self.branch:
            body["mainRepoGitRef"] = {"type": "branches", "value": self.branch}
        elif self.commit_id:  # python-domino's app_publish names a commit this way in a ReferenceDTO
            body["mainRepoGitRef"] = {"type": "commitId", "value": self.commit_id}
        return body


class ScheduledJobs:
    """Scheduled jobs of Domino projects. Reached as ``DominoClient.scheduled_jobs``."""

    def __init__(self, http: HttpClient) -> None:
        self._http = http

    def list(self, project_id: str) -> tuple[ScheduledJob, ...]:
        reply = self._http.call("GET", urls.scheduled_jobs(project_id))
        return parse_list(reply.body, reply.endpoint, "scheduledJobs", ScheduledJob.from_api)

    def find_marked(self, project_id: str, marker: str) -> ScheduledJob | None:
        """The scheduled job of the project whose title carries ``marker``, or None."""
        return next((job for job in self.list(project_id) if job.marker == marker), None)

    def create(self, project_id: str, schedule: NewScheduledJob) -> ScheduledJob:
        """Schedule a job; with a marker, safe to repeat after an ambiguous failure."""
        body = schedule.to_api()

        def post() -> ScheduledJob:
            reply = self._http.call("POST", urls.scheduled_jobs(project_id), json=body)
            return ScheduledJob.from_api(reply.body, reply.endpoint)

        marker = schedule.marker
        if marker is None:
            return post()
        return self._http.create_idempotent(post, lambda: self.find_marked(project_id, marker),
                                            what=f"scheduled job {schedule.title!r}")

    def update(self, project_id: str, key: str, schedule: NewScheduledJob) -> ScheduledJob:
        """Replace the whole definition (a PUT: safe to repeat)."""
        reply = self._http.call("PUT", urls.scheduled_job(project_id, key), json=schedule.to_api())
        return ScheduledJob.from_api(reply.body, reply.endpoint)

    def delete(self, project_id: str, key: str) -> None:
        self._http.call("DELETE", urls.scheduled_job(project_id, key), expect="none")
