"""Carry out a Plan: gates and compare-and-swap pre-checks first (nothing written if they fail),
then each model in parallel (bounded): Domino wave by wave with a smoke test per tier, then the
MLflow marking and the ledger. A failure puts the previous Domino version back and leaves MLflow
as it was. Every write is preceded by a read, so a re-run converges without duplicates.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from domino_mlops.apply.deploy import Deployed, DeploySettings, deploy, restore
from domino_mlops.apply.ledger import Ledger, LedgerEntry
from domino_mlops.apply.poll import PollSettings
from domino_mlops.apply.smoke import SmokeExpectation, SmokeResult, check
from domino_mlops.clients.domino import DominoClient
from domino_mlops.clients.mlflow import MlflowRegistry, ModelVersionInfo
from domino_mlops.desired.environments import Environment
from domino_mlops.errors import (
    AliasConflict,
    DominoMlopsError,
    GateRefused,
    PutBackFailed,
    SmokeTestFailed,
    Unrestored,
)
from domino_mlops.observed.model_tokens import ModelTokens
from domino_mlops.plan.steps import (
    DeployVersion,
    ModelChange,
    MoveAlias,
    Plan,
    RecordLedger,
    SetTags,
    SmokeTest,
    TransitionStage,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RunInfo:
    """Who and what caused this apply (recorded in the ledger; never a secret)."""

    commit_sha: str = ""
    run_url: str = ""
    actor: str = ""


@dataclass(frozen=True)
class ApplyContext:
    registry_for: Callable[[str], MlflowRegistry]
    domino_for: Callable[[str], DominoClient]
    domino_host: str
    environment_id_for: Callable[[str], str]  # project id -> compute environment for new Model APIs
    run: RunInfo = RunInfo()
    poll: PollSettings = PollSettings()
    max_parallel: int = 4
    on_event: Callable[[str, str], None] = lambda model, message: None  # progress lines
    on_warning: Callable[[str, str], None] = lambda model, message: None  # e.g. a smoke test skipped
    model_tokens: ModelTokens = ModelTokens()  # the smoke tests' access tokens (masked when read)


@dataclass(frozen=True, slots=True)
class ModelResult:
    model: str
    version: str
    status: str  # done | unchanged | failed | conflict | unverified (failed, and the put-back failed too)
    message: str = ""
    deployed: tuple[Deployed, ...] = ()
    smoke: tuple[tuple[str, SmokeResult], ...] = ()
    ledger: LedgerEntry | None = None
    writes: int = 0
    error: DominoMlopsError | None = field(default=None, compare=False)
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ApplyResult:
    environment: str
    models: tuple[ModelResult, ...]

    @property
    def exit_code(self) -> int:
        codes = [m.error.exit_code for m in self.models if m.error is not None]
        if not codes:
            return 0
        return 4 if 4 in codes else max(codes)


def check_preconditions(plan: Plan, env: Environment, ctx: ApplyContext) -> None:
    """Refuse before any write: a gate not passed, or a smoke test the environment requires but
    nothing lets us call (exit 3); an alias that moved (exit 4)."""
    refused = [(c, c.gate.detail) for c in plan.blocked]  # type: ignore[union-attr]
    if env.smoke.enabled and env.smoke.required:
        refused += [(c, _no_smoke_access(step, env.name)) for c in plan.changed for step in c.steps
                    if isinstance(step, SmokeTest) and step.access == "none"]
    if refused:
        (first, why), *others = refused
        refusal = GateRefused(first.model, first.version, plan.environment, why)
        for change, reason in others:
            refusal.add(change.model, change.version, reason)
        if any(c.gate is None or c.gate.passed for c, _ in refused):
            refusal.hint = ("Give the smoke tests an access token of each Model API named (DOMINO_MODEL_TOKENS, "
                            "a secret of the GitHub environment; README, 'Smoke tests'), or make the Model API "
                            "public in Domino, or set smoke_test.required: false.")
        raise refusal
    for change in plan.changed:
        for step in change.steps:
            if isinstance(step, MoveAlias):
                found = ctx.registry_for(change.project_id).alias_target(step.model, step.alias)
                if found not in (step.from_version, step.to_version):
                    raise AliasConflict(step.model, step.alias, step.from_version, found)


def apply_plan(plan: Plan, env: Environment, ctx: ApplyContext) -> ApplyResult:
    check_preconditions(plan, env, ctx)
    changed = plan.changed
    unchanged = tuple(ModelResult(c.model, c.version, "unchanged") for c in plan.changes if not c.changed)
    if not changed:
        return ApplyResult(plan.environment, unchanged)
    with ThreadPoolExecutor(max_workers=max(1, ctx.max_parallel), thread_name_prefix="apply") as pool:
        results = tuple(pool.map(lambda c: _apply_change(c, env, ctx), changed))
    return ApplyResult(plan.environment, results + unchanged)


def _apply_change(change: ModelChange, env: Environment, ctx: ApplyContext) -> ModelResult:
    say = lambda message: ctx.on_event(change.model, message)  # noqa: E731
    registry = ctx.registry_for(change.project_id)
    deployed: list[Deployed] = []
    smoke: list[tuple[str, SmokeResult]] = []
    warnings: list[str] = []
    try:
        target = change.target  # the version the plan read: immutable, so not read again
        if target is None:
            raise RuntimeError("the planner records the version it read on every change")
        domino_steps = change.deploys  # already in wave order
        smoke_steps = {s.model_api_name: s for s in change.steps if isinstance(s, SmokeTest)}
        if domino_steps:
            domino = ctx.domino_for(change.project_id)
            settings = DeploySettings(ctx.environment_id_for(change.project_id),
                                      change.replicas or env.replicas, ctx.poll, env.model_api)
            calls = any(s.access in ("token", "public") for s in smoke_steps.values())
            expectation = _expectation(change, env, registry, target) if calls else None
        for step in domino_steps:
            say(f"{step.describe()}")
            check_step = smoke_steps.get(step.model_api_name)
            try:
                result = deploy(domino, ctx.domino_host, step, target, settings,
                                lambda status, s=step: say(f"{s.model_api_name}: {status}"))
                deployed.append(result)
                if check_step is not None and check_step.access in ("none", "unknown") and result.is_public:
                    check_step = replace(check_step, access="public")  # re-checked: it is public after all
                if check_step is not None and check_step.access in ("none", "unknown"):
                    warning = _no_smoke_access(check_step, env.name) + "; the smoke test was skipped"
                    warnings.append(warning)
                    ctx.on_warning(change.model, warning)
                elif check_step is not None and check_step.access != "disabled":
                    expectation = expectation or _expectation(change, env, registry, target)
                    smoke.append((step.model_api_name, _smoke(domino, result, change, check_step, expectation, ctx)))
                    say(f"{step.model_api_name}: smoke test passed ({smoke[-1][1].latency_ms:.0f} ms)")
            except DominoMlopsError as exc:
                _put_back(ctx, change, deployed, step, say, exc)
                raise
        writes = sum(d.wrote for d in deployed)
        try:
            writes += _mark(change, env, registry, target, deployed, smoke)
        except AliasConflict as exc:
            _put_back(ctx, change, deployed, None, say, exc)
            raise
        entry, recorded = _record(change, registry, deployed, ctx)
        writes += recorded
        say(f"done: {env.alias} -> version {change.version}")
        return ModelResult(change.model, change.version, "done", "", tuple(deployed), tuple(smoke), entry, writes,
                           warnings=tuple(warnings))
    except DominoMlopsError as exc:
        say(f"failed: {exc}")
        status = ("unverified" if isinstance(exc, PutBackFailed) else
                  "conflict" if isinstance(exc, AliasConflict) else "failed")
        return ModelResult(change.model, change.version, status, str(exc), tuple(deployed), tuple(smoke),
                           None, 0, exc, tuple(warnings))


def _put_back(ctx: ApplyContext, change: ModelChange, deployed: list[Deployed],
              failed_step: DeployVersion | None, say: Callable[[str], None], cause: DominoMlopsError) -> None:
    """Restore the previous version on every tier this change touched, once each (newest first).
    A tier whose smoke test failed is both deployed and the failed step: still one tier. When a
    tier cannot be restored, raise PutBackFailed: Domino then serves an unverified version."""
    domino = ctx.domino_for(change.project_id)
    touched = {d.step.model_api_name: (d.step, d.model_api_id, d.version_id) for d in deployed if d.wrote}
    if failed_step is not None:  # the plan knows its Model API; a brand-new one has nothing to restore
        touched.setdefault(failed_step.model_api_name, (failed_step, failed_step.model_api_id, None))
    unrestored: list[Unrestored] = []
    for step, api_id, version_id in reversed(touched.values()):
        try:
            if restore(domino, api_id, step, ctx.poll, lambda status, s=step: say(f"{s.model_api_name}: {status}")):
                say(f"{step.model_api_name}: previous version {step.previous_version_id} is serving again")
        except DominoMlopsError as exc:  # keep going: report every tier we could not restore
            left = Unrestored(step.model_api_name, api_id, version_id or _active_version(domino, api_id),
                              step.previous_version_id, str(exc))
            say(f"{step.model_api_name}: UNVERIFIED: could not put version {step.previous_version_id} back; {left}")
            unrestored.append(left)
    if unrestored:
        raise PutBackFailed(change.model, change.version, cause, unrestored) from cause


def _active_version(domino: DominoClient, model_api_id: str | None) -> str | None:
    """The version a Model API is on, if Domino says (it may be failing: then unknown)."""
    try:
        api = domino.model_apis.get(model_api_id) if model_api_id else None
    except DominoMlopsError:
        return None
    return api.active_version.id if api is not None and api.active_version is not None else None


def _expectation(change: ModelChange, env: Environment, registry: MlflowRegistry,
                 target: ModelVersionInfo) -> SmokeExpectation:
    manifest = change.smoke
    data = getattr(manifest, "input", None)
    if data is None:
        data = registry.input_example(target.name, target.version)
    if data is None:
        raise SmokeTestFailed(f"no smoke-test input for {change.model} version {change.version}",
                              hint="Add smoke_test.input to the manifest entry, or log the model "
                                   "with an input_example.")
    return SmokeExpectation(
        input=data, expect=getattr(manifest, "expect", None),
        expect_shape=getattr(manifest, "expect_shape", None),
        tolerance=getattr(manifest, "tolerance", None) or 1e-6,
        max_latency_ms=getattr(manifest, "max_latency_ms", None) or env.smoke.max_latency_ms,
        timeout_seconds=env.smoke.timeout_seconds)


def _smoke(domino: DominoClient, deployed: Deployed, change: ModelChange, step: SmokeTest,
           expectation: SmokeExpectation, ctx: ApplyContext) -> SmokeResult:
    """Call the model the way the plan said: with our access token, or without one (public)."""
    token = ctx.model_tokens.token_for(change.model, step.hardware_tier) if step.access == "token" else None
    if step.access == "token" and token is None:
        raise SmokeTestFailed(f"the access token for {step.model_api_name} ({step.token_source}) is gone",
                              hint="The plan saw it; set it again and re-run.")

    def call(data: dict) -> object:
        return domino.deployments.predict(deployed.model_api_id, data, token=token,
                                          token_source=step.token_source or "no token (public Model API)").result

    return check(change.model, deployed.step.model_api_name, call, expectation)


def _no_smoke_access(step: SmokeTest, environment: str) -> str:
    return (f"no model access token for Model API {step.model_api_name} (DOMINO_MODEL_TOKENS or "
            f"DOMINO_MODEL_TOKENS_{environment.upper()}), and it is not public, so nothing can call it")


def _mark(change: ModelChange, env: Environment, registry: MlflowRegistry, target: ModelVersionInfo,
          deployed: list[Deployed], smoke: list[tuple[str, SmokeResult]]) -> int:
    """MLflow, in crash-safe order: tags, legacy stage, then the alias (the commit point)."""
    writes = 0
    for step in change.steps:
        if isinstance(step, SetTags):
            tags: dict[str, str] = {}
            if deployed:
                first = deployed[0]
                tags.update({"DOMINO_MODEL_ID": first.model_api_id, "DOMINO_MODEL_VERSION_ID": first.version_id,
                             f"domino_mlops.{env.name}.deployments": json.dumps(
                                 [{"tier": d.step.hardware_tier, "model_api_id": d.model_api_id,
                                   "version_id": d.version_id} for d in deployed], separators=(",", ":"))})
            if deployed and env.smoke.enabled:
                tested = dict(smoke)
                tags[f"domino_mlops.{env.name}.smoke"] = json.dumps(
                    {d.step.model_api_name: tested[d.step.model_api_name].summary()
                     if d.step.model_api_name in tested else {"skipped": "no access token"} for d in deployed},
                    separators=(",", ":"))
            # The plan's own tags (the environment's "passed") last: a run stopped before them
            # plans them again, and so re-writes the Domino ids and smoke results first.
            tags.update(step.tags)
            writes += registry.set_tags(step.model, step.version, tags)
        elif isinstance(step, TransitionStage):
            writes += registry.transition_stage(step.model, step.version, step.stage, archive_existing=True)
        elif isinstance(step, MoveAlias):
            writes += registry.set_alias(step.model, step.alias, step.to_version, expected=step.from_version)
    return writes


def _record(change: ModelChange, registry: MlflowRegistry, deployed: list[Deployed],
            ctx: ApplyContext) -> tuple[LedgerEntry | None, bool]:
    step = next((s for s in change.steps if isinstance(s, RecordLedger)), None)
    if step is None:
        return None, False
    entry = LedgerEntry(
        environment=step.environment, model=step.model, from_version=step.from_version, to_version=step.to_version,
        action=step.action, project_id=change.project_id,
        model_api_ids=",".join(d.model_api_id for d in deployed),
        model_api_version_ids=",".join(d.version_id for d in deployed),
        commit_sha=ctx.run.commit_sha, run_url=ctx.run.run_url, actor=ctx.run.actor)
    return Ledger(registry).record(entry)
