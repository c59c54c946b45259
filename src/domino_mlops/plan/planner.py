"""(desired, observed) -> Plan. Pure: no I/O, nothing written, same input -> same plan."""

from __future__ import annotations

from collections.abc import Iterable

from domino_mlops.clients.mlflow import ModelVersionInfo
from domino_mlops.desired.environments import Environment, Environments
from domino_mlops.observed.registry import ObservedModel
from domino_mlops.plan.steps import Gate, ModelChange, MoveAlias, Plan, SetTags, Step, TransitionStage

PASSED = "passed"


def plan_registry(environment: Environment, environments: Environments,
                  observed: Iterable[ObservedModel]) -> Plan:
    """What must change in MLflow for `environment` to hold the manifest's versions."""
    changes = tuple(_change(environment, environments, item) for item in observed)
    return Plan(environment.name, environment.alias, environment.stage_mode, changes)


def _change(env: Environment, environments: Environments, item: ObservedModel) -> ModelChange:
    target, model = item.target, item.model
    steps: list[Step] = []
    current_alias = model.alias_map.get(env.alias)
    stage_holders = tuple(v.version for v in model.in_stage(env.stage)) if env.stage else ()
    if env.uses_alias and current_alias != target.version:
        steps.append(MoveAlias(model.name, env.alias, current_alias, target.version))
    if env.uses_stage and env.stage and (target.current_stage != env.stage
                                         or set(stage_holders) - {target.version}):
        steps.append(TransitionStage(model.name, target.version, env.stage,
                                     tuple(v for v in stage_holders if v != target.version)))
    verdict_tag = env.passed_tag()
    if steps or target.tag_map.get(verdict_tag) != PASSED:
        steps.append(SetTags(model.name, target.version, ((verdict_tag, PASSED),)))
    current = current_alias if env.uses_alias else (stage_holders[0] if stage_holders else None)
    return ModelChange(
        project_id=item.entry.project_id, model=model.name, requested=str(item.entry.version),
        version=target.version, current=current, run_id=target.run_id, steps=tuple(steps),
        gate=_gate(env, environments, target), line=item.entry.line)


def _gate(env: Environment, environments: Environments, target: ModelVersionInfo) -> Gate | None:
    if env.requires is None:
        return None
    tag = environments.get(env.requires).passed_tag()
    value = target.tag_map.get(tag)
    if value == PASSED:
        return Gate(env.requires, True, f"version {target.version} passed {env.requires}")
    seen = f"tag {tag} is {value!r}" if value else f"tag {tag} is not set"
    return Gate(env.requires, False, f"version {target.version} has not passed {env.requires} ({seen})")
