"""Domino jobs: start, list, get and logs through the public API, stop through the v4 route.

A job start (``NewJobV1``) has no field for environment variables, so variables travel in the
command: ``env NAME=value ... <command>``, each pair quoted for a POSIX shell. ``env`` is a
program, so this holds whether Domino hands the command to a shell or splits it itself (its
file-name shorthand, ``train.py`` alone, cannot follow it: docs/JOBS_AND_APPS.md).

A start with a marker key (``[domino-mlops job <key>]`` in the title) is safe to repeat after an
ambiguous failure: the project's newest jobs are searched for the marker before posting again.
Without a key the start is never retried.
"""

from __future__ import annotations

import itertools
import re
import shlex
from collections.abc import Iterator, Mapping, Sequence

from domino_mlops.clients.domino import urls as urls
from domino_mlops.clients.domino.job_types import Job, JobLogs, JobPage, marked_title
from domino_mlops.clients.domino.types import check_next_page
from domino_mlops.clients.http import HttpClient
from domino_mlops.clients.json_fields import without_nulls
from domino_mlops.errors import ConfigError

Variables = Mapping[str, str] | Sequence[tuple[str, str]]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# How far back "already run?" looks: a project's newest jobs, newest first. A marked job older
# than that is taken as not run, so the job runs again: a wasted run, never a skipped gate.
SCAN_LIMIT = 1000
PAGE_SIZE = 50


def command_with_variables(command: str, variables: Variables = ()) -> str:
    """``command`` run with ``variables`` set: ``env A=1 'B=two words' python x.py``."""
    pairs = list(variables.items()) if isinstance(variables, Mapping) else list(variables)
    if not pairs:
        return command
    for name, _ in pairs:
        if not _NAME.match(name):
            raise ConfigError(f"{name!r} is not an environment variable name",
                              hint="Use letters, digits and '_', not starting with a digit.")
    return "env " + " ".join(shlex.quote(f"{name}={value}") for name, value in pairs) + " " + command


class Jobs:
    """Jobs of Domino projects. Reached as ``DominoClient.jobs``."""

    def __init__(self, http: HttpClient, *, page_size: int = PAGE_SIZE, scan_limit: int = SCAN_LIMIT) -> None:
        self._http = http
        self._page_size, self._scan_limit = page_size, scan_limit

    def start(self, project_id: str, command: str, *, title: str | None = None, commit_id: str | None = None,
              branch: str | None = None, hardware_tier: str | None = None, environment_id: str | None = None,
              variables: Variables = (), marker: str | None = None) -> Job:
        """Start ``command`` in the project (NewJobV1); poll `get` until ``is_completed``.

        ``hardware_tier`` is the tier's id (e.g. small-k8s); omitted keys mean the project's
        defaults. At most one of ``commit_id`` (a commit of the project's files) and ``branch``
        (of its main git repository). ``variables`` reach the job through an ``env`` prefix.
        ``marker``: a key put in the title, which makes the start safe to repeat (see the module).
        """
        if commit_id and branch:
            raise ConfigError("a job starts from a commit or a branch, not both",
                              hint="Pass either commit_id or branch.")
        ref = {"refType": "branches", "value": branch} if branch else None
        body = without_nulls({"projectId": project_id, "runCommand": command_with_variables(command, variables),
                              "title": marked_title(title or "", marker) or None, "commitId": commit_id,
                              "mainRepoGitRef": ref, "hardwareTier": hardware_tier, "environmentId": environment_id})

        def post() -> Job:
            reply = self._http.call("POST", urls.jobs(), json=body)
            return Job.from_envelope(reply.body, reply.endpoint)

        if marker is None:
            return post()
        return self._http.create_idempotent(post, lambda: self.find_marked(project_id, marker),
                                            what=f"job {title or command!r}")

    def newest(self, project_id: str) -> Iterator[Job]:
        """The project's jobs, newest first, a page at a time (public ``getJobs``), up to the scan limit."""
        previous: tuple[Job, ...] | None = None
        seen = 0
        for pages in itertools.count(1):
            reply = self._http.call("GET", urls.project_jobs(project_id, offset=seen, limit=self._page_size))
            page = JobPage.from_api(reply.body, reply.endpoint)
            check_next_page(page.jobs, previous, pages, reply.endpoint)
            for job in page.jobs:
                if seen >= self._scan_limit:
                    return
                seen += 1
                yield job
            # The count says when the list ends; without one, a short page does (a server may
            # cap the page below what was asked, so a short page alone is not the end then).
            ended = seen >= page.total_count if page.total_count is not None else len(page.jobs) < self._page_size
            if ended or not page.jobs:
                return
            previous = page.jobs

    def find_marked(self, project_id: str, marker: str) -> Job | None:
        """The newest job of the project whose title carries ``marker``, or None."""
        return next((job for job in self.newest(project_id) if job.marker == marker), None)

    def get(self, job_id: str) -> Job:
        """One job with its execution status."""
        reply = self._http.call("GET", urls.job(job_id))
        return Job.from_envelope(reply.body, reply.endpoint)

    def logs(self, job_id: str, *, log_type: str | None = None) -> JobLogs:
        """The job's log so far (``log_type``: stdOut, stdErr, prepareOutput or complete);
        ``.text()`` joins the stdout lines, ``.tail(20)`` gives the last lines of its output."""
        reply = self._http.call("GET", urls.job_logs(job_id, log_type=log_type))
        return JobLogs.from_api(reply.body, reply.endpoint)

    def stop(self, job_id: str, *, commit_results: bool = True) -> Job:
        """Stop a running job, keeping (or discarding) the files it wrote (v4 JobStopOperationRequest)."""
        reply = self._http.call("POST", urls.stop_job(), json={"jobId": job_id, "commitResults": commit_results})
        return Job.from_v4(reply.body, reply.endpoint)
