"""Domino jobs: start, get and logs through the public API, stop through the v4 route.

Starting a job is a POST with no way to look it up afterwards, so it is never retried: an
ambiguous failure is raised, and whoever retries should first check the project's jobs.
"""

from __future__ import annotations

from domino_mlops.clients import domino_urls as urls
from domino_mlops.clients.domino_types import Job, JobLogs
from domino_mlops.clients.http import HttpClient
from domino_mlops.clients.json_fields import without_nulls
from domino_mlops.errors import ConfigError


class Jobs:
    """Jobs of Domino projects. Reached as ``DominoClient.jobs``."""

    def __init__(self, http: HttpClient) -> None:
        self._http = http

    def start(self, project_id: str, command: str, *, title: str | None = None, commit_id: str | None = None,
              branch: str | None = None, hardware_tier: str | None = None,
              environment_id: str | None = None) -> Job:
        """Start ``command`` in the project (NewJobV1); poll `get` until ``is_completed``.

        ``hardware_tier`` is the tier's id (e.g. small-k8s); omitted keys mean the project's
        defaults. At most one of ``commit_id`` (a commit of the project's files) and ``branch``
        (of its main git repository).
        """
        if commit_id and branch:
            raise ConfigError("a job starts from a commit or a branch, not both",
                              hint="Pass either commit_id or branch.")
        ref = {"refType": "branches", "value": branch} if branch else None
        body = without_nulls({"projectId": project_id, "runCommand": command, "title": title,
                               "commitId": commit_id, "mainRepoGitRef": ref, "hardwareTier": hardware_tier,
                               "environmentId": environment_id})
        reply = self._http.call("POST", urls.jobs(), json=body)
        return Job.from_envelope(reply.body, reply.endpoint)

    def get(self, job_id: str) -> Job:
        """One job with its execution status."""
        reply = self._http.call("GET", urls.job(job_id))
        return Job.from_envelope(reply.body, reply.endpoint)

    def logs(self, job_id: str, *, log_type: str | None = None) -> JobLogs:
        """The job's log so far (``log_type``: stdOut, stdErr, prepareOutput or complete);
        ``.text()`` joins the stdout lines."""
        reply = self._http.call("GET", urls.job_logs(job_id, log_type=log_type))
        return JobLogs.from_api(reply.body, reply.endpoint)

    def stop(self, job_id: str, *, commit_results: bool = True) -> Job:
        """Stop a running job, keeping (or discarding) the files it wrote (v4 JobStopOperationRequest)."""
        reply = self._http.call("POST", urls.stop_job(), json={"jobId": job_id, "commitResults": commit_results})
        return Job.from_v4(reply.body, reply.endpoint)
