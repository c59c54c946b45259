"""Model APIs as Domino reports them: frozen objects parsed from `/api/modelServing/v1` and the
v4 model-manager routes. Shapes: the contract (domino_emulator/contract/domino_api.json, rendered
in docs/DOMINO_API.md). Each parser accepts every payload the published schema allows, plus the
variants seen in field answers (docs/CONTRACT_DECISIONS.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from domino_mlops.clients.json_fields import Fields, bad

# A version's create request has no labels, but the request and the version both carry a
# description: the marker we append there lets a lookup tell whether an ambiguous create happened.
REQUEST_MARKER = re.compile(r"\[domino-mlops request ([0-9a-f-]{36})\]")


def request_marker(request_id: str) -> str:
    return f"[domino-mlops request {request_id}]"


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
        name, number = f.opt_str("registeredModelName"), f.opt_version_number("registeredModelVersion")
        # Both are optional in the schema; a Registry source without them cannot be one of ours.
        return OtherSource(kind) if name is None or number is None else RegistrySource(name, number)
    if kind == "File":
        return FileSource(f.opt_str("file"), f.opt_str("function"))
    return OtherSource(kind)


def one_item(payload: object, endpoint: str) -> object:
    """The answer of a /v4/models route: one object, or (as Domino's v4 document has it) a list
    holding it. Recorded answers are objects; both are accepted (docs/CONTRACT_DECISIONS.md)."""
    if isinstance(payload, list):
        if len(payload) != 1:
            raise bad(endpoint, f"$ should hold one answer, got a list of {len(payload)}")
        return payload[0]
    return payload


@dataclass(frozen=True, slots=True)
class DeploymentStatus:
    """Where a version's deployment is: "Preparing to build", "Building", "Starting",
    "Running", "Stalled", "Stopped", "Failed", "Ready to run" (v4 stop route: "not_running")."""

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
        """``{"status", "isPending"}``: the ``deployment`` object of a version."""
        f = Fields(payload, endpoint, path)
        return cls(f.req_str("status"), f.opt_bool("isPending"))

    @classmethod
    def from_v4(cls, payload: object, endpoint: str) -> DeploymentStatus:
        """``{"modelId", "modelVersionId", "status"}``: what the v4 start/stop/status routes answer."""
        return cls.from_api(one_item(payload, endpoint), endpoint)


@dataclass(frozen=True, slots=True)
class EnvVar:
    """One environment variable of a Model API; values may be secret, so repr hides them."""

    key: str
    value: str = field(repr=False)

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> EnvVar:
        f = Fields(payload, endpoint, path)
        return cls(f.req_str("key"), f.opt_str("value", "") or "")


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
class AccessTokenInfo:
    """A model access token as a Model API lists it: metadata only. Domino shows a token's value
    once, in its UI, to the admin who makes it; no published route returns it."""

    id: str
    name: str | None = None
    created_by: str | None = None

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> AccessTokenInfo:
        f = Fields(payload, endpoint, path)
        return cls(f.req_str("id"), f.opt_str("name"), f.opt_str("createdBy"))


@dataclass(frozen=True, slots=True)
class ModelApiAccess:
    """Who may call a Model API: anyone (public, "unrestricted"), or holders of its tokens."""

    is_public: bool = False
    access_tokens: tuple[AccessTokenInfo, ...] = ()

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> ModelApiAccess:
        f = Fields(payload, endpoint, path)
        return cls(f.opt_bool("isPublic"), f.parse_items("accessTokens", AccessTokenInfo.from_api))


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
    access: ModelApiAccess = ModelApiAccess()

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> ModelApi:
        f = Fields(payload, endpoint, path)
        return cls(
            id=f.req_str("id"), name=f.req_str("name"), description=f.opt_str("description", "") or "",
            environment_id=f.opt_str("environmentId"), hardware_tier_id=f.opt_str("hardwareTierId"),
            replicas=f.opt_int("replicas"), is_archived=f.opt_bool("isArchived"), is_async=f.opt_bool("isAsync"),
            environment_variables=f.parse_items("environmentVariables", EnvVar.from_api),
            active_version=f.opt_parse("activeVersion", ActiveVersion.from_api),
            access=f.opt_parse("access", ModelApiAccess.from_api) or ModelApiAccess(),
        )


@dataclass(frozen=True, slots=True)
class VersionSettings:
    """What a Model API version does with the calls it serves; fixed when the version is made."""

    log_http_request_response: bool = False  # requests and responses in the instance logs
    monitoring_enabled: bool = False  # prediction data captured for Domino's model monitoring
    record_invocation: bool = True  # each invocation recorded

    def describe(self) -> str:
        flags = (("request logging", self.log_http_request_response), ("monitoring", self.monitoring_enabled),
                 ("invocation recording", self.record_invocation))
        return ", ".join(f"{name} {'on' if on else 'off'}" for name, on in flags)


@dataclass(frozen=True, slots=True)
class ModelApiVersion:
    id: str
    model_api_id: str | None
    project_id: str | None
    number: int | None
    source: ModelSource
    description: str = ""
    labels: tuple[str, ...] = ()
    data_plane_id: str | None = None
    deployment: DeploymentStatus | None = None
    created_by: str | None = None
    settings: VersionSettings | None = None  # None: an answer that did not say

    @property
    def status(self) -> str | None:
        return self.deployment.status if self.deployment else None

    @property
    def request_id(self) -> str | None:
        """The id of the create request that made this version, when we made it."""
        found = REQUEST_MARKER.search(self.description)
        return found.group(1) if found else None

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> ModelApiVersion:
        f = Fields(payload, endpoint, path)
        metadata = f.opt_obj("metadata")
        flags = ("logHttpRequestResponse", "monitoringEnabled", "recordInvocation")
        settings = None if not all(f.present(k) and f.raw(k) is not None for k in flags) else VersionSettings(
            f.opt_bool(flags[0]), f.opt_bool(flags[1]), f.opt_bool(flags[2]))
        return cls(
            id=f.req_str("id"), model_api_id=f.opt_str("modelApiId"), project_id=f.opt_str("projectId"),
            number=f.opt_int("number"), source=f.req_parse("source", source_from_api),
            description=f.opt_str("description", "") or "", labels=f.str_list("labels"),
            data_plane_id=f.opt_str("dataPlaneId"), deployment=f.opt_parse("deployment", DeploymentStatus.from_api),
            created_by=metadata.opt_str("createdBy") if metadata else None, settings=settings,
        )


@dataclass(frozen=True, slots=True)
class LogLine:
    text: str
    stream: str | None = None  # "stdout", "stderr", ...

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> LogLine:
        f = Fields(payload, endpoint, path)
        return cls(f.opt_str("log", "") or "", f.opt_str("streamType"))


@dataclass(frozen=True, slots=True)
class VersionLogs:
    """A version's build, instance or export log: ``{logs: [{log, streamType, timeNano, ...}], ...}``."""

    status: str | None
    lines: tuple[LogLine, ...]

    def tail(self, count: int = 20) -> tuple[str, ...]:
        """The last ``count`` non-empty lines, for an error message."""
        kept = [line.text.rstrip("\n") for line in self.lines if line.text.strip()]
        return tuple(kept[-count:])

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> VersionLogs:
        f = Fields(payload, endpoint, path)
        return cls(f.opt_str("status"), f.parse_items("logs", LogLine.from_api))


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
        # Version numbers arrive as numbers or as digit strings (a published Domino example).
        release = None if rel is None else PredictionRelease(
            rel.opt_str("harness_version"), rel.opt_version_number("model_version_number"),
            rel.opt_str("registered_model_name"), rel.opt_version_number("registered_model_version"))
        return cls(f.raw("result"), f.opt_str("request_id"), f.opt_number("model_time_in_ms"), release)


@dataclass(frozen=True, slots=True)
class ExportStatus:
    """An image export to an external registry; poll until complete or failed."""

    status: str | None
    export_id: str | None = None
    error_message: str | None = None

    @property
    def is_complete(self) -> bool:
        return (self.status or "").lower() == "complete"

    @property
    def is_failed(self) -> bool:
        return (self.status or "").lower() == "failed"

    @classmethod
    def from_started(cls, payload: object, endpoint: str) -> ExportStatus:
        """exportImageToRegistry's 202: the v4 document's array of ModelExportVersionStatus (its
        first item; an empty one names no export), or the one object python-domino's tests record."""
        if isinstance(payload, list):
            return cls.from_api(payload[0], endpoint, path="$[0]") if payload else cls(None)
        return cls.from_api(payload, endpoint)

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> ExportStatus:
        """The answer of getExportImageStatus (one object or a list of one)."""
        f = Fields(one_item(payload, endpoint), endpoint, path)
        return cls(f.opt_str("status"), f.opt_str("exportId"), f.opt_str("errorMessage"))


@dataclass(frozen=True, slots=True)
class ExportLogs:
    """``getExportLogs``: the export's status and its log as one text."""

    status: str | None
    text: str

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> ExportLogs:
        f = Fields(one_item(payload, endpoint), endpoint, path)
        return cls(f.opt_str("status"), f.opt_str("logs", "") or "")


@dataclass(frozen=True, slots=True)
class RequestCount:
    """One ``ModelHttpRequestSnapshot`` of the v4 httpRequests route: calls answered with one status."""

    timestamp: str
    status: int
    count: int

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> RequestCount:
        f = Fields(payload, endpoint, path)
        return cls(f.req_str("timestamp"), f.req_int("status"), f.req_int("requestCount"))


@dataclass(frozen=True, slots=True)
class ResourceUse:
    """One ``ModelResourceUsageSnapshot`` of the v4 usage route: a pod's cpu and memory at a time."""

    timestamp: str
    cpu: float
    memory: float
    pod: str

    @classmethod
    def from_api(cls, payload: object, endpoint: str, *, path: str = "$") -> ResourceUse:
        f = Fields(payload, endpoint, path)
        cpu, memory = f.opt_number("cpu"), f.opt_number("memory")
        if cpu is None or memory is None:  # required by the document: say which
            raise bad(endpoint, f"{path}.{'cpu' if cpu is None else 'memory'} is missing")
        return cls(f.req_str("timestamp"), cpu, memory, f.req_str("pod"))


def snapshots(payload: object, endpoint: str, parser: Any) -> tuple[Any, ...]:
    """``{"snapshots": [...]}``, each item parsed."""
    return Fields(payload, endpoint).parse_items("snapshots", parser, required=True)
