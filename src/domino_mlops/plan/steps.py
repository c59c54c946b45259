"""The typed steps a plan is made of. Frozen: a computed plan can be printed, diffed and re-checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from domino_mlops.clients.domino_serving_types import VersionSettings

if TYPE_CHECKING:
    from domino_mlops.clients.mlflow import ModelVersionInfo


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
    kind: str = field(default="deploy_version", init=False)

    def describe(self) -> str:
        where = f"{self.model_api_name} on {self.hardware_tier or 'default tier'} (wave {self.wave + 1})"
        verb = {"create_model_api": "create Model API", "create_version": "publish a new version of",
                "start_version": f"restart version {self.version_id} of", "none": "already serving on",
                "failed_before": f"not building again (version {self.version_id} failed to build) on"}
        made = self.action in ("create_model_api", "create_version") and self.settings is not None
        return f"{verb.get(self.action, self.action)} {where}" + (f" ({self.settings.describe()})" if made else "")


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
    action: str  # deploy | promote | rollback
    kind: str = field(default="record_ledger", init=False)

    def describe(self) -> str:
        return f"record {self.action} {self.from_version or '(none)'} -> {self.to_version} in the ledger"


Step = DeployVersion | SmokeTest | SetTags | TransitionStage | MoveAlias | RecordLedger


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
    smoke: object | None = None  # the manifest entry's SmokeTest settings, if any
    replicas: int | None = None
    # The registry version the plan read (immutable), so the apply need not read it again.
    target: ModelVersionInfo | None = field(default=None, compare=False, repr=False)
    held_back: str | None = None  # why a forward change leaves this model alone (plan/forward.py)
    manifest_project: str = ""  # the project the manifest lists it under (project_id may be the environment's)
    # Every data plane as observed (action "none" where the version already serves), steps or not:
    # what a run that changes nothing reports as the endpoint.
    serving: tuple[DeployVersion, ...] = field(default=(), compare=False, repr=False)

    @property
    def changed(self) -> bool:
        return bool(self.steps)

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

    @property
    def changed(self) -> tuple[ModelChange, ...]:
        return tuple(change for change in self.changes if change.changed)

    @property
    def blocked(self) -> tuple[ModelChange, ...]:
        return tuple(c for c in self.changed if c.gate is not None and not c.gate.passed)

    @property
    def held_back(self) -> tuple[ModelChange, ...]:
        return tuple(change for change in self.changes if change.held_back)

    def line_of(self, model: str) -> int | None:
        """The manifest line of the model's entry, for annotations."""
        return next((c.line for c in self.changes if c.model == model), None)
