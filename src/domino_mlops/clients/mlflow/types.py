"""What the registry says about models and versions: immutable values, no I/O.

Their own module so that the planner, which reasons about them, never imports an HTTP client.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# The separated topology (observed/copies.py, plan/copied.py): the destination version of a copy
# not made yet (MLflow numbers it when the apply creates it), and the tag a copy carries.
NEW_VERSION = "new"
SOURCE_TAG = "domino_mlops.source"  # on a copied version: "<source model>/<version>"


@dataclass(frozen=True, slots=True)
class ModelVersionInfo:
    """An immutable identity of one registered version plus what the registry says about it."""

    name: str
    version: str
    run_id: str | None
    source: str
    current_stage: str = "None"
    status: str = "READY"
    aliases: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()  # sorted (key, value) pairs: hashable and printable
    user_id: str | None = None

    @property
    def tag_map(self) -> dict[str, str]:
        return dict(self.tags)


@dataclass(frozen=True, slots=True)
class ModelHead:
    """A registered model without its versions: its own tags (the leases live there) and its
    aliases, as one `registered-models/get` or one row of a `registered-models/search` tells."""

    name: str
    tags: tuple[tuple[str, str], ...] = ()  # sorted (key, value) pairs
    aliases: tuple[tuple[str, str], ...] = ()  # (alias, version) sorted

    @property
    def tag_map(self) -> dict[str, str]:
        return dict(self.tags)

    @property
    def alias_map(self) -> dict[str, str]:
        return dict(self.aliases)


@dataclass(frozen=True, slots=True)
class RegisteredModelInfo:
    name: str
    aliases: tuple[tuple[str, str], ...] = ()  # (alias, version) sorted
    versions: tuple[ModelVersionInfo, ...] = field(default=())
    # False: ``versions`` holds only the newest version of each stage (a `registered-models/search`
    # row's latest_versions), read so because they answered all the reader was asked.
    complete: bool = True

    @property
    def alias_map(self) -> dict[str, str]:
        return dict(self.aliases)

    def version(self, number: str) -> ModelVersionInfo | None:
        return next((v for v in self.versions if v.version == str(number)), None)

    def in_stage(self, stage: str) -> tuple[ModelVersionInfo, ...]:
        return tuple(v for v in self.versions if v.current_stage == stage)
