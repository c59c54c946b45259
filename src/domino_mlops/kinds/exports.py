"""Exports: a model version tagged ``TARGET_<NAME>`` built into a container image and pushed to
the target's registry (or exported by Domino), then tagged ``domino_mlops.export.<target>``.

Its specs are the targets of the targets file (desired/targets.py), not a manifest's entries, and
it has a verb of its own (api.export, its own GitHub environment and schedule): an environment's
run never exports (``own_verb``). What it observes is each target's tagged versions (one MLflow
search per target, observed/exports.py); the plan is plan/export_plan.py's, pure, with the digest
an approval covers; each version is exported by apply/export_run.py's per-version work, over the
build machinery (export_build.py, export_context.py, export_server.py, export_templates/). The
ledger records each export as a "model" entry, action "export", environment ``export:<TARGET>``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from domino_mlops.desired.targets import Target, Targets
from domino_mlops.observed.export_snapshot import TargetSnapshot
from domino_mlops.plan.export_plan import ExportItem, ExportPlan, plan_exports
from domino_mlops.plan.kinds import Description

if TYPE_CHECKING:
    from domino_mlops.apply.export_run import ExportOutcome, ExportRun
    from domino_mlops.connections import Connections
    from domino_mlops.desired.environments import Environment
    from domino_mlops.state.entries import LedgerEntry


class Exports:
    name = "export"
    ledger_kind = "model"  # an export's entry is about a model version (action "export")
    own_verb = True  # planned and approved by api.export alone (plan/kinds.py: workload_kinds)

    def select(self, targets: Targets, env: Environment | None = None, *, target: str | None = None,
               **_: Any) -> tuple[Target, ...]:
        """Every target of the file, or the one named (``--target``; NotFound otherwise)."""
        return targets.select(target)

    def observe(self, specs: Sequence[Target], env: Environment | None, connections: Connections, *,
                commit: str = "") -> tuple[TargetSnapshot, ...]:
        """Each target's tagged versions, with the credential of the target's project."""
        from domino_mlops.observed.exports import observe_targets

        return observe_targets(specs, connections.registry)

    def plan(self, specs: Sequence[Target], observed: Sequence[TargetSnapshot], env: Environment | None = None, *,
             commit: str = "", action: str = "export", ledger: Sequence[LedgerEntry] = ()) -> ExportPlan:
        """Pure: which versions go where (export, done before, waiting), with the plan's digest."""
        planned = plan_exports(specs, observed)
        return replace(planned, digest=self.plan_digest(planned, env))

    def describe(self, change: ExportItem) -> Description:
        return Description(change.mode, (change.describe(),))

    def digest(self, change: ExportItem, env: Environment | None = None) -> list[str]:
        """Where the version goes: target, model, version, mode and the image reference it is pushed as."""
        return [change.target, change.model, change.version, change.mode, change.image]

    def plan_digest(self, plan: ExportPlan, env: Environment | None = None) -> str:
        """sha256 (hex) of the targets and every version exported or to export. A version exported
        meanwhile (a partial first attempt, another run) still counts, so a re-run has the digest
        the reviewer approved; a waiting version does not count, since nothing is written for it:
        once it can be exported, the plan is a new one."""
        document = {"targets": list(plan.targets),
                    "exports": [self.digest(item, env) for item in plan.items if item.action != "waiting"]}
        text = json.dumps(document, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def apply(self, change: ExportItem, run: ExportRun) -> ExportOutcome:
        """Export one version (apply/export_run.py: check again, build and push or Domino's export,
        ledger entry, tag last); raise our error on failure, with nothing tagged."""
        from domino_mlops.apply.export_run import export_one

        return export_one(change, run)


EXPORTS = Exports()
