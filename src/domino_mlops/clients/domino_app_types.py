"""What Domino tells us about apps (v4 "model products" of type APP), as frozen objects.

An app is one ModelProduct; each start (publish) makes a new app instance at a project commit,
on a hardware tier, in a compute environment. The ModelProduct reports the running instance's
commit (``runningCommitId``) and where it serves (``runningAppUrl``): all a pipeline needs to
tell "unchanged" from "changed", and what to start again to put the previous one back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from domino_mlops.clients.json_fields import Fields

Visibility = Literal["PUBLIC", "AUTHENTICATED", "GRANT_BASED", "GRANT_BASED_STRICT"]
VISIBILITIES: tuple[Visibility, ...] = ("PUBLIC", "AUTHENTICATED", "GRANT_BASED", "GRANT_BASED_STRICT")


@dataclass(frozen=True, slots=True)
class App:
    """A Domino app; ``status`` is Pending while it starts, then Running, Failed or Stopped."""

    id: str
    name: str | None = None
    status: str | None = None
    project_id: str | None = None
    hardware_tier_id: str | None = None
    environment_id: str | None = None
    visibility: str | None = None  # permissionsData.visibility
    entry_point: str | None = None  # None: Domino's default (app.sh)
    description: str | None = None
    running_url: str | None = None  # runningAppUrl: the running instance's own pages (absolute or from the host)
    open_url: str | None = None  # openUrl: Domino's page around the app (its banner)
    running_commit_id: str | None = None
    latest_instance_id: str | None = None

    @property
    def is_running(self) -> bool:
        return (self.status or "").lower() == "running"

    @property
    def is_failed(self) -> bool:
        return (self.status or "").lower() in ("failed", "error")

    @property
    def is_stopped(self) -> bool:
        """Not serving and not on its way: never started, stopped, or finished."""
        return (self.status or "").lower() in ("", "stopped", "succeeded")

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> App:
        """A ``ModelProduct``."""
        f = Fields(payload, endpoint, path)
        permissions = f.opt_obj("permissionsData")
        return cls(
            id=f.req_str("id"), name=f.opt_str("name"), status=f.opt_str("status"), project_id=f.opt_str("projectId"),
            hardware_tier_id=f.opt_str("hardwareTierId"), environment_id=f.opt_str("environmentId"),
            visibility=permissions.opt_str("visibility") if permissions else None,
            entry_point=f.opt_str("entryPoint"), description=f.opt_str("description"),
            running_url=f.opt_str("runningAppUrl"), open_url=f.opt_str("openUrl"),
            running_commit_id=f.opt_str("runningCommitId"), latest_instance_id=f.opt_str("latestAppInstanceId"),
        )


@dataclass(frozen=True, slots=True)
class AppInstance:
    """One start of an app (v4 ``AppInstanceOverview``), oldest first in a list."""

    id: str
    status: str | None = None
    started: int | None = None  # epoch milliseconds
    duration: int | None = None
    published_by: str | None = None  # the user name

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> AppInstance:
        f = Fields(payload, endpoint, path)
        started = f.opt_time("started")
        return cls(f.req_str("id"), f.opt_str("status"), started if isinstance(started, int) else None,
                   f.opt_int("duration"), f.opt_str("publishingUsername"))


@dataclass(frozen=True, slots=True)
class AppPage:
    """What a running app answered at one of its paths."""

    url: str  # the path asked, from the Domino host
    status: int
    text: str  # the start of the page (at most PAGE_EXCERPT characters)
    seconds: float


def app_id_from_api(payload: object, endpoint: str) -> str:
    """``POST /v4/modelProducts`` answers the app it made; only its id matters to the caller."""
    return Fields(payload, endpoint).req_str("id")
