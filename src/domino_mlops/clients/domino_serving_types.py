"""Model APIs as Domino reports them: frozen objects parsed from `/api/modelServing/v1` and the
legacy `/v4/models` routes. Shapes: docs/DOMINO_API.md and docs/CONTRACT_DECISIONS.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domino_mlops.clients.json_fields import Fields, bad

# The label every version we create carries, so that after an ambiguous failure we can tell
# whether our create happened (docs/CONTRACT_DECISIONS.md, item 3).
REQUEST_ID_LABEL = "domino-mlops/request-id"


@dataclass(frozen=True, slots=True)
class RegistrySource:
    """A version built from the MLflow registry: model name and version number."""

    registered_model_name: str
    registered_model_version: int

    def to_api(self) -> dict[str, Any]:
        return {"type": "Registry", "registeredModelName": self.registered_model_name,
                "registeredModelVersion": self.registered_model_version}


@dataclass(frozen=True, slots=True)
class FileSource:
    """A version built from a file and function in the project (made by hand, not by us)."""

    file: str | None = None
    function: str | None = None


@dataclass(frozen=True, slots=True)
class OtherSource:
    """A source type this client does not know; kept so that listing never fails over it."""

    type: str


ModelSource = RegistrySource | FileSource | OtherSource


def source_from_api(payload: object, endpoint: str, *, path: str = "$") -> ModelSource:
    """``{"type": "Registry", ...}`` or ``{"type": "File", ...}``; other types are kept by name."""
    f = Fields(payload, endpoint, path)
    kind = f.req_str("type")
    if kind == "Registry":
        return RegistrySource(f.req_str("registeredModelName"), f.req_int("registeredModelVersion"))
    if kind == "File":
        return FileSource(f.opt_str("file"), f.opt_str("function"))
    return OtherSource(kind)


@dataclass(frozen=True, slots=True)
class DeploymentStatus:
    """Where a version's deployment is: "Preparing to build", "Building", "Starting",
    "Running", "Stalled", "Stopped", "Failed", "Ready to run" (legacy routes: "not_running")."""

    status: str
    is_pending: bool = False

    @property
    def is_running(self) -> bool:
        return self.status.lower() == "running" and not self.is_pending

    @property
    def is_failed(self) -> bool:
        return self.status.lower() in ("failed", "error")

    @property
    def is_stopped(self) -> bool:
        return self.status.lower() in ("stopped", "not_running")

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> DeploymentStatus:
        """``{"status", "isPending"}``: the ``deployment`` object of a version, and the answer of
        the legacy /v4/models start/stop routes (which add ``modelId``, ``modelVersionId``)."""
        f = Fields(payload, endpoint, path)
        return cls(f.req_str("status"), f.opt_bool("isPending"))


@dataclass(frozen=True, slots=True)
class EnvVar:
    """One environment variable of a Model API; values may be secret, so repr hides them."""

    key: str
    value: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class ActiveVersion:
    """The summary of a Model API's active version."""

    id: str
    number: int | None = None
    data_plane_id: str | None = None
    deployment: DeploymentStatus | None = None

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> ActiveVersion:
        f = Fields(payload, endpoint, path)
        return cls(f.req_str("id"), f.opt_int("number"), f.opt_str("dataPlaneId"),
                   f.opt_parse("deployment", DeploymentStatus.from_api))


@dataclass(frozen=True, slots=True)
class ModelApi:
    id: str
    name: str
    description: str = ""
    environment_id: str | None = None
    hardware_tier_id: str | None = None
    replicas: int | None = None
    is_archived: bool = False
    is_async: bool = False
    environment_variables: tuple[EnvVar, ...] = ()
    active_version: ActiveVersion | None = None

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> ModelApi:
        f = Fields(payload, endpoint, path)
        env_path = f.at("environmentVariables")
        variables = []
        for i, item in enumerate(f.opt_list("environmentVariables")):
            var = Fields(item, endpoint, f"{env_path}[{i}]")
            variables.append(EnvVar(var.req_str("key"), var.opt_str("value", "") or ""))
        return cls(
            id=f.req_str("id"), name=f.req_str("name"), description=f.opt_str("description", "") or "",
            environment_id=f.opt_str("environmentId"), hardware_tier_id=f.opt_str("hardwareTierId"),
            replicas=f.opt_int("replicas"), is_archived=f.opt_bool("isArchived"), is_async=f.opt_bool("isAsync"),
            environment_variables=tuple(variables),
            active_version=f.opt_parse("activeVersion", ActiveVersion.from_api),
        )


@dataclass(frozen=True, slots=True)
class ModelApiVersion:
    id: str
    model_api_id: str | None
    project_id: str | None
    number: int | None
    source: ModelSource
    description: str = ""
    labels: tuple[tuple[str, str], ...] = ()  # sorted (key, value) pairs
    data_plane_id: str | None = None
    deployment: DeploymentStatus | None = None
    created_by: str | None = None

    @property
    def status(self) -> str | None:
        return self.deployment.status if self.deployment else None

    def label(self, key: str) -> str | None:
        return dict(self.labels).get(key)

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> ModelApiVersion:
        f = Fields(payload, endpoint, path)
        metadata = f.opt_obj("metadata")
        return cls(
            id=f.req_str("id"), model_api_id=f.opt_str("modelApiId"), project_id=f.opt_str("projectId"),
            number=f.opt_int("number"), source=f.req_parse("source", source_from_api),
            description=f.opt_str("description", "") or "", labels=f.str_pairs("labels"),
            data_plane_id=f.opt_str("dataPlaneId"), deployment=f.opt_parse("deployment", DeploymentStatus.from_api),
            created_by=metadata.opt_str("createdBy") if metadata else None,
        )


@dataclass(frozen=True, slots=True)
class AccessToken:
    """A Model API access token; ``token`` is only present right after creation."""

    id: str
    name: str
    token: str | None = field(default=None, repr=False)
    created_at: int | str | None = None  # epoch milliseconds, or a date string

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> AccessToken:
        f = Fields(payload, endpoint, path)
        return cls(f.req_str("id"), f.opt_str("name", "") or "", f.opt_str("token"), f.opt_time("createdAt"))


@dataclass(frozen=True, slots=True)
class PredictionRelease:
    harness_version: str | None = None
    model_version_number: int | None = None
    registered_model_name: str | None = None
    registered_model_version: int | None = None


@dataclass(frozen=True, slots=True)
class Prediction:
    """A deployed model's answer. ``result`` is the model's own JSON output, passed on as is."""

    result: Any
    request_id: str | None = None
    model_time_ms: float | None = None
    release: PredictionRelease | None = None

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> Prediction:
        f = Fields(payload, endpoint, path)
        if not f.present("result"):  # null is a valid result; a missing key is not
            raise bad(endpoint, f"{f.at('result')} is missing")
        rel = f.opt_obj("release")
        release = None if rel is None else PredictionRelease(
            rel.opt_str("harness_version"), rel.opt_int("model_version_number"),
            rel.opt_str("registered_model_name"), rel.opt_int("registered_model_version"))
        return cls(f.raw("result"), f.opt_str("request_id"), f.opt_number("model_time_in_ms"), release)


@dataclass(frozen=True, slots=True)
class ExportStatus:
    """An image export to an external registry; poll until complete or failed."""

    status: str
    export_id: str | None = None

    @property
    def is_complete(self) -> bool:
        return self.status.lower() == "complete"

    @property
    def is_failed(self) -> bool:
        return self.status.lower() == "failed"

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> ExportStatus:
        f = Fields(payload, endpoint, path)
        return cls(f.req_str("status"), f.opt_str("exportId"))
