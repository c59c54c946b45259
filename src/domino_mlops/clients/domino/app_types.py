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
    api: Literal["public", "v4"] = "v4"  # which Domino API reported it (and so can change it)
    version_id: str | None = None  # public API: the current version (the one a put-back restores)

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


    @classmethod
    def from_public(cls, payload: object, endpoint: str, *, path: str = "$") -> App:
        """An ``AppResponse`` or ``AppSummaryResponse`` of the public API: what runs is the
        current version's (tier, compute environment, git ref) and its current instance's status."""
        f = Fields(payload, endpoint, path)
        project, version = f.opt_obj("project"), f.opt_obj("currentVersion")
        instance = version.opt_obj("currentInstance") if version else None
        ref = version.opt_obj("gitRef") if version else None
        commit = ref.opt_str("value") if ref and ref.opt_str("type") == "commitId" else None
        return cls(
            id=f.req_str("id"), name=f.opt_str("name"), status=instance.opt_str("status") if instance else None,
            project_id=project.opt_str("id") if project else None,
            hardware_tier_id=(version.opt_str("hardwareTierId") or None) if version else None,
            environment_id=(version.opt_str("environmentId") or None) if version else None,
            visibility=f.opt_str("visibility"), entry_point=f.opt_str("entryPoint"),
            description=f.opt_str("description"), running_url=f.opt_str("url"), running_commit_id=commit,
            latest_instance_id=instance.opt_str("id") if instance else None, api="public",
            version_id=version.opt_str("id") if version else None,
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

    url: str  # the path asked, from the Domino host (a whole URL on another host)
    status: int
    text: str  # the start of the page (at most PAGE_EXCERPT characters)
    seconds: float
    credential: bool = True  # the Domino credential was sent (only ever to the Domino host)
    redirect: str | None = None  # where a 3xx pointed (a login page): not followed

    @property
    def verified(self) -> bool:
        """The app's own page answered; False for a login page, or a refusal of an anonymous ask."""
        return self.redirect is None and self.status < 300


@dataclass(frozen=True, slots=True)
class Published:
    """What a publish did: the app, whether it was created, the version (public API) and instance."""

    app_id: str
    created: bool
    version_id: str | None = None
    instance_id: str | None = None
    entry_point_changed: bool = False


def app_id_from_api(payload: object, endpoint: str) -> str:
    """``POST /v4/modelProducts`` answers the app it made; only its id matters to the caller."""
    return Fields(payload, endpoint).req_str("id")
