"""What Domino tells us about jobs, scheduled jobs and the caller, as frozen objects.

A job domino-mlops starts carries a marker in its title, ``[domino-mlops job <key>]``: the job
start (``NewJobV1``) has no labels, and the title is the only field it sends that every job
answer returns (the public list, get, and the v4 job). The key is the caller's (for the engine,
a digest of the job's definition and the commit it runs for), so "has this already run?" is a
look-up by title, and a start after an ambiguous failure can find the job it may have made.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from domino_mlops.clients.json_fields import Fields

_MARKER = re.compile(r"\[domino-mlops job ([A-Za-z0-9][A-Za-z0-9._:-]{0,127})\]")


def job_marker(key: str) -> str:
    """The marker put in the title of a job (or scheduled job) started for ``key``."""
    if not _MARKER.fullmatch(f"[domino-mlops job {key}]"):
        raise ValueError(f"a job marker key is letters, digits and . _ : - (at most 128), not {key!r}")
    return f"[domino-mlops job {key}]"


def marker_key(title: str | None) -> str | None:
    """The key of the marker in a title, or None for a job someone else started."""
    found = _MARKER.search(title or "")
    return found.group(1) if found else None


def marked_title(title: str, key: str | None) -> str:
    """``title`` with the marker of ``key`` appended (``title`` alone when there is no key)."""
    return f"{title} {job_marker(key)}".strip() if key else title


@dataclass(frozen=True, slots=True)
class Job:
    """A Domino job; ``status`` goes Queued -> Running -> Succeeded | Failed | Error | Stopped."""

    id: str
    number: int | None
    project_id: str | None
    title: str | None
    command: str | None
    status: str | None  # executionStatus
    is_completed: bool = False
    is_archived: bool = False
    started_by: str | None = None  # a user name (v4) or a user id (public API)
    commit_id: str | None = None  # the project commit it ran from (commitDetails.inputCommitId)

    @property
    def succeeded(self) -> bool:
        return self.is_completed and (self.status or "").lower() == "succeeded"

    @property
    def failed(self) -> bool:
        return (self.status or "").lower() in ("failed", "error")

    @property
    def marker(self) -> str | None:
        """The key domino-mlops marked it with, or None."""
        return marker_key(self.title)

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> Job:
        """A job of the public API (JobDetailsV1, or JobV1 in a list): ``status`` is an object,
        the command ``runCommand``."""
        f = Fields(payload, endpoint, path)
        status, commit = f.opt_obj("status"), f.opt_obj("commitDetails")
        return cls(
            id=f.req_str("id"), number=f.opt_int("number"), project_id=None, title=f.opt_str("title"),
            command=f.opt_str("runCommand"),
            status=status.opt_str("executionStatus") if status else None,
            is_completed=status.opt_bool("isCompleted") if status else False,
            is_archived=status.opt_bool("isArchived") if status else False,
            started_by=f.opt_str("startedById"),
            commit_id=commit.opt_str("inputCommitId") if commit else None,
        )

    @classmethod
    def from_envelope(cls, payload: object, endpoint: str) -> Job:
        """``{"job": JobDetailsV1}``, as the public jobs API answers."""
        return Fields(payload, endpoint).req_parse("job", cls.from_api)

    @classmethod
    def from_v4(cls, payload: object, endpoint: str, *, path: str = "$") -> Job:
        """A v4 job (``/v4/jobs/...``): ``statuses``, ``jobRunCommand``, ``startedBy``."""
        f = Fields(payload, endpoint, path)
        statuses, started_by, commit = f.opt_obj("statuses"), f.opt_obj("startedBy"), f.opt_obj("commitDetails")
        return cls(
            id=f.req_str("id"), number=f.opt_int("number"), project_id=f.opt_str("projectId"),
            title=f.opt_str("title"), command=f.opt_str("jobRunCommand"),
            status=statuses.opt_str("executionStatus") if statuses else None,
            is_completed=statuses.opt_bool("isCompleted") if statuses else False,
            is_archived=statuses.opt_bool("isArchived") if statuses else False,
            started_by=started_by.opt_str("username") if started_by else None,
            commit_id=commit.opt_str("inputCommitId") if commit else None,
        )


@dataclass(frozen=True, slots=True)
class JobPage:
    """One page of ``GET /api/jobs/beta/jobs`` (``PaginatedJobEnvelopeV1``)."""

    jobs: tuple[Job, ...]
    total_count: int | None = None

    @classmethod
    def from_api(cls, payload: object, endpoint: str) -> JobPage:
        f = Fields(payload, endpoint)
        meta = f.opt_obj("metadata")
        return cls(f.parse_items("jobs", Job.from_api, required=True), meta.opt_int("totalCount") if meta else None)


@dataclass(frozen=True, slots=True)
class JobLogLine:
    log_type: str  # "stdOut", "stdErr", "prepareOutput", "complete"
    text: str


@dataclass(frozen=True, slots=True)
class JobLogs:
    lines: tuple[JobLogLine, ...]
    is_complete: bool = False

    def text(self, log_type: str | None = "stdOut") -> str:
        """The log as one string, one entry per line; ``log_type=None`` keeps every kind."""
        kept = (line.text for line in self.lines if log_type is None or line.log_type == log_type)
        # Entries are lines; some servers end them with a newline and some do not.
        return "".join(text if text.endswith("\n") else text + "\n" for text in kept)

    def tail(self, count: int = 20, kinds: tuple[str, ...] = ("stdOut", "stdErr")) -> tuple[str, ...]:
        """The last ``count`` lines of the program's output (what a failed job's report shows)."""
        lines = [text.rstrip("\n") for line in self.lines if line.log_type in kinds
                 for text in line.text.splitlines() or [""]]
        return tuple(lines[-count:]) if count > 0 else ()

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> JobLogs:
        """``{"logs": {"logContent": [{log, logType, size, timestamp}], "isComplete"}, "metadata"}``."""
        logs = Fields(payload, endpoint, path).req_obj("logs")
        lines = []
        for i, item in enumerate(logs.opt_list("logContent")):
            line = Fields(item, endpoint, f"{logs.at('logContent')}[{i}]")
            lines.append(JobLogLine(line.opt_str("logType", "stdOut") or "stdOut", line.opt_str("log", "") or ""))
        return cls(tuple(lines), logs.opt_bool("isComplete"))


@dataclass(frozen=True, slots=True)
class GitRef:
    """A git reference of a scheduled job's main repository: ``{"type": "branches", "value": "main"}``."""

    type: str
    value: str | None = None


@dataclass(frozen=True, slots=True)
class ScheduledJob:
    """A job Domino starts on its clock (v4 ``ScheduledJobDto``)."""

    id: str
    project_id: str
    title: str
    command: str
    cron: str  # a Quartz cron expression
    timezone: str
    is_paused: bool
    hardware_tier_id: str
    environment_id: str | None = None  # overrideEnvironmentId; None: the project's default
    git_ref: GitRef | None = None
    scheduled_by: str | None = None  # the user name

    @property
    def marker(self) -> str | None:
        return marker_key(self.title)

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> ScheduledJob:
        f = Fields(payload, endpoint, path)
        schedule, ref = f.req_obj("schedule"), f.opt_obj("mainRepoGitRef")
        return cls(
            id=f.req_str("id"), project_id=f.req_str("projectId"), title=f.req_str("title"),
            command=f.req_str("command"), cron=schedule.req_str("cronString"), timezone=f.req_str("timezoneId"),
            is_paused=f.opt_bool("isPaused"), hardware_tier_id=f.req_str("hardwareTierIdentifier"),
            environment_id=f.opt_str("overrideEnvironmentId"),
            git_ref=GitRef(ref.req_str("type"), ref.opt_str("value")) if ref else None,
            scheduled_by=f.opt_str("scheduledByUserName"),
        )


@dataclass(frozen=True, slots=True)
class CurrentUser:
    """Who the credential belongs to (public ``GET /api/users/v1/self``)."""

    id: str
    user_name: str

    @classmethod
    def from_envelope(cls, payload: object, endpoint: str) -> CurrentUser:
        user = Fields(payload, endpoint).req_obj("user")
        return cls(user.req_str("id"), user.req_str("userName"))
