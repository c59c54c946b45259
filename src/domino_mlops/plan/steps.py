"""The typed steps a plan is made of. Frozen: a computed plan can be printed, diffed and re-checked."""

from __future__ import annotations

from dataclasses import dataclass, field


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


Step = MoveAlias | TransitionStage | SetTags


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

    @property
    def changed(self) -> bool:
        return bool(self.steps)


@dataclass(frozen=True, slots=True)
class Plan:
    environment: str
    alias: str
    stage_mode: str
    changes: tuple[ModelChange, ...]

    @property
    def changed(self) -> tuple[ModelChange, ...]:
        return tuple(change for change in self.changes if change.changed)

    @property
    def blocked(self) -> tuple[ModelChange, ...]:
        return tuple(c for c in self.changed if c.gate is not None and not c.gate.passed)
