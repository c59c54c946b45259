"""What a kind of change is: one module answers select, observe, plan, describe, apply and ledger.

The engine (api.plan_jobs_and_apps, plan/render.py, plan/digest.py, apply/executor.py,
report/results.py) never names a kind: it loops over the registry (plan/kinds.py) and asks
each kind. A new kind is one module implementing ``Kind`` plus one ``register`` call
(docs/KINDS.md). The models are the kind whose changes move in waves (kinds/models.py); every
other kind plans ``WorkloadChange`` values that run one after the other in their phase.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from domino_mlops.plan.kinds import Description, Kind
from domino_mlops.plan.steps import RecordLedger, WorkloadChange

__all__ = ["Description", "Handler", "Kind", "WorkloadKind", "short_digest"]

if TYPE_CHECKING:
    from domino_mlops.state.ledger import LedgerEntry
    from domino_mlops.apply.workload_run import WorkloadRun
    from domino_mlops.desired.environments import Environment
    from domino_mlops.desired.load import Desired


Handler = Callable[[Any, "WorkloadRun"], None]


class WorkloadKind:
    """A kind whose changes are WorkloadChange values, carried out step by step in their phase.

    A subclass sets ``name`` and ``ledger_kind`` and writes ``candidates``, ``observe``, ``plan``
    and ``handlers`` (one per step type it plans; the ledger step is handled here). What reads or
    writes is imported inside ``observe`` and ``handlers``: render and digest ask a kind to
    describe a change, and the plan's side of the library stays free of HTTP."""

    name: ClassVar[str]
    ledger_kind: ClassVar[str]

    def handlers(self) -> Mapping[type, Handler]:
        return {}

    def candidates(self, desired: Desired, env: Environment) -> tuple[Any, ...]:
        raise NotImplementedError

    def select(self, desired: Desired, env: Environment, *, project: str | None = None,
               model: str | None = None) -> tuple[Any, ...]:
        # A run about one model (a workflow_dispatch of a version) leaves every other kind alone.
        if model is not None:
            return ()
        return tuple(spec for spec in self.candidates(desired, env) if project in (None, spec.project_id))

    def describe(self, change: WorkloadChange) -> Description:
        return Description(change.subject, tuple(step.describe() for step in change.steps))

    def digest(self, change: WorkloadChange, env: Environment) -> list[str]:
        return [change.subject, change.project_id, change.name, change.phase, change.digest]

    def apply(self, change: WorkloadChange, run: WorkloadRun) -> None:
        from domino_mlops.apply.workload_run import record_workload

        handlers = self.handlers()
        for step in change.steps:
            handler = record_workload if isinstance(step, RecordLedger) else handlers[type(step)]
            handler(step, run)

    def recorded(self, ledger: Sequence[LedgerEntry]) -> set[tuple[str, str, str]]:
        """(kind, name, version) of every ledger entry of this kind."""
        return {(entry.kind, entry.subject, entry.to_version) for entry in ledger if entry.kind == self.ledger_kind}


def short_digest(document: object) -> str:
    """16 hex digits of a JSON document: the marker keys and definition digests kinds plan with."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
