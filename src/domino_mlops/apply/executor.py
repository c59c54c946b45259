"""Carry out a Plan: gates and compare-and-swap pre-checks first (nothing written if they fail),
then the environment in the manifest's order: the jobs before the models, the models, the jobs
after them, the apps. Every change but the models' is carried out by the kind that planned it
(plan/kinds.py: ``kind_of(change).apply``), one after the other in its phase; a failed gate
(a job's) stops everything after it (the models are not promoted, exit 1), and in a rollout a
failed model stops the jobs and apps after the models.
The models move through the wave engine (one phase of the dispatch): each wave's data planes for every model (models in parallel,
bounded), a smoke test per data plane, then the environment's analysis of the wave when it has one
(apply/analysis.py: Domino's metrics of each new version; a breach fails the model like a failed
smoke test); between waves an optional bake, after which the wave is
smoke-tested again; then each model's MLflow marking and ledger entry. Waves are barriers (a
wave reaches every model before the next starts), but in a deploy or promote a model is marked as
soon as its own last wave is done, without waiting for the others; a rollout marks no model
before every model passed (one failure stops the environment). The leases are taken before the
first write, all at once, except in a deploy or promote into a one-wave environment: there batch
by batch (``max_parallel`` models), each just before its batch's work.

A failure puts back what changed and leaves MLflow as it was: the failing model's data planes
(deploy, promote: the other models go on), or, in a rollout, every data plane this run changed
in the environment (no model of it moves its alias). Every write is preceded by a read, so a
re-run converges without duplicates. Per-model work is in apply/model_run.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace

from domino_mlops.apply.analysis import Verdict
from domino_mlops.apply.deploy import Deployed
from domino_mlops.state.ledger import Ledger, LedgerEntry
from domino_mlops.apply.model_run import DataPlane, ModelRun, no_smoke_access
from domino_mlops.apply.context import ApplyContext
from domino_mlops.apply.smoke import SmokeResult
from domino_mlops.apply.workload_run import WorkloadResult, WorkloadRun
from domino_mlops.clients.mlflow.registry import MISSING_HINT, MlflowRegistry
from domino_mlops.desired.environments import Environment
from domino_mlops.errors import (
    AliasConflict,
    BlockedByJob,
    DominoMlopsError,
    GateRefused,
    LeaseHeld,
    NotFound,
    PutBackFailed,
    RolledBack,
)
from domino_mlops.plan.kinds import kind_of
from domino_mlops.plan.steps import (
    AFTER_MODELS,
    APPS,
    BEFORE_MODELS,
    ModelChange,
    MoveAlias,
    Plan,
    RecordLedger,
    SmokeTest,
    WorkloadChange,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ModelResult:
    model: str
    version: str
    status: str  # done | unchanged | held back | failed | conflict | unverified (failed, and the put-back too)
    message: str = ""
    deployed: tuple[Deployed, ...] = ()
    smoke: tuple[tuple[str, SmokeResult], ...] = ()
    ledger: LedgerEntry | None = None
    writes: int = 0
    error: DominoMlopsError | None = field(default=None, compare=False)
    warnings: tuple[str, ...] = ()
    data_planes: tuple[DataPlane, ...] = ()
    analysis: tuple[Verdict, ...] = ()  # each new version's measurements, when the environment has an analysis


@dataclass(frozen=True, slots=True)
class ApplyResult:
    environment: str
    models: tuple[ModelResult, ...]
    workloads: tuple[WorkloadResult, ...] = ()  # jobs and apps, in the order they ran

    @property
    def exit_code(self) -> int:
        codes = [m.error.exit_code for m in (*self.models, *self.workloads) if m.error is not None]
        if not codes:
            return 0
        return 4 if 4 in codes else max(codes)


def check_preconditions(plan: Plan, env: Environment, ctx: ApplyContext) -> None:
    """Refuse before any write: a gate not passed, or a smoke test the environment requires but
    nothing lets us call (exit 3); an alias that moved (exit 4)."""
    refused = [(c, c.gate.detail) for c in plan.blocked]  # type: ignore[union-attr]
    if env.smoke.enabled and env.smoke.required:
        refused += [(c, no_smoke_access(step, env.name)) for c in plan.changed for step in c.steps
                    if isinstance(step, SmokeTest) and step.access == "none"]
    if refused:
        (first, why), *others = refused
        refusal = GateRefused(first.model, first.version, plan.environment, why)
        for change, reason in others:
            refusal.add(change.model, change.version, reason)
        if any(c.gate is None or c.gate.passed for c, _ in refused):
            refusal.hint = ("Give the smoke tests an access token of each Model API named (DOMINO_MODEL_TOKENS, "
                            "a secret of the GitHub environment; docs/CONFIGURATION.md, 'Smoke tests and model "
                            "access tokens'), or make the Model API public in Domino, or set "
                            "smoke_test.required: false.")
        raise refusal
    moves: dict[MlflowRegistry, list[MoveAlias]] = {}
    # A registered model the apply copies into first (the separated topology) may not exist yet.
    to_create = {c.model for c in plan.changed if c.copy_step is not None and c.copy_step.copied is None}
    for change in plan.changed:
        for step in change.steps:
            if isinstance(step, MoveAlias):
                moves.setdefault(ctx.registry_for(change.registry_project), []).append(step)
    for registry, steps in moves.items():
        heads = registry.reader.heads([step.model for step in steps])  # one search, not a read per model
        for step in steps:
            if step.model not in heads and step.model in to_create:
                continue
            if step.model not in heads:
                raise NotFound(f"MLflow has no model {step.model!r} any more", hint=MISSING_HINT)
            found = heads[step.model].alias_map.get(step.alias)
            if found not in (step.from_version, step.to_version):
                raise AliasConflict(step.model, step.alias, step.from_version, found)


def apply_plan(plan: Plan, env: Environment, ctx: ApplyContext) -> ApplyResult:
    check_preconditions(plan, env, ctx)
    approved_by = ctx.approve()
    if approved_by:
        ctx = replace(ctx, options=replace(ctx.options, run=replace(ctx.options.run, approved_by=approved_by)))
    done: list[WorkloadResult] = []
    failed_first: list[str] = []  # what stops the rest: gate jobs, and in a rollout the models
    _run_phase(plan.phase(BEFORE_MODELS), env, ctx, done, failed_first)
    if failed_first:
        models = tuple(_blocked(c, env, failed_first) if c.changed else _unchanged(c) for c in plan.changes)
    else:
        models = _apply_models(plan, env, ctx)
        if ctx.options.whole_environment:  # a rollout moves the environment as one: no app over a put-back model
            failed_first += [f"model {m.model}" for m in models if m.error is not None]
    _run_phase(plan.phase(AFTER_MODELS) + plan.phase(APPS), env, ctx, done, failed_first)
    return ApplyResult(plan.environment, models, tuple(done))


def _run_phase(changes: tuple[WorkloadChange, ...], env: Environment, ctx: ApplyContext,
               done: list[WorkloadResult], failed_first: list[str]) -> None:
    """Jobs, apps (every kind's changes but the models') one after the other, in the manifest's
    order; after a failed gate (or what ``failed_first`` already names) the rest is not started
    (reported as blocked)."""
    for change in changes:
        if not change.changed:
            done.append(WorkloadResult(change.subject, change.name, "unchanged", change.observed,
                                       observed=change.observed))
            continue
        if failed_first:
            error = BlockedByJob(f"{change.subject} {change.name!r}", env.name, failed_first)
            done.append(WorkloadResult(change.subject, change.name, "blocked", str(error), error=error))
            continue
        run = WorkloadRun(change, env, ctx)
        try:
            kind_of(change).apply(change, run)  # step by step; the first failure ends it
        except DominoMlopsError as error:
            run.fail(error)
        if not run.ok and change.gate:
            failed_first.append(f"gate {change.subject} {change.name}")
        done.append(run.result())


def _blocked(change: ModelChange, env: Environment, failed_first: list[str]) -> ModelResult:
    """A model a failed gate job kept from moving: nothing written for it, MLflow untouched."""
    error = BlockedByJob(f"model {change.model!r}", env.name, failed_first)
    return ModelResult(change.model, change.version, "blocked", str(error), error=error)


def _apply_models(plan: Plan, env: Environment, ctx: ApplyContext) -> tuple[ModelResult, ...]:
    """The models, wave by wave (the phase between the jobs before them and after them)."""
    unchanged = tuple(_unchanged(c) for c in plan.changes if not c.changed)
    runs = [ModelRun(change, env, ctx) for change in plan.changed]
    if not runs:
        return unchanged
    waves = sorted({step.wave for run in runs for step in run.change.deploys})
    with ThreadPoolExecutor(max_workers=max(1, ctx.options.max_parallel), thread_name_prefix="apply") as pool:
        def each(work: Callable[[ModelRun], None], who: list[ModelRun]) -> None:
            list(pool.map(work, who))

        try:
            _create_destinations(runs, ctx)
            # A deploy or promote into a one-wave environment (the common case) takes each model's
            # lease just before its work; across several waves (barriers across models) or in a
            # rollout every model's lease is taken before the first write, as the waves need them all.
            batched = len(waves) == 1 and not ctx.options.whole_environment
            if batched:
                _last_wave_in_batches(runs, waves[0], env, ctx, pool)
            else:
                _take_leases(runs, env, ctx)
                # Read once the leases are held (nobody else writes these models' entries from now on),
                # so that each model can record its entry as soon as its own last wave is done.
                _read_ledger(_live(runs), env, ctx)
            for position, wave in enumerate(() if batched else waves):
                if position == len(waves) - 1 and not ctx.options.whole_environment:
                    # The last wave of a deploy or promote: no other model's outcome changes this
                    # one's, so each goes on to its marking (or put-back) and gives its lease back
                    # without waiting for the rest.
                    each(lambda run, w=wave: run.last_wave(w), _live(runs))
                    break
                each(lambda run, w=wave: run.deploy_wave(w), _live(runs))
                if _settle_failures(runs, env, ctx, each):
                    break
                if env.analysis is not None:  # judged by what the wave serves before the next starts
                    each(lambda run, w=wave: run.analyse(w), _live(runs))
                    if _settle_failures(runs, env, ctx, each):
                        break
                if env.bake_seconds and position < len(waves) - 1:
                    _bake(env, wave, ctx, runs)
                    each(lambda run, w=wave: run.smoke_again(w), _live(runs))
                    if _settle_failures(runs, env, ctx, each):
                        break
            # A rollout marks only once every model passed its last wave (one failure stops all).
            each(ModelRun.finish, _live(runs))
            each(ModelRun.put_back, [run for run in runs if not run.ok])  # a conflict while marking
        finally:
            each(ModelRun.release, runs)
    return tuple(_result(run) for run in runs) + unchanged


def _last_wave_in_batches(runs: list[ModelRun], wave: int, env: Environment, ctx: ApplyContext,
                          pool: ThreadPoolExecutor) -> None:
    """The one wave of a deploy or promote, the leases taken batch by batch (``max_parallel``
    models, one settle and one ledger search per batch and credential) just before the batch's work
    rather than all up front: a model's lease is held for its own work, not for the whole apply
    (issue 23: in a 1,000-model deploy the last model's lease was held, and renewed, from the start).

    The next batch is taken while the workers are on this one and queued behind it, so no worker
    waits for a settle; it is taken only once the batch before this one is done, so at most two
    batches' leases are held at once. Each model gives its lease back when done (``last_wave``)."""
    size = max(1, ctx.options.max_parallel)
    books: dict[MlflowRegistry, Ledger] = {}  # one experiment lookup per credential for every batch
    submitted: list[Future] = []
    running: list[Future] = []
    try:
        for start in range(0, len(runs), size):
            batch = runs[start:start + size]
            _take_leases(batch, env, ctx)
            _read_ledger(_live(batch), env, ctx, books)
            queued = [pool.submit(run.last_wave, wave) for run in _live(batch)]
            submitted += queued
            for future in running:  # the batch before: done before another batch's leases are taken
                future.result()
            running = queued
        for future in running:
            future.result()
    finally:
        # A failure on this thread must not let the executor's release overtake a model still at work.
        wait(submitted)


def _create_destinations(runs: list[ModelRun], ctx: ApplyContext) -> None:
    """The separated topology: a copy's registered model must exist before its lease (a tag on
    it) can be taken. An empty registered model marks nothing, and creating it is safe to repeat."""
    for run in runs:
        step = run.change.copy_step
        if step is not None and step.copied is None:
            try:
                ctx.registry_for(run.change.registry_project).create_registered_model(step.registered_model)
            except DominoMlopsError as exc:
                run.fail(exc)


def _take_leases(runs: list[ModelRun], env: Environment, ctx: ApplyContext) -> None:
    """Every model's lease, taken together per credential (one search, one settle: state/lease.py)."""
    for registry, members in _by_registry(runs, ctx).items():
        try:
            taken = ctx.leases.acquire_all(registry, [run.change.model for run in members], env.name)
        except DominoMlopsError as exc:  # the first read failed: nothing was written
            taken = {run.change.model: exc for run in members}
        for run in members:
            run.begin(taken[run.change.model])


def _by_registry(runs: list[ModelRun], ctx: ApplyContext) -> dict[MlflowRegistry, list[ModelRun]]:
    groups: dict[MlflowRegistry, list[ModelRun]] = {}
    for run in runs:
        groups.setdefault(ctx.registry_for(run.change.registry_project), []).append(run)
    return groups


def _read_ledger(runs: list[ModelRun], env: Environment, ctx: ApplyContext,
                 books: dict[MlflowRegistry, Ledger] | None = None) -> None:
    """One ledger per credential for every model that holds its lease (shared through ``books``
    across batches), and their histories in one search (the leases are held, so nobody else
    writes them meanwhile), not a lookup per model."""
    recording = [run for run in runs if any(isinstance(step, RecordLedger) for step in run.change.steps)]
    books = {} if books is None else books
    for registry, members in _by_registry(recording, ctx).items():
        ledger = books.setdefault(registry, Ledger(registry))
        try:
            histories = ledger.histories(env.name, [run.change.model for run in members])
        except DominoMlopsError as exc:  # each model then reads its own history, and fails on its own
            log.debug("ledger read for %d models failed (%s); reading per model", len(members), exc)
            histories = {}
        for run in members:
            run.ledger_book, run.ledger_history = ledger, histories.get(run.change.model)


def _live(runs: list[ModelRun]) -> list[ModelRun]:
    return [run for run in runs if run.ok]


def _settle_failures(runs: list[ModelRun], env: Environment, ctx: ApplyContext,
                     each: Callable[[Callable[[ModelRun], None], list[ModelRun]], None]) -> bool:
    """After a wave (or its bake): put back what failed, at once. In a rollout one failure stops
    the environment: every model's data planes go back. True: no model goes on."""
    if ctx.options.whole_environment and any(not run.ok for run in runs):
        _fail_the_rest(runs, env)
    each(ModelRun.put_back, [run for run in runs if not run.ok])
    return not _live(runs)


def _bake(env: Environment, wave: int, ctx: ApplyContext, runs: list[ModelRun]) -> None:
    """Let the wave serve before the next one starts (the leases renew themselves meanwhile)."""
    for run in _live(runs):
        run.say(f"wave {wave + 1} is serving; baking {env.bake_seconds:g} s before the next wave")
    ctx.options.sleep(env.bake_seconds)


def _fail_the_rest(runs: list[ModelRun], env: Environment) -> None:
    """A rollout moves the environment as one: another model's failure stops every model."""
    failed = [run for run in runs if not run.ok]
    for run in _live(runs):
        run.fail(RolledBack(run.change.model, env.name, [f.change.model for f in failed]))


def _unchanged(change) -> ModelResult:
    status = "held back" if change.held_back else "unchanged"
    planes = tuple(DataPlane(s.model_api_name, s.hardware_tier, s.wave, "unchanged", None, s.version_id)
                   for s in change.serving)
    return ModelResult(change.model, change.version, status, change.held_back or "", data_planes=planes)


def _result(run: ModelRun) -> ModelResult:
    if run.ok:
        return ModelResult(run.change.model, run.change.version, "done", "", tuple(run.deployed), tuple(run.smoke),
                           run.ledger, run.writes, warnings=tuple(run.warnings), data_planes=run.data_planes(),
                           analysis=tuple(run.verdicts))
    error = run.error
    status = ("unverified" if isinstance(error, PutBackFailed) else
              "conflict" if isinstance(error, (AliasConflict, LeaseHeld)) else "failed")
    return ModelResult(run.change.model, run.change.version, status, str(error), tuple(run.deployed),
                       tuple(run.smoke), None, 0, error, tuple(run.warnings), run.data_planes(), tuple(run.verdicts))
