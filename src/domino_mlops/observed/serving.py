"""What Domino serves for the models a plan is about: one list per project, one version list
per Model API that matters. Never a request per model per field.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from domino_mlops.clients.domino.serving_types import ModelApi, ModelApiVersion, RegistrySource, VersionSettings
from domino_mlops.observed.deploy_record import KnownServing

if TYPE_CHECKING:  # annotations only: the planner imports the snapshot without an HTTP library
    from domino_mlops.clients.domino.client import DominoClient


_UNUSABLE = ("failed", "error", "stalled")
_STOPPED = ("stopped", "not_running", "ready to run")


def usable(version: ModelApiVersion) -> bool:
    """Not failed: it can serve (now, or once started)."""
    return (version.status or "").lower() not in _UNUSABLE


def stopped(version: ModelApiVersion) -> bool:
    """Built but not serving: starting it again is enough."""
    return (version.status or "").lower() in _STOPPED


@dataclass(frozen=True, slots=True)
class ServedModelApi:
    """A Model API and all its versions (newest last)."""

    api: ModelApi
    versions: tuple[ModelApiVersion, ...]

    @property
    def active(self) -> ModelApiVersion | None:
        active = self.api.active_version
        if active is None:
            return None
        return next((v for v in self.versions if v.id == active.id), None)


@dataclass(frozen=True, slots=True)
class ServingChoice:
    """How a Model API comes to serve a registry version: the one decision the plan shows and
    the apply re-checks, so the two can never disagree."""

    action: str  # none | start_version | create_version | failed_before
    version_id: str | None = None  # the version already serving, the built one to start, or the failed one
    previous_version_id: str | None = None  # what serves now: put back if the new one fails


def matches(version: ModelApiVersion, source: RegistrySource, settings: VersionSettings | None) -> bool:
    """Built from this registry version, recording calls as the environment wants. Domino fixes
    the settings per version, so a version with other settings is not the one we want."""
    return version.source == source and (settings is None or version.settings in (None, settings))


def choose(served: ServedModelApi, source: RegistrySource, settings: VersionSettings | None = None, *,
           retry_failed: bool = False) -> ServingChoice:
    """Serving already: nothing. Built before and not failed: start it (no rebuild). Built before
    and failed: not again (each re-run of a broken model would add a Failed version), unless
    ``retry_failed``. Else build."""
    active = served.active
    wanted = active is not None and matches(active, source, settings)
    previous = active.id if active is not None and usable(active) and not wanted else None
    if active is not None and wanted and usable(active) and not stopped(active):
        return ServingChoice("none", active.id)
    same = [v for v in reversed(served.versions) if matches(v, source, settings)]
    reusable = next((v for v in same if usable(v)), None)
    if reusable is not None:
        return ServingChoice("start_version", reusable.id, previous)
    if same and not retry_failed:
        return ServingChoice("failed_before", same[0].id, previous)
    return ServingChoice("create_version", None, previous)


@dataclass(frozen=True, slots=True)
class ServingSnapshot:
    """Model APIs by (project id, name); a missing key means no such Model API exists."""

    apis: tuple[tuple[tuple[str, str], ServedModelApi], ...] = ()
    # The hardware tiers of each project whose tiers were listed: (project id, ((tier id, data
    # plane id or ""), ...)). A project missing here was not asked (no waves name a tier).
    tiers: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    # The same by key, built once: a plan asks once per model and data plane, and a dict made
    # per ask is quadratic in the manifest (10,000 entries: 10^8 steps).
    _by_key: dict[tuple[str, str], ServedModelApi] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_key", dict(self.apis))

    def get(self, project_id: str, name: str) -> ServedModelApi | None:
        return self._by_key.get((project_id, name))

    def tiers_of(self, project_id: str) -> dict[str, str] | None:
        """The project's tier ids -> their data plane ids ("" when Domino names none); None: not listed."""
        return next((dict(tiers) for project, tiers in self.tiers if project == project_id), None)


@dataclass(frozen=True, slots=True)
class ProjectListing:
    """What one project's lists show, before MLflow is read: the Model APIs asked about (not
    archived) and, when listed, the project's hardware tiers ((tier id, data plane id or ""), ...)."""

    project_id: str
    apis: tuple[ModelApi, ...]
    tiers: tuple[tuple[str, str], ...] | None = None


def list_project(domino: DominoClient, project_id: str, names: Iterable[str], *,
                 list_tiers: bool = False) -> ProjectListing:
    """One project's Model API list (all pages), kept to ``names``, and with ``list_tiers`` its
    hardware tiers (``GET /v4/projects/{id}/hardwareTiers``), so a plan can refuse a tier Domino
    does not have and see which data plane a Model API should run on. Needs nothing from MLflow,
    so a plan reads it while MLflow answers (kinds/models.py)."""
    names = set(names)
    tiers = (tuple(sorted((t.id, t.data_plane_id or "") for t in domino.hardware_tiers(project_id)))
             if list_tiers else None)
    apis = tuple(api for api in domino.model_apis.list(project_id) if api.name in names and not api.is_archived)
    return ProjectListing(project_id, apis, tiers)


def served_apis(domino: DominoClient, listing: ProjectListing,
                known: Mapping[tuple[str, str], KnownServing] | None = None) -> ServingSnapshot:
    """The listed Model APIs with their versions: one version list per Model API, except where
    ``known`` (a deploy's record in MLflow, observed/deploy_record.py) names the version Domino
    shows active and running."""
    known = known or {}
    found: dict[tuple[str, str], ServedModelApi] = {}
    for api in listing.apis:
        key = (listing.project_id, api.name)
        recorded = _as_recorded(api, listing.project_id, known.get(key))
        found[key] = ServedModelApi(api, (recorded,) if recorded else domino.model_apis.list_versions(api.id))
    tiers = () if listing.tiers is None else ((listing.project_id, listing.tiers),)
    return ServingSnapshot(tuple(sorted(found.items())), tiers)


def _as_recorded(api: ModelApi, project_id: str, known: KnownServing | None) -> ModelApiVersion | None:
    """The active version as the record describes it, when Domino shows that very version active
    and running (its source and settings are fixed, its id never reused); else None."""
    active = api.active_version
    if known is None or active is None or known.model_api_id != api.id or active.id != known.version_id:
        return None
    if active.deployment is None or not active.deployment.is_running:
        return None  # stopped, failed, starting: the versions decide what to do
    return ModelApiVersion(id=active.id, model_api_id=api.id, project_id=project_id, number=active.number,
                           source=known.source, data_plane_id=active.data_plane_id, deployment=active.deployment,
                           settings=known.settings)
