"""The seam between the engine and the kinds of change: what a kind answers (``Kind``) and the
registry the engine asks (render, digest, the executor and api.plan loop over it and never name a
kind).

The kinds themselves (src/domino_mlops/kinds/: models, jobs, scheduled jobs, apps, exports) sit above the
apply layer, since carrying a change out is theirs; the engine below them reaches them only
through this registry, the way a plugin host reaches its plugins. The built-in kinds are loaded
on first use, by name (``_load_builtins``), so the engine imports none of them. Docs: docs/KINDS.md.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from domino_mlops.plan.steps import PHASES, WorkloadChange

if TYPE_CHECKING:
    from domino_mlops.connections import Connections
    from domino_mlops.desired.environments import Environment
    from domino_mlops.desired.load import Desired
    from domino_mlops.state.entries import LedgerEntry

BUILTIN_KINDS = "domino_mlops.kinds"  # its __init__ registers models, jobs, scheduled jobs, apps and exports, in that order

KINDS: tuple[Kind, ...] = ()
_builtins_loaded = False
_builtins_loading = False  # this thread is importing them (an RLock lets its own calls through)
_builtins_lock = threading.RLock()


@dataclass(frozen=True, slots=True)
class Description:
    """How the plan shows one change: the table's "kind" cell and each step as a sentence."""

    label: str
    steps: tuple[str, ...]


@runtime_checkable
class Kind(Protocol):
    """One kind of change. ``name``: its key in the registry (and in WorkloadChange.kind);
    ``ledger_kind``: what its ledger entries say they are (LedgerEntry.kind)."""

    name: str
    ledger_kind: str

    def select(self, desired: Desired, env: Environment, *, project: str | None = None,
               model: str | None = None) -> tuple[Any, ...]:
        """The specs one run is about, in the manifest's order (each has project_id, name, line)."""

    def observe(self, specs: Sequence[Any], env: Environment, connections: Connections, *, commit: str) -> Any:
        """What Domino (or whatever the kind writes to) shows of them now. Read-only."""

    def plan(self, specs: Sequence[Any], observed: Any, env: Environment, *, commit: str, action: str,
             ledger: Sequence[LedgerEntry]) -> tuple[Any, ...]:
        """The changes, pure: ``ledger``: the environment's entries, oldest first."""

    def describe(self, change: Any) -> Description:
        """The change as the plan shows it."""

    def digest(self, change: Any, env: Environment) -> Any:
        """What an approval of the change covers (plan/digest.py hashes it): JSON values only."""

    def apply(self, change: Any, run: Any) -> None:
        """Carry the change out, re-checking before each write; raise our error on failure.
        ``run``: the apply's WorkloadRun (apply/workload_run.py), named loosely so this seam in
        the plan layer imports nothing of the apply layer."""


def register(kind: Kind) -> Kind:
    """Add ``kind`` after the others (its name must be new); returns it, so it can decorate."""
    global KINDS
    _load_builtins()  # the built-in kinds come first, whoever registers first
    if any(known.name == kind.name for known in KINDS):
        raise ValueError(f"a kind named {kind.name!r} is registered already")
    KINDS = (*KINDS, kind)
    return kind


def unregister(kind: Kind) -> None:
    global KINDS
    KINDS = tuple(known for known in KINDS if known is not kind)


def workload_kinds() -> tuple[Kind, ...]:
    """Every kind but the one that moves in waves (its changes are the plan's ``changes``) and
    those with a verb of their own (exports: their specs come from the targets file, not from an
    environment's manifest, and an environment's run never exports)."""
    return tuple(kind for kind in kinds()
                 if not getattr(kind, "moves_in_waves", False) and not getattr(kind, "own_verb", False))


def kind_named(name: str) -> Kind:
    found = next((kind for kind in kinds() if kind.name == name), None)
    if found is None:
        raise KeyError(f"no kind named {name!r} is registered (plan/kinds.py; the built-in kinds: kinds/__init__.py)")
    return found


def kind_of(change: Any) -> Kind:
    """The kind that planned ``change`` (a ModelChange is the models')."""
    if not isinstance(change, WorkloadChange):
        return kind_named("model")
    return kind_named(change.kind or change.subject)


def in_run_order(changes: Iterable[WorkloadChange]) -> tuple[WorkloadChange, ...]:
    """By phase, then the manifest's order (its line; one without keeps its place after them)."""
    return tuple(sorted(changes, key=lambda c: (PHASES.index(c.phase), c.line is None, c.line or 0)))


def kinds() -> tuple[Kind, ...]:
    """The registered kinds, in the order the engine asks them (and reads what they write to):
    they observe in it (so a plan's requests come in a known order), and their changes keep it
    within a phase when they have no manifest line."""
    _load_builtins()
    return KINDS


def _load_builtins() -> None:
    """Import the built-in kinds once. Another thread waits until they are all registered (the
    executor's workers ask kinds side by side); the importing thread's own calls, which come back
    here from ``register``, go through."""
    global _builtins_loading, _builtins_loaded
    if _builtins_loaded:
        return
    with _builtins_lock:
        if _builtins_loaded or _builtins_loading:
            return
        _builtins_loading = True
        try:
            importlib.import_module(BUILTIN_KINDS)
        finally:
            _builtins_loading = False
        _builtins_loaded = True
