"""The library's facade: one typed call per verb, each owning its safety checks.

``plan``, ``deploy``, ``promote``, ``rollout``, ``rollback``, ``export`` and ``history`` each take
a frozen request and the ``Desired`` files (or export ``Targets``) and ``Connections`` they work
on, and return a frozen outcome. A writing verb waits out other runs' leases when asked, plans,
shows the plan (``Reporter.on_plan``), refuses a plan that is not the approved one
(``expect_plan_digest``: PlanChanged), checks the gates and compare-and-swap, then runs the guard
before its first write: GitHub's protection, reach and this run's approval (``approval=
GitHubRun.from_env()``), or the local user's (``LocalApproval``); with no approval a protected
environment is refused (ApprovalNotGiven). Nothing here prints: progress goes to the request's
``Reporter``, results come back as values. The CLI is these calls plus reporting.

.. code-block:: python
    :caption: Example: plan STAGE, then deploy it, as `domino-mlops plan` and `domino-mlops deploy` do

    from domino_mlops import api
    from domino_mlops.connections import Connections
    from domino_mlops.desired.load import read_desired

    desired = read_desired("scripts/model_version.json", "scripts/environments.yaml")
    with Connections() as connections:
        planned = api.plan(api.PlanRequest("STAGE"), desired, connections)
        print([(c.model, c.current, c.version) for c in planned.plan.changed])
        outcome = api.deploy(api.DeployRequest("STAGE"), desired, connections)
        print(outcome.exit_code, outcome.nothing_to_do or [m.status for m in outcome.result.models])

.. code-block:: python
    :caption: Example: lay out the build contexts of every tagged version, push nothing

    from pathlib import Path
    from domino_mlops import api
    from domino_mlops.connections import Connections
    from domino_mlops.desired.targets import load_targets

    targets = load_targets("scripts/export_targets.yaml")
    with Connections() as connections:
        outcome = api.export(api.ExportRequest(output=Path("build"), context_only=True), targets, connections)
        print([(o.item.model, o.item.version, o.status, o.context) for o in outcome.result.outcomes]
              if outcome.result else "nothing to export")
"""

from __future__ import annotations

from domino_mlops.api._engine import GitHubRun, RollbackTarget
from domino_mlops.api._export import export
from domino_mlops.api._types import (
    Approval,
    DeployOutcome,
    DeployRequest,
    ExportRequest,
    ExportRunOutcome,
    HistoryOutcome,
    HistoryRequest,
    LocalApproval,
    PlanOutcome,
    PlanRequest,
    Reporter,
    RollbackRequest,
)
from domino_mlops.api._verbs import deploy, history, plan, promote, rollback, rollout
from domino_mlops.plan.actions import Action, PlanAction

__all__ = [
    # the verbs
    "deploy", "export", "history", "plan", "promote", "rollback", "rollout",
    # what they take
    "DeployRequest", "ExportRequest", "HistoryRequest", "PlanRequest", "RollbackRequest",
    # what they give back
    "DeployOutcome", "ExportRunOutcome", "HistoryOutcome", "PlanOutcome",
    # the values a caller needs to fill those in and read them
    "Action", "Approval", "GitHubRun", "LocalApproval", "PlanAction", "Reporter", "RollbackTarget",
]
