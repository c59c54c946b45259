"""The typed steps a plan is made of. Frozen: a computed plan can be printed, diffed and re-checked.

A plan's changes have a subject: a model (Model APIs and its MLflow marking: ``ModelChange``), or
any other kind of change (``WorkloadChange``: a job run, a scheduled job, an app, ...; steps
``RunJob``, ``ScheduleJob``, ``PublishApp``, ``SetAppVisibility``). Each kind's module (kinds/)
plans its changes and carries out its steps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from domino_mlops.clients.domino.serving_types import VersionSettings
from domino_mlops.plan.actions import PlanAction

if TYPE_CHECKING:
    from domino_mlops.clients.mlflow.types import ModelVersionInfo
    from domino_mlops.desired.manifest import SmokeTest as SmokeSpec


@dataclass(frozen=True, slots=True)
class MoveAlias:
    """Point `alias` at `to_version`, only if it is still at `from_version` (compare-and-swap)."""

    model: str
    alias: str
    from_version: str | None
    to_version: str
    kind: str = field(default="move_alias", init=False)

    def describe(self) -> str:
        return f"move alias @{self.alias}: {self.from_version or '(none)'} -> {self.to_version}"


@dataclass(frozen=True, slots=True)
class TransitionStage:
    """Legacy stages: put `version` in `stage`, archiving `archive` (the previous holders)."""

    model: str
    version: str
    stage: str
    archive: tuple[str, ...] = ()
    kind: str = field(default="transition_stage", init=False)

    def describe(self) -> str:
        archived = f" (archive {', '.join(self.archive)})" if self.archive else ""
        return f"stage {self.stage}: version {self.version}{archived}"


@dataclass(frozen=True, slots=True)
class SetTags:
    model: str
    version: str
    tags: tuple[tuple[str, str], ...]
    kind: str = field(default="set_tags", init=False)

    def describe(self) -> str:
        return "tags " + ", ".join(f"{k}={v}" for k, v in self.tags)


@dataclass(frozen=True, slots=True)
class CopyVersion:
    """The separated topology: copy the exact version that passed ``requires`` into the
    environment's own registered model (as MLflow's ``copy_model_version`` does: source
    ``models:/<model>/<version>``, its run id and tags), so the environment's credential never
    writes the model the earlier environments mark.

    copied: the destination version that holds it already (found by its SOURCE_TAG); None: copy now.
    """

    model: str
    version: str
    registered_model: str
    requires: str | None = None
    copied: str | None = None
    kind: str = field(default="copy_version", init=False)

    def describe(self) -> str:
        passed = f" (passed {self.requires})" if self.requires else ""
        copy = f"copy {self.model} v{self.version}{passed} -> {self.registered_model}"
        return f"{copy}: already copied as v{self.copied}" if self.copied is not None else f"{copy} v(new)"


@dataclass(frozen=True, slots=True)
class DeployVersion:
    """Make `model` version `version` the active version of one Model API on one hardware tier.

    action: "create_model_api" (none exists), "create_version" (no usable version from this
    registry source), "start_version" (one exists, e.g. the version we roll back to),
    "failed_before" (the version built from this source failed: refused, not built again), or
    "none" (it already serves; kept in the plan only when later steps still need to run).
    """

    model: str
    version: str
    project_id: str
    model_api_name: str
    hardware_tier: str | None
    wave: int
    action: str
    model_api_id: str | None = None
    version_id: str | None = None  # the existing version to start, or the one already serving
    previous_version_id: str | None = None  # what serves now: put back if the new one fails
    settings: VersionSettings | None = None  # what a new version records of its calls
    replicas: int | None = None  # how many the Model API should run (None: a plan made before replicas were planned)
    # Drift of an existing Model API, set by Domino's ModelApiUpdateRequest (PUT) before the deploy:
    move_from: str | None = None  # the tier it runs on now, when the environment's waves moved it
    replicas_from: int | None = None  # its replicas now, when the manifest or environment changed them
    kind: str = field(default="deploy_version", init=False)

    @property
    def reconfigures(self) -> bool:
        """The Model API's settings change (tier, replicas), whatever happens to its versions."""
        return self.move_from is not None or self.replicas_from is not None

    def describe(self) -> str:
        where = f"{self.model_api_name} on {self.hardware_tier or 'default tier'} (wave {self.wave + 1})"
        verb = {"create_model_api": "create Model API", "create_version": "publish a new version of",
                "start_version": f"restart version {self.version_id} of", "none": "already serving on",
                "failed_before": f"not building again (version {self.version_id} failed to build) on"}
        made = self.action in ("create_model_api", "create_version") and self.settings is not None
        drift = ([f"move from {self.move_from}"] if self.move_from is not None else []) + (
            [f"replicas {self.replicas_from} -> {self.replicas}"] if self.replicas_from is not None else [])
        return (f"{verb.get(self.action, self.action)} {where}" + (f" ({self.settings.describe()})" if made else "")
                + (f" ({'; '.join(drift)})" if drift else ""))


@dataclass(frozen=True, slots=True)
class SmokeTest:
    """Wait for Running, then call the deployed model and check the answer.

    access: how the call authenticates: "token" (one of the Model API's access tokens, from
    ``token_source``), "public" (an unrestricted Model API), "none" (no way to call it: the test
    is skipped with a warning, or refused when the environment requires it), "disabled" (the
    environment turns smoke tests off), or "unknown" (a plan made where the tokens cannot be seen).
    """

    model: str
    model_api_name: str
    hardware_tier: str | None
    access: str = "token"
    token_source: str | None = None  # e.g. DOMINO_MODEL_TOKENS[churn]; never the token itself
    kind: str = field(default="smoke_test", init=False)

    def describe(self) -> str:
        if self.access == "disabled":
            return "wait for Running (smoke tests are off in this environment)"
        if self.access == "unknown":
            return f"wait for Running and smoke-test {self.model_api_name} (with the deploy's access token, if any)"
        if self.access == "none":
            return f"wait for Running; smoke test of {self.model_api_name} skipped: no access token"
        how = f"with {self.token_source}" if self.access == "token" else "(public Model API)"
        return f"wait for Running and smoke-test {self.model_api_name} {how}"


@dataclass(frozen=True, slots=True)
class RecordLedger:
    environment: str
    model: str
    from_version: str | None
    to_version: str
    action: PlanAction  # what the ledger records: the apply's word ("plan" in a plan made for review only)
    subject: str = "model"  # model | job | app: what `model` names (the ledger's kind)
    kind: str = field(default="record_ledger", init=False)

    def describe(self) -> str:
        return f"record {self.action} {self.from_version or '(none)'} -> {self.to_version} in the ledger"


@dataclass(frozen=True, slots=True)
class RunJob:
    """Run a Domino job for this commit and definition (``marker`` in its title), wait for it,
    and fail with its last log lines if it fails.

    action: "start" (no job carries the marker, or every one failed), or "wait" (one is still
    running: a re-run joins it instead of starting a second).
    """

    job: str
    project_id: str
    command: str
    marker: str  # the key in the job's title: a digest of the definition and the commit, plus the attempt
    action: Literal["start", "wait"] = "start"
    variables: tuple[tuple[str, str], ...] = ()  # DOMINO_ENV first
    hardware_tier: str | None = None
    environment_id: str | None = None
    commit: str | None = None
    branch: str | None = None
    gate: bool = True
    job_id: str | None = None  # the running job to wait for ("wait")
    kind: str = field(default="run_job", init=False)

    def describe(self) -> str:
        if self.action == "wait":
            return f"wait for job {self.job!r} (already started for this commit)"
        where = self.hardware_tier or "the project's default tier"
        return f"run job {self.job!r} on {where}" + (" (gate for the models)" if self.gate else "")


@dataclass(frozen=True, slots=True)
class ScheduleJob:
    """Create or replace the environment's scheduled job: Domino runs it on its own clock.

    action: "create" (none carries the job's identity in its title) or "update" (one does, with
    another definition: replaced whole). ``marker``: identity and definition digest.
    """

    job: str
    project_id: str
    command: str
    marker: str
    cron: str
    timezone: str
    action: Literal["create", "update"] = "create"
    variables: tuple[tuple[str, str], ...] = ()  # DOMINO_ENV first
    hardware_tier: str | None = None  # None: the project's default tier (Domino requires one)
    environment_id: str | None = None
    commit: str | None = None
    branch: str | None = None
    scheduled_id: str | None = None  # the scheduled job replaced ("update")
    kind: str = field(default="schedule_job", init=False)

    def describe(self) -> str:
        verb = "schedule" if self.action == "create" else "reschedule"
        return f"{verb} job {self.job!r} at {self.cron!r} ({self.timezone}) on {self.hardware_tier or 'the default tier'}"


@dataclass(frozen=True, slots=True)
class AppInstanceRef:
    """Where an app ran before this run: what a put-back starts again."""

    commit_id: str | None
    hardware_tier: str | None
    environment_id: str | None
    version_id: str | None = None  # public Apps API: the version that ran (its definition is published again)
    entry_point: str | None = None


@dataclass(frozen=True, slots=True)
class PublishApp:
    """Publish (or restart) an app on the environment's tier, wait until Running, smoke-check its
    page; on failure publish ``previous`` again (its commit, tier, compute environment and, on the
    public Apps API, its entry point: docs/JOBS_AND_APPS.md).

    action: "create" (no app of that name: create, then start) or "start" (restart the existing one).
    """

    app: str  # the Domino app's name: <manifest name>-<environment> (desired/naming.py)
    project_id: str
    action: Literal["create", "start"]
    hardware_tier: str | None = None
    environment_id: str | None = None
    commit: str | None = None
    branch: str | None = None
    visibility: str = "GRANT_BASED"
    entry_point: str | None = None
    smoke_path: str = "/"
    app_id: str | None = None
    previous: AppInstanceRef | None = None  # None: nothing ran before, a failure stops the app
    reason: str = ""  # why it is (re)started: what differs from what runs
    kind: str = field(default="publish_app", init=False)

    def describe(self) -> str:
        verb = "create and publish" if self.action == "create" else "restart"
        why = f" ({self.reason})" if self.reason else ""
        return f"{verb} app {self.app!r} on {self.hardware_tier or 'the default tier'}{why}, smoke-check {self.smoke_path}"


@dataclass(frozen=True, slots=True)
class SetAppVisibility:
    """Change who may open a running app; the app keeps running (no restart)."""

    app: str
    app_id: str
    from_visibility: str | None
    to_visibility: str
    kind: str = field(default="set_app_visibility", init=False)

    def describe(self) -> str:
        return f"visibility of app {self.app!r}: {self.from_visibility or '(none)'} -> {self.to_visibility}"


Step = CopyVersion | DeployVersion | SmokeTest | SetTags | TransitionStage | MoveAlias | RecordLedger
WorkloadStep = RunJob | ScheduleJob | PublishApp | SetAppVisibility | RecordLedger


BEFORE_MODELS, AFTER_MODELS, APPS = "before_models", "after_models", "apps"
PHASES = (BEFORE_MODELS, AFTER_MODELS, APPS)  # the models run between the first two


@dataclass(frozen=True, slots=True)
class WorkloadChange:
    """A job run, an app (or a change of another kind) in one environment: its steps (none:
    already done) and where it stands.

    ``phase`` orders it around the models: "before_models" (a validation or training job, a gate
    when ``gate``), "after_models" (a job after them), "apps" (last, on what the models serve).
    """

    subject: str  # what its ledger entries and the plan call it: job | app | another kind's
    name: str
    project_id: str
    phase: Literal["before_models", "after_models", "apps"]
    steps: tuple[WorkloadStep, ...]
    observed: str = ""  # what Domino shows now, for the plan's reader
    gate: bool = False
    line: int | None = None
    digest: str = ""  # what the approval covers (plan/digest.py): the definition in this environment
    listed_under: str = ""  # the project the manifest lists it under (project_id may be the environment's)
    kind: str = ""  # the registered kind that planned it and carries it out (kinds/); "": ``subject``'s

    @property
    def changed(self) -> bool:
        return bool(self.steps)


@dataclass(frozen=True, slots=True)
class Gate:
    """Whether the exact version passed the environment this one requires."""

    requires: str
    passed: bool
    detail: str


@dataclass(frozen=True, slots=True)
class ModelChange:
    project_id: str
    model: str
    requested: str  # as the manifest says it: "3" or "@candidate"
    version: str  # the resolved version number
    current: str | None  # what the environment's alias (or stage) points at now
    run_id: str | None
    steps: tuple[Step, ...]
    gate: Gate | None = None
    line: int | None = None
    smoke: SmokeSpec | None = None  # the manifest entry's smoke_test settings, if any
    replicas: int | None = None
    # The registry version the plan read (immutable), so the apply need not read it again.
    target: ModelVersionInfo | None = field(default=None, compare=False, repr=False)
    held_back: str | None = None  # why a forward change leaves this model alone (plan/forward.py)
    manifest_project: str = ""  # the project the manifest lists it under (project_id may be the environment's)
    # Every data plane as observed (action "none" where the version already serves), steps or not:
    # what a run that changes nothing reports as the endpoint.
    serving: tuple[DeployVersion, ...] = field(default=(), compare=False, repr=False)
    # A rollback: the version it moves the environment back from (the ledger's, checked against the
    # alias). Approved with the plan, so an old rollback re-run after a newer promotion is refused.
    rolls_back_from: str | None = None
    # The separated topology: ``model`` is the environment's own registered model and ``version``
    # its copy (NEW_VERSION until made) of the manifest's ``source_model`` version ``source_version``.
    source_model: str = ""
    source_version: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.steps)

    @property
    def manifest_model(self) -> str:
        """The model's name in the manifest: what names its Model APIs and its access tokens."""
        return self.source_model or self.model

    @property
    def copy_step(self) -> CopyVersion | None:
        return next((step for step in self.steps if isinstance(step, CopyVersion)), None)

    @property
    def registry_project(self) -> str:
        """Whose credential reads and marks the model in MLflow: the project the manifest lists it
        under (an environment's own Domino project serves it, but the model lives here)."""
        return self.manifest_project or self.project_id

    @property
    def deploys(self) -> tuple[DeployVersion, ...]:
        return tuple(step for step in self.steps if isinstance(step, DeployVersion))


@dataclass(frozen=True, slots=True)
class Plan:
    environment: str
    alias: str
    stage_mode: str
    changes: tuple[ModelChange, ...]
    domino_observed: bool = True  # False: Domino was not configured, only MLflow was read
    warnings: tuple[str, ...] = ()  # what the planner could not establish and went ahead without
    workloads: tuple[WorkloadChange, ...] = ()  # jobs and apps, in the manifest's order within a phase
    # The environment's analysis of each wave (Analysis.describe()), "" when it has none: shown with the plan.
    analysis: str = ""

    @property
    def changed(self) -> tuple[ModelChange, ...]:
        return tuple(change for change in self.changes if change.changed)

    @property
    def blocked(self) -> tuple[ModelChange, ...]:
        return tuple(c for c in self.changed if c.gate is not None and not c.gate.passed)

    @property
    def held_back(self) -> tuple[ModelChange, ...]:
        return tuple(change for change in self.changes if change.held_back)

    def phase(self, name: str) -> tuple[WorkloadChange, ...]:
        return tuple(w for w in self.workloads if w.phase == name)

    @property
    def changed_workloads(self) -> tuple[WorkloadChange, ...]:
        return tuple(w for w in self.workloads if w.changed)

    @property
    def has_work(self) -> bool:
        """Anything to write: a model, a job or an app."""
        return bool(self.changed) or bool(self.changed_workloads)

    def line_of(self, model: str) -> int | None:
        """The manifest line of the model's entry, for annotations."""
        return next((c.line for c in self.changes if c.model == model), None)
