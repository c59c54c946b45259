"""The registered kinds, in the order the engine asks them (and reads what they write to).

The order is part of the behaviour: kinds observe in it (so a plan's requests come in a known
order) and their changes keep it within a phase when they have no manifest line. A new kind is
registered once, at import of the module that defines it (or by a test, then unregistered).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domino_mlops.kinds.apps import APPS_KIND
from domino_mlops.kinds.jobs import JOBS
from domino_mlops.kinds.models import MODELS, Models
from domino_mlops.kinds.protocol import Kind
from domino_mlops.kinds.scheduled_jobs import SCHEDULED_JOBS
from domino_mlops.plan.steps import PHASES, WorkloadChange

# The models first: they observe and plan first (api.plan), and the others' phases are around them.
KINDS: tuple[Kind | Models, ...] = (MODELS, JOBS, SCHEDULED_JOBS, APPS_KIND)


def register(kind: Kind) -> Kind:
    """Add ``kind`` after the others (its name must be new); returns it, so it can decorate."""
    global KINDS
    if any(known.name == kind.name for known in KINDS):
        raise ValueError(f"a kind named {kind.name!r} is registered already")
    KINDS = (*KINDS, kind)
    return kind


def unregister(kind: Kind) -> None:
    global KINDS
    KINDS = tuple(known for known in KINDS if known is not kind)


def workload_kinds() -> tuple[Kind, ...]:
    """Every kind but the one that moves in waves (its changes are the plan's ``changes``)."""
    return tuple(kind for kind in KINDS if not getattr(kind, "moves_in_waves", False))


def kind_named(name: str) -> Kind | Models:
    found = next((kind for kind in KINDS if kind.name == name), None)
    if found is None:
        raise KeyError(f"no kind named {name!r} is registered (kinds/registry.py)")
    return found


def kind_of(change: Any) -> Kind | Models:
    """The kind that planned ``change`` (a ModelChange is the models')."""
    if not isinstance(change, WorkloadChange):
        return MODELS
    return kind_named(change.kind or change.subject)


def in_run_order(changes: Iterable[WorkloadChange]) -> tuple[WorkloadChange, ...]:
    """By phase, then the manifest's order (its line; one without keeps its place after them)."""
    return tuple(sorted(changes, key=lambda c: (PHASES.index(c.phase), c.line is None, c.line or 0)))
