"""Models: a version of an MLflow registered model onto the environment's Model APIs, then marked.

The kind whose changes move in waves: its changes are the plan's ``ModelChange`` values
(plan/steps.py), not WorkloadChanges. Observing and planning them (MLflow, Domino's Model APIs,
the ledger when it can change the plan; plan/planner.py) is still api.plan's own code, kept there
while the facade is rebuilt; carrying them out is the wave engine (apply/executor.py's model
phase, apply/model_run.py, apply/deploy.py): each wave's data planes for every model in
parallel, a smoke test per data plane, then the MLflow marking and the ledger entry (kind
"model"). Here: which entries a run is about, how a change is shown, and what its approval covers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domino_mlops.desired.environments import Environment
from domino_mlops.desired.selection import select_entries
from domino_mlops.plan.kinds import Description
from domino_mlops.desired.naming import model_api_name, tiers_in_waves
from domino_mlops.plan.steps import ModelChange

if TYPE_CHECKING:
    from domino_mlops.desired.load import Desired
    from domino_mlops.desired.manifest import ManifestEntry


class Models:
    name = "model"
    ledger_kind = "model"
    moves_in_waves = True  # the executor's model phase: waves are barriers across every model

    def select(self, desired: Desired, env: Environment, *, project: str | None = None,
               model: str | None = None) -> tuple[ManifestEntry, ...]:
        return select_entries(desired, env, project=project, model=model)

    def describe(self, change: ModelChange) -> Description:
        return Description(self.name, tuple(step.describe() for step in change.steps))

    def digest(self, change: ModelChange, env: Environment) -> dict[str, Any]:
        """Where the model goes (plan/digest.py says what is left out and why)."""
        document = {
            "project": change.project_id, "model": change.manifest_model, "requested": change.requested,
            "version": change.source_version or change.version, "replicas": change.replicas or env.replicas,
            "data_planes": [[wave, model_api_name(change.manifest_model, env, tier), tier]
                            for wave, tier in tiers_in_waves(env)],
            # Only a rollback's: every other plan keeps the digest it had before rollbacks had one.
            **({"from": change.rolls_back_from} if change.rolls_back_from is not None else {}),
        }
        if change.source_model:
            # The separated topology: the registered model it is copied into. Not the copy's number,
            # which a first attempt that copied and then stopped gives it after the approval.
            document["registered_model"] = change.model
        return document


MODELS = Models()
