"""What Domino tells us, as frozen objects: no raw dict travels past the client.

Each type has ``from_api(payload, endpoint, *, path="$")`` that checks the shape of the JSON and
raises BadResponse (naming the endpoint and the JSON path) when it is not the contract's.
Fields the contract marks as always present are required; the rest default, so an older or
newer Domino that omits one still works. Each noun's types live beside it: Model APIs in
domino_serving_types, jobs in domino_job_types, apps in domino_app_types.
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
    # The v4 listing's dataPlane.isLocal (required there); None where the answer does not say (public v1).
    data_plane_is_local: bool | None = None

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
                   plane_id, plane.opt_str("name") if plane else None, tier.opt_number("centsPerMinute"),
                   _is_local(plane))


def _is_local(plane: Fields | None) -> bool | None:
    if plane is None or plane.raw("isLocal") is None:
        return None
    return plane.opt_bool("isLocal")


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
