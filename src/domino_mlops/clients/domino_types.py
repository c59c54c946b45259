"""What Domino tells us, as frozen objects: no raw dict travels past the client.

Each type has ``from_api(payload, endpoint, *, path="$")`` that checks the shape of the JSON and
raises BadResponse (naming the endpoint and the JSON path) when it is not the contract's.
Fields the contract marks as always present are required; the rest default, so an older or
newer Domino that omits one still works. Model API types live in domino_serving_types.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from domino_mlops.clients.json_fields import Fields, bad, items_of

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Project:
    id: str
    name: str
    owner_username: str | None = None

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> Project:
        """``GET /v4/projects/{id}`` (ProjectSummary)."""
        f = Fields(payload, endpoint, path)
        return cls(f.req_str("id"), f.req_str("name"), f.opt_str("ownerUsername"))

    @classmethod
    def from_gateway(cls, payload: object, endpoint: str, *, path: str = "$") -> Project:
        """``findProjectByOwnerAndName`` and ``/v4/gateway/projects`` (ProjectGatewayOverview)."""
        f = Fields(payload, endpoint, path)
        owner = f.opt_obj("owner")
        return cls(f.req_str("id"), f.req_str("name"), owner.opt_str("userName") if owner else None)


@dataclass(frozen=True, slots=True)
class HardwareTier:
    """A hardware tier; its data plane is where a Model API version on it runs."""

    id: str
    name: str
    is_default: bool = False
    data_plane_id: str | None = None  # None: the local data plane, or a Domino without Nexus
    data_plane_name: str | None = None
    cents_per_minute: float | None = None

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> HardwareTier:
        """One item of ``GET /api/hardwaretiers/v1/hardwaretiers`` (HardwareTierV1)."""
        f = Fields(payload, endpoint, path)
        flags = f.opt_obj("flags")
        return cls(f.req_str("id"), f.req_str("name"), flags.opt_bool("isDefault") if flags else False,
                   f.opt_str("dataPlaneId"), None, f.opt_number("centsPerMinute"))

    @classmethod
    def from_v4(cls, payload: object, endpoint: str, *, path: str = "$") -> HardwareTier:
        """One item of ``GET /v4/projects/{id}/hardwareTiers``: ``{"hardwareTier", "dataPlane", ...}``."""
        item = Fields(payload, endpoint, path)
        tier, plane = item.req_obj("hardwareTier"), item.opt_obj("dataPlane")
        flags = tier.opt_obj("hwtFlags")
        plane_id = tier.opt_str("dataPlaneId") or (plane.opt_str("id") if plane else None)
        return cls(tier.req_str("id"), tier.req_str("name"), flags.opt_bool("isDefault") if flags else False,
                   plane_id, plane.opt_str("name") if plane else None, tier.opt_number("centsPerMinute"))


@dataclass(frozen=True, slots=True)
class ComputeEnvironment:
    id: str
    name: str
    visibility: str | None = None  # "Global", "Private" or "Organization"
    archived: bool = False

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> ComputeEnvironment:
        f = Fields(payload, endpoint, path)
        return cls(f.req_str("id"), f.req_str("name"), f.opt_str("visibility"), f.opt_bool("archived"))


@dataclass(frozen=True, slots=True)
class ProjectEnvironments:
    """``GET /v4/projects/{id}/useableEnvironments``: what the project may use, and its default."""

    environments: tuple[ComputeEnvironment, ...]
    selected_id: str | None = None  # the project's default environment

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> ProjectEnvironments:
        f = Fields(payload, endpoint, path)
        found = f.parse_items("environments", ComputeEnvironment.from_api, required=True)
        selected = f.opt_obj("currentlySelectedEnvironment")
        return cls(found, selected.opt_str("id") if selected else None)

    def default(self) -> ComputeEnvironment | None:
        """The project's selected environment, else the first global one, else the first."""
        usable = [e for e in self.environments if not e.archived]
        return (next((e for e in usable if e.id == self.selected_id), None)
                or next((e for e in usable if (e.visibility or "").lower() == "global"), None)
                or (usable[0] if usable else None))


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

    @property
    def succeeded(self) -> bool:
        return self.is_completed and (self.status or "").lower() == "succeeded"

    @property
    def failed(self) -> bool:
        return (self.status or "").lower() in ("failed", "error")

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> Job:
        """A job of the public API (JobDetailsV1): ``status`` is an object, the command ``runCommand``."""
        f = Fields(payload, endpoint, path)
        status = f.opt_obj("status")
        return cls(
            id=f.req_str("id"), number=f.opt_int("number"), project_id=None, title=f.opt_str("title"),
            command=f.opt_str("runCommand"),
            status=status.opt_str("executionStatus") if status else None,
            is_completed=status.opt_bool("isCompleted") if status else False,
            is_archived=status.opt_bool("isArchived") if status else False,
            started_by=f.opt_str("startedById"),
        )

    @classmethod
    def from_envelope(cls, payload: object, endpoint: str) -> Job:
        """``{"job": JobDetailsV1}``, as the public jobs API answers."""
        return Fields(payload, endpoint).req_parse("job", cls.from_api)

    @classmethod
    def from_v4(cls, payload: object, endpoint: str, *, path: str = "$") -> Job:
        """A v4 job (``/v4/jobs/...``): ``statuses``, ``jobRunCommand``, ``startedBy``."""
        f = Fields(payload, endpoint, path)
        statuses = f.opt_obj("statuses")
        started_by = f.opt_obj("startedBy")
        return cls(
            id=f.req_str("id"), number=f.opt_int("number"), project_id=f.opt_str("projectId"),
            title=f.opt_str("title"), command=f.opt_str("jobRunCommand"),
            status=statuses.opt_str("executionStatus") if statuses else None,
            is_completed=statuses.opt_bool("isCompleted") if statuses else False,
            is_archived=statuses.opt_bool("isArchived") if statuses else False,
            started_by=started_by.opt_str("username") if started_by else None,
        )


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
class App:
    """A Domino app (a "model product" of type APP)."""

    id: str
    name: str | None = None
    status: str | None = None  # "Running", "Pending", "Stopped", "Failed", ...
    project_id: str | None = None

    @property
    def is_running(self) -> bool:
        return (self.status or "").lower() == "running"

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> App:
        f = Fields(payload, endpoint, path)
        return cls(f.req_str("id"), f.opt_str("name"), f.opt_str("status"), f.opt_str("projectId"))


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a paged list: ``{"items": [...], "metadata": {"offset", "limit", "totalCount"}}``."""

    items: tuple[T, ...]
    offset: int = 0
    limit: int | None = None
    total_count: int | None = None

    @classmethod
    def from_api(cls, payload: object, endpoint: str, item: Callable[..., T]) -> Page[T]:
        """Parse each item with ``item(value, endpoint, path=...)``; a bare list is one whole page."""
        parsed = parse_list(payload, endpoint, "items", item)
        meta = Fields(payload, endpoint).opt_obj("metadata") if isinstance(payload, dict) else None
        if meta is None:
            return cls(parsed, 0, None, None)
        return cls(parsed, meta.opt_int("offset", 0) or 0, meta.opt_int("limit"), meta.opt_int("totalCount"))


# A paged list ends when the server says so; a server that never does (it ignores the offset, or
# counts to a billion) must not keep us asking. 1,000 pages of 100 is far beyond any project.
MAX_PAGES = 1000


def check_next_page(page: tuple[Any, ...], previous: tuple[Any, ...] | None, pages: int, endpoint: str) -> None:
    """BadResponse when paging would not end: the same page again, or more than MAX_PAGES."""
    if previous is not None and page and page == previous:
        raise bad(endpoint, "the next page repeats the previous one (the server ignores the offset); "
                            "stopped paging")
    if pages > MAX_PAGES:
        raise bad(endpoint, f"more than {MAX_PAGES} pages; stopped paging")


def parse_list(payload: object, endpoint: str, key: str, item: Callable[..., T]) -> tuple[T, ...]:
    """``{key: [...]}`` or a bare list -> a tuple of parsed items."""
    raw, items_path = items_of(payload, endpoint, key)
    return tuple(item(value, endpoint, path=f"{items_path}[{i}]") for i, value in enumerate(raw))


def app_id_from_api(payload: object, endpoint: str) -> str:
    """``POST /v4/modelProducts`` answers the app it made; only its id matters to the caller."""
    return Fields(payload, endpoint).req_str("id")
