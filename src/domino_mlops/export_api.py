"""Export as plain functions: which tagged versions go where (plan), and exporting them (apply).

The CLI (`domino-mlops export`) calls these, tests call these; nothing here prints.

.. code-block:: python
    :caption: Example: lay out the build contexts of every tagged version, push nothing

    from pathlib import Path
    from domino_mlops import export_api
    from domino_mlops.apply.export_run import ExportOptions
    from domino_mlops.connections import Connections
    from domino_mlops.desired.targets import load_targets

    targets = load_targets("scripts/export_targets.yaml")
    with Connections() as connections:
        plan = export_api.plan(targets, connections)
        result = export_api.apply(plan, targets, connections, ExportOptions(Path("build"), context_only=True))
        print([(o.item.model, o.item.version, o.status, o.context) for o in result.outcomes])
"""

from __future__ import annotations

from domino_mlops.apply.export_run import ExportOptions, ExportResult, apply_exports
from domino_mlops.connections import Connections
from domino_mlops.desired.targets import Targets
from domino_mlops.observed.exports import observe_targets
from domino_mlops.plan.export_plan import ExportPlan, plan_exports

__all__ = ["apply", "plan"]


def plan(targets: Targets, connections: Connections, *, target: str | None = None) -> ExportPlan:
    """One MLflow search per target (``target``: only that one), then the pure plan."""
    chosen = targets.select(target)
    return plan_exports(chosen, observe_targets(chosen, connections.registry))


def apply(plan: ExportPlan, targets: Targets, connections: Connections,
          options: ExportOptions = ExportOptions()) -> ExportResult:
    """Export what the plan says (see apply/export_run.py); failures are in the result, not raised."""
    return apply_exports(plan, targets, connections, options)
