"""(desired, observed) -> Plan. Pure: no I/O, nothing written, same input -> same plan.

For each manifest entry in an environment the plan says, in order: the Domino Model API work per
hardware tier, wave by wave (deploy, then wait and smoke-test), then the MLflow marking (tags,
legacy stage, alias by compare-and-swap) and the ledger entry. Work that is already done is left
out, so a plan of finished work is empty and applying it writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from domino_mlops.clients.domino.serving_types import RegistrySource
from domino_mlops.clients.mlflow.types import NEW_VERSION, ModelVersionInfo
from domino_mlops.desired.environments import Environment, Environments
from domino_mlops.errors import UnknownHardwareTier
from domino_mlops.observed.model_tokens import ModelTokens
from domino_mlops.observed.registry import ObservedModel
from domino_mlops.observed.serving import ServedModelApi, ServingSnapshot, choose
from domino_mlops.plan.actions import PlanAction
from domino_mlops.desired.naming import model_api_name, tiers_in_waves
from domino_mlops.plan.steps import (
    CopyVersion,
    DeployVersion,
    Gate,
    ModelChange,
    MoveAlias,
    Plan,
    RecordLedger,
    SetTags,
    SmokeTest,
    Step,
    TransitionStage,
)

PASSED = "passed"


def plan_registry(environment: Environment, environments: Environments,
                  observed: Iterable[ObservedModel]) -> Plan:
    """The MLflow side only (Domino not configured): what the marking would change."""
    return plan_environment(environment, environments, observed, None)


def plan_environment(environment: Environment, environments: Environments,
                     observed: Iterable[ObservedModel], serving: ServingSnapshot | None, *,
                     action: PlanAction = "deploy", ledger_last: Mapping[str, str | None] | None = None,
                     tokens: ModelTokens | None = ModelTokens(), retry_failed: bool = False,
                     held_back: Mapping[str, str] | None = None, warnings: tuple[str, ...] = ()) -> Plan:
    """The full plan for one environment.

    serving: what Domino serves (None: not observed, Domino steps left out).
    ledger_last: model -> the version the ledger last recorded for this environment (None: not
    read); a finished change whose ledger entry is missing (a crash) gets only that entry.
    tokens: the model access tokens this run holds (for the smoke tests; values never reach the
    plan); None: this run cannot see them (a plan made outside the environment that holds them).
    retry_failed: build again a registry version whose build failed before on a Model API.
    held_back: model -> why a forward change leaves it alone (plan/forward.py): no steps.
    """
    held, observed = held_back or {}, tuple(observed)
    if serving is not None:
        _refuse_unknown_tiers(environment, observed, serving)
    changes = tuple(
        _held(environment, item, held[item.model.name]) if item.model.name in held else
        _change(environment, environments, item, serving, action, ledger_last, tokens, retry_failed)
        for item in observed)
    return Plan(environment.name, environment.alias, environment.stage_mode, changes,
                domino_observed=serving is not None, warnings=warnings,
                analysis=environment.analysis.describe() if environment.analysis else "")


def ledger_decides(change: ModelChange) -> bool:
    """Whether the ledger's last entry could change this change, planned without it: it adds an
    entry only when nothing else is left to do (a finished change whose entry a crash lost), and
    it says where from only when the registry already shows the target. A change with other
    steps and another current version records "current -> target" whatever the ledger holds."""
    return not change.steps or change.current == change.version


def _held(env: Environment, item: ObservedModel, why: str) -> ModelChange:
    target, entry = item.target, item.entry
    return ModelChange(project_id=env.project_id or entry.project_id, model=item.model.name,
                       requested=str(entry.version), version=target.version,
                       current=item.model.alias_map.get(env.alias), run_id=target.run_id, steps=(),
                       line=entry.line, smoke=entry.smoke_test, replicas=entry.replicas, target=target,
                       held_back=why, manifest_project=entry.project_id)


def _change(env: Environment, environments: Environments, item: ObservedModel,
            serving: ServingSnapshot | None, action: PlanAction,
            ledger_last: Mapping[str, str | None] | None, tokens: ModelTokens | None,
            retry_failed: bool) -> ModelChange:
    target, model, entry = item.target, item.model, item.entry
    project_id = env.project_id or entry.project_id
    current_alias = model.alias_map.get(env.alias)
    stage_holders = tuple(v.version for v in model.in_stage(env.stage)) if env.stage else ()
    current = current_alias if env.uses_alias else (stage_holders[0] if stage_holders else None)

    # Model APIs and access tokens keep the manifest's name, whichever registered model they serve.
    served = {} if serving is None else {
        tier: serving.get(project_id, model_api_name(entry.name, env, tier)) for _, tier in tiers_in_waves(env)}
    replicas = entry.replicas or env.replicas
    planes = None if serving is None else serving.tiers_of(project_id)
    deploys = () if serving is None else tuple(
        _deploy(target, env, project_id, wave, tier, served[tier], model_api_name(entry.name, env, tier), retry_failed,
                replicas, planes)
        for wave, tier in tiers_in_waves(env))
    domino_done = all(d.action == "none" and not d.reconfigures for d in deploys)
    passed = target.tag_map.get(env.passed_tag()) == PASSED

    marking: list[Step] = []
    if not passed or not domino_done:
        marking.append(SetTags(model.name, target.version, ((env.passed_tag(), PASSED),)))
    if env.uses_stage and env.stage and _needs_stage(target, env.stage, stage_holders):
        marking.append(TransitionStage(model.name, target.version, env.stage,
                                       tuple(v for v in stage_holders if v != target.version)))
    if env.uses_alias and current_alias != target.version:
        marking.append(MoveAlias(model.name, env.alias, current_alias, target.version))

    steps: list[Step] = []
    if marking or not domino_done:
        if item.source is not None:  # the separated topology: the copy comes first
            steps.append(CopyVersion(item.source.name, item.source.version, model.name, env.requires,
                                     None if target.version == NEW_VERSION else target.version))
        for deploy in deploys:
            steps += [deploy, _smoke(env, entry.name, deploy, served[deploy.hardware_tier], tokens)]
        steps += marking
    recorded = None if ledger_last is None else ledger_last.get(model.name)
    if steps or (ledger_last is not None and recorded != target.version):
        steps.append(RecordLedger(env.name, model.name, current if current != target.version else recorded,
                                  target.version, action))
    return ModelChange(
        project_id=project_id, model=model.name, requested=str(entry.version), version=target.version,
        current=current, run_id=target.run_id, steps=tuple(steps),
        gate=_gate(env, environments, item.source or target), line=entry.line, smoke=entry.smoke_test,
        replicas=entry.replicas, target=target, manifest_project=entry.project_id, serving=deploys,
        source_model=item.source.name if item.source else "", source_version=item.source.version if item.source else "")


def _deploy(target: ModelVersionInfo, env: Environment, project_id: str, wave: int, tier: str | None,
            served: ServedModelApi | None, name: str, retry_failed: bool = False, replicas: int = 1,
            planes: Mapping[str, str] | None = None) -> DeployVersion:
    common = dict(model=target.name, version=target.version, project_id=project_id, model_api_name=name,
                  hardware_tier=tier, wave=wave, settings=env.model_api, replicas=replicas)
    if served is None:
        return DeployVersion(**common, action="create_model_api")
    # MLflow numbers versions from 1: a copy not made yet (0 here) matches nothing Domino serves.
    number = 0 if target.version == NEW_VERSION else int(target.version)
    choice = choose(served, RegistrySource(target.name, number), env.model_api, retry_failed=retry_failed)
    move_from = _moved_from(served, tier, planes)
    action, previous = choice.action, choice.previous_version_id
    if action == "none" and move_from is not None:
        # The version that serves is right, the tier is not: Domino places a version on its
        # Model API's tier when it is deployed, so after the update it is started again there.
        action, previous = "start_version", None
    replicas_from = served.api.replicas if served.api.replicas not in (None, replicas) else None
    return DeployVersion(**common, action=action, model_api_id=served.api.id, version_id=choice.version_id,
                         previous_version_id=previous, move_from=move_from, replicas_from=replicas_from)


def _moved_from(served: ServedModelApi, tier: str | None, planes: Mapping[str, str] | None) -> str | None:
    """The tier a Model API runs on when it is not ``tier`` (None: it is, or no tier is asked for).
    Its active version on another data plane than the tier's is also a move: an update whose
    restart a crash cut off."""
    if tier is None:
        return None
    if served.api.hardware_tier_id not in (None, tier):  # None: an answer that does not say
        return served.api.hardware_tier_id
    active, plane = served.active, (planes or {}).get(tier)
    if active is not None and plane and active.data_plane_id and active.data_plane_id != plane:
        return f"data plane {active.data_plane_id}"
    return None


def _refuse_unknown_tiers(env: Environment, observed: Iterable[ObservedModel], serving: ServingSnapshot) -> None:
    """Every tier of every wave exists in each project the environment serves, checked before
    anything is written: found at deploy time, wave 1 would already have changed."""
    for project_id in sorted({env.project_id or item.entry.project_id for item in observed}):
        known = serving.tiers_of(project_id)
        for _, tier in tiers_in_waves(env):
            if known is not None and tier is not None and tier not in known:
                raise UnknownHardwareTier(env.name, tier, project_id, tuple(sorted(known)))


def _smoke(env: Environment, model: str, deploy: DeployVersion, served: ServedModelApi | None,
           tokens: ModelTokens | None) -> SmokeTest:
    """How the smoke test will call the Model API: a token we hold, public access, or not at all."""
    source = None if tokens is None else tokens.source_for(model, deploy.hardware_tier)
    if not env.smoke.enabled:
        access = "disabled"
    elif source is not None:
        access = "token"
    elif served is not None and served.api.access.is_public:
        access = "public"
    elif tokens is None:
        access = "unknown"  # the tokens live where the deploy runs (a GitHub environment's secret)
    else:
        access = "none"  # a new Model API is restricted and has no token yet: none can exist
    return SmokeTest(model, deploy.model_api_name, deploy.hardware_tier, access,
                     source if access == "token" else None)


# Legacy stages are exclusive: a version in Production has been through Staging, and a STAGE
# re-run must not pull it back. Archived is never "later".
_STAGE_RANK = {"None": 0, "Staging": 1, "Production": 2}


def _needs_stage(target: ModelVersionInfo, stage: str, holders: tuple[str, ...]) -> bool:
    if _STAGE_RANK.get(target.current_stage, 0) > _STAGE_RANK.get(stage, 0):
        return False
    return target.current_stage != stage or bool(set(holders) - {target.version})


def _gate(env: Environment, environments: Environments, target: ModelVersionInfo) -> Gate | None:
    if env.requires is None:
        return None
    tag = environments.get(env.requires).passed_tag()
    value = target.tag_map.get(tag)
    if value == PASSED:
        return Gate(env.requires, True, f"version {target.version} passed {env.requires}")
    seen = f"tag {tag} is {value!r}" if value else f"tag {tag} is not set"
    return Gate(env.requires, False, f"version {target.version} has not passed {env.requires} ({seen})")
