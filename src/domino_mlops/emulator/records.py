"""The records the emulated Domino keeps: plain mutable dataclasses that round-trip through JSON.

These are server state, not domain values, so they are mutable (the world changes them under
its lock). Nested parts stay JSON-native (dicts, lists) so a state file is ``asdict`` away.
Times are epoch seconds of the emulator's clock (``Context.now()``: the wall clock, or a test's
``ManualClock``): a status is computed from them, which is why a restarted emulator picks up a
deployment exactly where it was.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(slots=True)
class Project:
    id: str
    name: str
    owner: str
    owner_id: str
    description: str = ""
    commits: list[str] = field(default_factory=list)  # newest first, 40-hex ids
    created: float = 0.0


@dataclass(slots=True)
class Credential:
    secret: str
    kind: str  # "api_key" (X-Domino-Api-Key) or "token" (Authorization: Bearer)
    username: str
    projects: list[str] = field(default_factory=list)  # project ids
    admin: bool = False  # may touch every project
    read_only: bool = False  # a read-only project role (Results Consumer): reads yes, writes 403
    # A service account's token (public tag ServiceAccounts): its projects are the account's,
    # read at each call; ``name`` is the token's name, unique per account.
    service_account: str = ""  # the account's idpId
    name: str = ""
    created: float = 0.0
    valid: bool = True


@dataclass(slots=True)
class ServiceAccount:
    """``ServiceAccount`` of the public API: a non-human user whose tokens are Bearer credentials."""

    id: str
    idp_id: str
    username: str
    email: str
    projects: list[str] = field(default_factory=list)  # where an admin made it a collaborator
    active: bool = True


@dataclass(slots=True)
class DataPlane:
    id: str
    name: str


@dataclass(slots=True)
class HardwareTier:
    id: str
    name: str
    data_plane_id: str
    is_default: bool = False
    cents_per_minute: float = 0.0
    cores: float = 1.0
    memory_gib: float = 2.0
    projects: list[str] | None = None  # None: offered to every project
    created: float = 0.0


@dataclass(slots=True)
class Environment:
    id: str
    name: str
    visibility: str = "Global"  # or "Private"


@dataclass(slots=True)
class ModelApi:
    id: str
    project_id: str
    name: str
    description: str
    environment_id: str
    hardware_tier_id: str
    replicas: int
    is_async: bool
    strict_node_anti_affinity: bool
    environment_variables: list[dict[str, str]]  # [{"key", "value"}]
    created: float
    created_by: str
    last_modified: float
    is_archived: bool = False
    active_version_id: str | None = None  # what Domino reports: the version last deployed
    serving_version_id: str | None = None  # what answers calls: the last version that reached Running
    is_public: bool = False  # Domino's default: a Model API is restricted to its access tokens
    # {"id", "name", "token", "created", "created_by", "last_generated", "last_generated_by"}; an
    # admin issues them in Domino's UI (here: /_emulator routes, Emulator helpers, the seed file)
    access_tokens: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class AccessRule:
    """A seed file's ``model_api_access`` entry: applied to the Model API of that project and
    name whenever one exists (see ``access.apply_rules``)."""

    id: str  # "<project id>/<Model API name>"
    project_id: str
    model_api: str
    public: bool = False
    tokens: list[dict[str, str]] = field(default_factory=list)  # {"name", "token"}


@dataclass(slots=True)
class ModelVersion:
    id: str
    model_api_id: str
    project_id: str
    number: int
    source: dict[str, Any]
    description: str
    created: float
    created_by: str
    log_http_request_response: bool
    monitoring_enabled: bool
    record_invocation: bool
    data_plane_id: str
    seconds: float  # how long a build + start takes for this version
    build_started: float
    build_done: float | None = None  # the model load finished (loaded or failed) at this time
    build_error: str | None = None  # why it failed
    deploy_started: float | None = None  # None: built but never asked to run
    stopped_at: float | None = None
    commit_id: str = ""  # the project's commit the version was built from
    environment_id: str = ""  # its revision id is derived (see views)
    build_id: str = ""  # a new one for every (re)build
    build_log: list[dict[str, Any]] = field(default_factory=list)  # {"time": epoch s, "log": line}
    instance_log: list[dict[str, Any]] = field(default_factory=list)
    # The calls it answered, per minute and status: {"<epoch minute>/<status>": count} (emulator/metrics.py).
    http_requests: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class Job:
    id: str
    number: int
    project_id: str
    title: str
    command: str
    hardware_tier_id: str
    environment_id: str
    commit_id: str
    started_by: str
    submitted: float
    seconds: float
    fails: bool
    stopped_at: float | None = None
    # What the job's process sees: the variables of the command's `env NAME=value ...` prefix,
    # the only way a job start (NewJobV1) carries them (docs/JOBS_AND_APPS.md).
    variables: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class ScheduledJob:
    """A job Domino starts on its clock (v4 ``ScheduledJobDto``); the emulator keeps it, never fires it."""

    id: str
    project_id: str
    title: str
    command: str
    cron: str
    timezone: str
    hardware_tier_id: str
    scheduled_by_user_id: str
    created: float
    is_custom: bool = True
    is_paused: bool = False
    allow_concurrent: bool = False
    environment_id: str | None = None  # overrideEnvironmentId
    environment_revision_spec: Any = "ActiveRevision"  # a string, or {"revisionId"}
    notify: list[str] = field(default_factory=list)
    main_repo_git_ref: dict[str, Any] | None = None  # {"type", "value"}


@dataclass(slots=True)
class App:
    id: str
    project_id: str
    name: str
    created: float
    seconds: float
    hardware_tier_id: str | None = None
    environment_id: str | None = None
    started: float | None = None
    stopped_at: float | None = None
    instance_id: str | None = None  # a new one for every start
    description: str = ""
    permissions: dict[str, Any] = field(default_factory=dict)  # permissionsData as created
    entry_point: str | None = None
    commit_id: str | None = None  # the project commit the current instance runs
    started_by: str = ""
    fails: bool = False  # the current instance fails to start (failing_app_pattern, fault plan)
    # Earlier instances, oldest first: {"id", "started", "ended", "commit_id", "hardware_tier_id",
    # "environment_id", "started_by", "status"}; the current one is in the fields above.
    history: list[dict[str, Any]] = field(default_factory=list)
    # Public Apps API: the version the current instance runs (None: started through v4), and every
    # version, oldest first: {"id", "created", "hardware_tier_id", "environment_id", "git_ref",
    # "publisher", "instances": [instance ids]}. history rows then carry their "version_id".
    version_id: str | None = None
    versions: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class Export:
    id: str
    model_api_id: str
    version_id: str
    project_id: str
    registry_url: str
    repository: str
    tag: str
    created: float
    seconds: float
    fails: bool


@dataclass(slots=True)
class MonitoredModel:
    """A model registered in Domino's Model Monitor: ``id`` is the ``modelMonitoringId`` of the
    public custom metrics routes. It belongs to a project; who may see the project may use it."""

    id: str
    project_id: str
    name: str
    created: float = 0.0


@dataclass(slots=True)
class MetricValue:
    """One logged value (``NewMetricValueV1``); ``at`` is the reference time in epoch seconds."""

    id: str
    model_monitoring_id: str
    metric: str
    value: float
    reference_timestamp: str  # RFC 3339 in UTC, as the emulator answers it
    at: float
    tags: list[dict[str, str]] = field(default_factory=list)
    logged: float = 0.0


@dataclass(slots=True)
class MetricAlert:
    """A sent alert (``MetricAlertRequestV1``), kept so tests can read what would have been notified."""

    id: str
    model_monitoring_id: str
    metric: str
    value: float
    target_range: dict[str, Any]
    description: str = ""
    sent: float = 0.0
    sent_by: str = ""


def to_dict(record: Any) -> dict[str, Any]:
    return asdict(record)


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Build a record from its ``to_dict`` form; unknown keys are ignored, missing ones default."""
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: v for k, v in data.items() if k in names})
