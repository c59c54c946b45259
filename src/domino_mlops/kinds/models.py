"""Models: a version of an MLflow registered model onto the environment's Model APIs, then marked.

The kind whose changes move in waves: its changes are ``ModelChange`` values (plan/steps.py),
planned from MLflow, Domino's Model APIs and the ledger (plan/planner.py), and carried out by the
wave engine (apply/executor.py's model phase, apply/model_run.py, apply/deploy.py): each wave's
data planes for every model in parallel, a smoke test per data plane, then the MLflow marking
and the ledger entry (kind "model"). What is model-specific in showing a plan and approving it
is here; where a model goes is what its approval covers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domino_mlops.desired.environments import Environment
from domino_mlops.kinds.protocol import Description
from domino_mlops.plan.naming import model_api_name, tiers_in_waves
from domino_mlops.plan.steps import ModelChange

if TYPE_CHECKING:
    from domino_mlops.connections import Connections
    from domino_mlops.desired.load import Desired
    from domino_mlops.desired.manifest import ManifestEntry
    from domino_mlops.observed.registry import ObservedModel


class Models:
    name = "model"
    ledger_kind = "model"
    moves_in_waves = True  # the executor's model phase: waves are barriers across every model

    def select(self, desired: Desired, env: Environment, *, project: str | None = None,
               model: str | None = None) -> tuple[ManifestEntry, ...]:
        from domino_mlops.api import select_entries  # the facade's: it also takes a dispatch's --version

        return select_entries(desired, env, project=project, model=model)

    def observe(self, specs: tuple[ManifestEntry, ...], env: Environment, connections: Connections, *,
                commit: str = "") -> tuple[ObservedModel, ...]:
        """What MLflow holds of them (and of their copies, in the separated topology). Domino's
        Model APIs are read by api.plan, which also decides when the ledger is worth reading."""
        from domino_mlops.observed.copies import observe_copies
        from domino_mlops.observed.registry import observe_registry

        return observe_copies(observe_registry(specs, connections.mlflow_reader), env, connections.mlflow_reader)

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
