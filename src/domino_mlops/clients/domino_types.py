"""What Domino tells us, as frozen objects: no raw dict travels past the client.

Each type has ``from_api(payload, endpoint, *, path="$")`` that checks the shape of the JSON and
raises BadResponse (naming the endpoint and the JSON path) when it is not the contract's.
Fields the contract marks as always present are required; the rest default, so an older or
newer Domino that omits one still works. Model API types live in domino_serving_types.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from domino_mlops.clients.json_fields import Fields, items_of

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class DominoVersion:
    """``GET /version``: the deployment's version, e.g. 6.1.0."""

    version: str
    build_id: str | None = None
    commit_id: str | None = None

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> DominoVersion:
        f = Fields(payload, endpoint, path)
        return cls(f.req_str("version"), f.opt_str("buildId"), f.opt_str("commitId"))

    @property
    def parts(self) -> tuple[int, ...]:
        """(6, 1, 0) from '6.1.0-rc2'; non-numeric tails are ignored."""
        return tuple(int(n) for n in re.findall(r"\d+", self.version.split("-")[0])[:3])

    def at_least(self, minimum: str) -> bool:
        """True when this deployment is at least ``minimum`` (the official client wants 4.1.0)."""
        return self.parts >= DominoVersion(minimum).parts


@dataclass(frozen=True, slots=True)
class Project:
    id: str
    name: str
    owner_username: str | None = None

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> Project:
        f = Fields(payload, endpoint, path)
        return cls(f.req_str("id"), f.req_str("name"), f.opt_str("ownerUsername"))

    @classmethod
    def from_lookup(cls, payload: object, endpoint: str) -> Project | None:
        """findProjectByOwnerAndName answers an object without ``id`` when there is no such project."""
        if isinstance(payload, dict) and payload.get("id") is None:
            return None
        return cls.from_api(payload, endpoint)


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
        """One item of ``GET /api/hardwaretiers/v1/hardwaretiers`` (flat)."""
        f = Fields(payload, endpoint, path)
        return cls(f.req_str("id"), f.req_str("name"), f.opt_bool("isDefault"), f.opt_str("dataPlaneId"),
                   f.opt_str("dataPlaneName"), f.opt_number("centsPerMinute"))

    @classmethod
    def from_v4(cls, payload: object, endpoint: str, *, path: str = "$") -> HardwareTier:
        """One item of ``GET /v4/projects/{id}/hardwareTiers``: ``{"hardwareTier": {..., "hwtFlags"}}``."""
        tier = Fields(payload, endpoint, path).req_obj("hardwareTier")
        flags = tier.opt_obj("hwtFlags")
        return cls(tier.req_str("id"), tier.req_str("name"), flags.opt_bool("isDefault") if flags else False,
                   tier.opt_str("dataPlaneId"), tier.opt_str("dataPlaneName"), tier.opt_number("centsPerMinute"))


@dataclass(frozen=True, slots=True)
class ComputeEnvironment:
    id: str
    name: str
    visibility: str | None = None  # "Global" or "Private"

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> ComputeEnvironment:
        f = Fields(payload, endpoint, path)
        return cls(f.req_str("id"), f.req_str("name"), f.opt_str("visibility"))


@dataclass(frozen=True, slots=True)
class Job:
    """A Domino job; ``status`` goes Queued -> Running -> Succeeded | Failed | Error | Stopped."""

    id: str
    number: int | None
    project_id: str | None
    title: str | None
    command: str | None
    status: str | None  # statuses.executionStatus
    is_completed: bool = False
    is_archived: bool = False
    started_by: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.is_completed and (self.status or "").lower() == "succeeded"

    @property
    def failed(self) -> bool:
        return (self.status or "").lower() in ("failed", "error")

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> Job:
        """A bare Job, as the v4 routes answer."""
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

    @classmethod
    def from_envelope(cls, payload: object, endpoint: str) -> Job:
        """``{"job": Job}``, as the public jobs API answers (docs/CONTRACT_DECISIONS.md)."""
        return Fields(payload, endpoint).req_parse("job", cls.from_api)


@dataclass(frozen=True, slots=True)
class JobLogLine:
    log_type: str  # "stdout", "stderr", "prepareoutput", ...
    text: str


@dataclass(frozen=True, slots=True)
class JobLogs:
    lines: tuple[JobLogLine, ...]

    def text(self, log_type: str | None = "stdout") -> str:
        """The log as one string, one entry per line; ``log_type=None`` keeps every kind."""
        kept = (line.text for line in self.lines if log_type is None or line.log_type == log_type)
        # Entries are lines; some servers end them with a newline and some do not.
        return "".join(text if text.endswith("\n") else text + "\n" for text in kept)

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> JobLogs:
        f = Fields(payload, endpoint, path)
        lines = []
        for i, item in enumerate(f.req_list("logContent")):
            line = Fields(item, endpoint, f"{f.at('logContent')}[{i}]")
            lines.append(JobLogLine(line.opt_str("logType", "stdout") or "stdout", line.opt_str("log", "") or ""))
        return cls(tuple(lines))


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


def parse_list(payload: object, endpoint: str, key: str, item: Callable[..., T]) -> tuple[T, ...]:
    """``{key: [...]}`` or a bare list -> a tuple of parsed items."""
    raw, items_path = items_of(payload, endpoint, key)
    return tuple(item(value, endpoint, path=f"{items_path}[{i}]") for i, value in enumerate(raw))


def app_id_from_api(payload: object, endpoint: str) -> str:
    """``POST /v4/modelProducts`` answers ``{"id"}`` only."""
    return Fields(payload, endpoint).req_str("id")
