"""Domino jobs: start, get and logs through the public API, stop through the v4 route.

Starting a job is a POST with no way to look it up afterwards, so it is never retried: an
ambiguous failure is raised, and whoever retries should first check the project's jobs.
"""

from __future__ import annotations

from domino_mlops.clients import domino_urls as urls
from domino_mlops.clients.domino_types import Job, JobLogs
from domino_mlops.clients.http import HttpClient
from domino_mlops.clients.json_fields import without_nulls


class Jobs:
    """Jobs of Domino projects. Reached as ``DominoClient.jobs``."""

    def __init__(self, http: HttpClient) -> None:
        self._http = http

    def start(self, project_id: str, command: str, *, title: str | None = None, commit_id: str | None = None,
              hardware_tier_id: str | None = None, environment_id: str | None = None) -> Job:
        """Start ``command`` in the project; poll `get` until ``is_completed``."""
        body = without_nulls({"projectId": project_id, "runCommand": command, "title": title,
                               "commitId": commit_id, "hardwareTierId": hardware_tier_id,
                               "environmentId": environment_id})
        reply = self._http.call("POST", urls.jobs(), json=body)
        return Job.from_envelope(reply.body, reply.endpoint)

    def get(self, job_id: str) -> Job:
        """One job with its execution status."""
        reply = self._http.call("GET", urls.job(job_id))
        return Job.from_envelope(reply.body, reply.endpoint)

    def logs(self, job_id: str) -> JobLogs:
        """The job's log so far; ``.text()`` joins the stdout lines."""
        reply = self._http.call("GET", urls.job_logs(job_id))
        return JobLogs.from_api(reply.body, reply.endpoint)

    def stop(self, project_id: str, job_id: str, *, commit_results: bool = True) -> None:
        """Stop a running job, keeping (or discarding) the files it wrote."""
        body = {"projectId": project_id, "jobId": job_id, "commitResults": commit_results}
        self._http.call("POST", urls.stop_job(), json=body, expect="none")
