"""Once a copy is made (the separated topology), the number MLflow gave it goes into the plan's
steps in place of NEW_VERSION: the deploys build from it, the marking marks it, the ledger
records it. Pure: the same change with the number filled in."""

from __future__ import annotations

from dataclasses import replace

from domino_mlops.clients.mlflow.types import NEW_VERSION, ModelVersionInfo
from domino_mlops.plan.steps import (
    CopyVersion,
    DeployVersion,
    ModelChange,
    MoveAlias,
    RecordLedger,
    SetTags,
    Step,
    TransitionStage,
)


def with_copy(change: ModelChange, made: ModelVersionInfo) -> ModelChange:
    """``change`` with its destination version ``made`` (what the copy created or found)."""
    number = made.version

    def filled(step: Step) -> Step:
        if isinstance(step, CopyVersion):
            return replace(step, copied=number)
        if isinstance(step, (DeployVersion, SetTags, TransitionStage)) and step.version == NEW_VERSION:
            return replace(step, version=number)
        if isinstance(step, MoveAlias) and step.to_version == NEW_VERSION:
            return replace(step, to_version=number)
        if isinstance(step, RecordLedger) and step.to_version == NEW_VERSION:
            return replace(step, to_version=number)
        return step

    return replace(change, version=number, target=made, steps=tuple(filled(step) for step in change.steps),
                   serving=tuple(filled(step) for step in change.serving))  # type: ignore[misc]
