"""One model's part of an apply, step by step: take the lease, deploy a wave (with a smoke test
per data plane), judge the wave by its metrics when the environment has an analysis
(apply/analysis.py), smoke-test a wave again after its bake, put back what it changed, then mark
MLflow and record the ledger. apply/executor.py drives many of these wave by wave.

A failure is kept, not raised: the executor decides whether it puts back this model only (deploy,
promote) or every model of the environment (rollout).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from domino_mlops.apply import analysis as measuring
from domino_mlops.apply.copy_version import copy_version
from domino_mlops.apply.deploy import Deployed, DeploySettings, deploy, restore
from domino_mlops.state.lease import Lease
from domino_mlops.apply.poll import PollSettings, for_environment
from domino_mlops.state.ledger import Ledger, LedgerEntry
from domino_mlops.apply.smoke import SmokeExpectation, SmokeResult, check, request_data
from domino_mlops.clients.domino.client import DominoClient
from domino_mlops.clients.domino.serving_types import RegistrySource
from domino_mlops.clients.mlflow.registry import MlflowRegistry, ModelHead, ModelVersionInfo
from domino_mlops.desired.environments import Environment
from domino_mlops.observed.deploy_record import RecordedVersion, encode, record_tag
from domino_mlops.clients.domino.auth import ModelHost
from domino_mlops.errors import (
    AliasConflict,
    AnalysisFailed,
    AnalysisInconclusive,
    DeploymentFailed,
    DominoMlopsError,
    LeaseHeld,
    ModelHostUnreachable,
    PutBackFailed,
    SmokeTestFailed,
    Unreachable,
    Unrestored,
)
from domino_mlops.observed.serving import matches, usable
from domino_mlops.plan.copied import with_copy
from domino_mlops.plan.steps import DeployVersion, ModelChange, MoveAlias, RecordLedger, SetTags, SmokeTest, TransitionStage

if TYPE_CHECKING:
    from domino_mlops.apply.context import ApplyContext


# Unreachable reasons (clients/http.py) that mean no server at that address, not a slow one.
NO_HOST = frozenset({"connection refused", "host name not found"})


@dataclass(frozen=True, slots=True)
class DataPlane:
    """Where one data plane (a hardware tier's Model API) of a model ended up, for the summary."""

    model_api_name: str
    hardware_tier: str | None
    wave: int
    status: str  # serving | put back | failed | not reached | unchanged
    data_plane_id: str | None = None
    version_id: str | None = None  # the Model API version serving now (as far as this run knows)
    smoke_ms: float | None = None
    note: str = ""


@dataclass
class ModelRun:
    """The state of one model while the executor moves the environment wave by wave."""

    change: ModelChange
    env: Environment
    ctx: ApplyContext
    deployed: list[Deployed] = field(default_factory=list)
    smoke: list[tuple[str, SmokeResult]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: DominoMlopsError | None = None
    failed_step: DeployVersion | None = None
    put_back_done: bool = False
    finished: bool = False  # marked (or tried to): the executor's last call of finish does nothing
    restored: dict[str, str] = field(default_factory=dict)  # Model API -> the version it was put back on
    unrestored: set[str] = field(default_factory=set)  # Model APIs a put-back failed on
    writes: int = 0
    ledger: LedgerEntry | None = None
    # Set by the executor before the first wave: the ledger shared by every model of one credential (one
    # experiment lookup) and this model's history in it, read in one search for all of them.
    ledger_book: Ledger | None = None
    ledger_history: tuple[LedgerEntry, ...] | None = None
    verdicts: list[measuring.Verdict] = field(default_factory=list)  # the analysis of each new version
    _lease: Lease | None = None
    _expectation: SmokeExpectation | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def say(self, message: str) -> None:
        self.ctx.options.on_event(self.change.model, message)

    # --- the phases -----------------------------------------------------------------------------

    def begin(self, taken: Lease | DominoMlopsError) -> None:
        """Hold the lease the executor took for this model before the first write, or stop with
        what kept it from being taken."""
        if isinstance(taken, Lease):
            self._lease = taken
            self._guard(self._copy)
        else:
            self._fail(taken)

    def deploy_wave(self, wave: int) -> None:
        """This model's data planes of one wave, each smoke-tested once Running."""
        for step in (s for s in self.change.deploys if s.wave == wave):
            if not self.ok:
                return
            self.say(step.describe())
            self._guard(lambda s=step: self._deploy(s), failed_step=step)

    def analyse(self, wave: int) -> None:
        """The environment's analysis of this wave: synthetic traffic first (when asked for), then
        every Model API version the wave serves measured; a breach fails the model (the executor
        puts back). The versions a re-run finds already serving are measured too: a crash during
        the analysis leaves them unjudged."""
        plan = self.env.analysis
        if plan is None or not self.ok:
            return
        for done in [d for d in self.deployed if d.step.wave == wave]:
            if not self.ok:
                return
            self._guard(lambda d=done: self._analyse(d, plan))

    def _analyse(self, done: Deployed, plan: measuring.Analysis) -> None:
        self._lease_check()
        if plan.traffic is not None:
            self._traffic(done, plan.traffic)
        target = measuring.Target(done.step.model_api_name, done.model_api_id, done.version_id,
                                  done.step.previous_version_id if done.wrote else None)
        self.say(f"{done.step.model_api_name}: analysing version {done.version_id}: {plan.count} measurement(s), "
                 f"{plan.interval_seconds:g} s apart, over the last {plan.window_minutes} min")
        verdict = measuring.analyse(self.change.model, target, plan, self.ctx.domino_for(self.change.project_id),
                                    self.ctx.options.sleep, self.say)
        self.verdicts.append(verdict)
        if verdict.warning:
            self.warnings.append(verdict.warning)
            self.ctx.options.on_warning(self.change.model, verdict.warning)
        self.say(f"{done.step.model_api_name}: analysis passed ({len(verdict.measurements)} measurement(s))")

    def _traffic(self, done: Deployed, traffic: measuring.Traffic) -> None:
        """Synthetic calls with the smoke test's input and access (none possible: skipped, said)."""
        step = self._smoke_steps.get(done.step.model_api_name)
        access = step.access if step is not None else "none"
        if access in ("none", "unknown") and done.is_public:
            access = "public"
        token = (self.ctx.model_tokens.token_for(self.change.manifest_model, done.step.hardware_tier)
                 if access == "token" else None)
        if access not in ("token", "public") or (access == "token" and token is None):
            warning = f"{done.step.model_api_name}: no way to call it (token or public access): no synthetic traffic"
            self.warnings.append(warning)
            self.ctx.options.on_warning(self.change.model, warning)
            return
        if self._expectation is None:
            self._expectation = _expectation(self.change, self.env, self._registry, self._target)
        domino = self.ctx.domino_for(self.change.project_id)
        source = step.token_source if step is not None and step.token_source else "no token (public Model API)"
        sent, stopped = measuring.send_traffic(
            lambda data: domino.deployments.predict(done.model_api_id, data, token=token, token_source=source),
            request_data(self._expectation.input), traffic, self.ctx.options.sleep)
        self.say(f"{done.step.model_api_name}: synthetic traffic: {sent} call(s) answered"
                 + (f", stopped by a failed call: {stopped}" if stopped else ""))

    def smoke_again(self, wave: int) -> None:
        """After a bake: the wave's data planes must still answer as they did."""
        for done in [d for d in self.deployed if d.step.wave == wave]:
            check_step = self._smoke_steps.get(done.step.model_api_name)
            callable_ = check_step is not None and (check_step.access in ("token", "public") or (
                check_step.access in ("none", "unknown") and done.is_public))
            if not self.ok or not callable_:
                continue

            def again(d: Deployed = done, s: SmokeTest = check_step) -> None:  # type: ignore[assignment]
                self._lease_check()
                result = self._call(d, s)
                self.smoke.append((d.step.model_api_name, result))
                self.say(f"{d.step.model_api_name}: smoke test after the bake passed ({result.latency_ms:.0f} ms)")

            self._guard(again, failed_step=done.step)

    def put_back(self) -> None:
        """Put every data plane this run changed, or found changed by a run that died, back on the
        version the alias names, unless another run took the lease over (then what serves is that
        run's doing)."""
        if self.put_back_done:
            return
        self.put_back_done = True
        lease = self._lease
        if isinstance(self.error, ModelHostUnreachable):  # the deploy is fine; the address we call is not
            self.say(f"not putting anything back: {self.error}")
            return
        if isinstance(self.error, LeaseHeld) or (lease is not None and not lease.still_held()):
            self.say(f"not putting anything back: {lease.lost_to if lease and lease.lost_to else self.error}")
            return
        domino = self.ctx.domino_for(self.change.project_id)
        # Once per Model API: a data plane whose smoke test failed is both deployed and the failed step.
        touched = {d.step.model_api_name: (d.step, d.model_api_id, d.version_id) for d in self.deployed if d.wrote}
        if self.failed_step is not None:  # the plan knows its Model API; a brand-new one has nothing to restore
            touched.setdefault(self.failed_step.model_api_name,
                               (self.failed_step, self.failed_step.model_api_id, None))
        named = self._named_version()
        if named is not None and named != self.change.version:
            # A data plane the plan found already serving the target while the alias names another
            # version: a run killed before its marking (or its put-back) changed it. This run wrote
            # nothing there, but leaving it would split the environment across two versions.
            for step in self.change.deploys:
                if step.action == "none" and step.model_api_id and step.model_api_name not in touched:
                    touched[step.model_api_name] = (step, step.model_api_id, step.version_id)
        unrestored: list[Unrestored] = []
        # The last wave first, as a rollout would have reached them.
        for step, api_id, version_id in sorted(reversed(list(touched.values())), key=lambda t: t[0].wave,
                                               reverse=True):
            try:
                step = self._aimed_back(domino, api_id, step, named)
                if restore(domino, api_id, step, self._poll, lambda status, s=step: self.say(
                        f"{s.model_api_name}: {status}")):
                    self.say(f"{step.model_api_name}: previous version {step.previous_version_id} is serving again")
                    self.restored[step.model_api_name] = step.previous_version_id or ""
            except DominoMlopsError as exc:  # keep going: report every data plane we could not restore
                left = Unrestored(step.model_api_name, api_id, version_id or _active_version(domino, api_id),
                                  step.previous_version_id, str(exc))
                self.say(f"{step.model_api_name}: UNVERIFIED: could not put version "
                         f"{step.previous_version_id} back; {left}")
                unrestored.append(left)
        if unrestored and self.error is not None:  # loud: Domino now serves a version nothing verified
            self.error = PutBackFailed(self.change.model, self.change.version, self.error, unrestored)
            self.unrestored = {u.model_api_name for u in unrestored}
        self._record_breach()

    def _record_breach(self) -> None:
        """An analysis that failed the version is an entry of the ledger's own kind ("analysis"),
        so a re-run can see it (plan/planner.py) without the model's history (its versions,
        rollbacks) counting a change that never happened."""
        error = self.error.cause if isinstance(self.error, PutBackFailed) else self.error
        if not isinstance(error, (AnalysisFailed, AnalysisInconclusive)):
            return
        entry = LedgerEntry(
            environment=self.env.name, subject=self.change.model, from_version=self.change.current,
            to_version=self.change.version, action="breach" if isinstance(error, AnalysisFailed) else "inconclusive",
            project_id=self.change.project_id, model_api_ids=error.model_api_name,
            model_api_version_ids=error.version_id, commit_sha=self.ctx.options.run.commit_sha,
            run_url=self.ctx.options.run.run_url, actor=self.ctx.options.run.actor, kind="analysis",
            analysis=error.short())
        try:
            (self.ledger_book or Ledger(self._registry)).record(entry)
            self.say(f"ledger: {entry.action} of version {self.change.version} recorded ({error.short()})")
        except DominoMlopsError as exc:  # the put-back is done; a lost record only loses the re-run's warning
            self.say(f"could not record the analysis in the ledger: {exc}")

    def last_wave(self, wave: int) -> None:
        """The last wave, then at once this model's marking, or its put-back if the wave failed,
        and its lease given back (a deploy or promote: no other model's outcome changes this one's)."""
        self.deploy_wave(wave)
        self.analyse(wave)
        if self.ok:
            self.finish()
        if not self.ok:  # the wave failed, or the marking met a conflict (finish put it back then)
            self.put_back()
        self.release()

    def finish(self) -> None:
        """Every wave passed: MLflow (tags, stage, alias last) and the ledger. Once."""
        if not self.ok or self.finished:
            return
        self.finished = True
        try:
            self.writes += sum(d.wrote for d in self.deployed)
            self.writes += _mark(self.change, self.env, self._registry, self._target, self.deployed, self.smoke,
                                 self._lease, self.verdicts)
            # No lease check of its own: the alias's read just showed it ours, and the ledger only
            # appends this run's own entry; a history missing a change that happened is worse.
            self.ledger, recorded = _record(self.change, self.ledger_book or Ledger(self._registry), self.deployed,
                                            self.ctx, self.ledger_history, self.verdicts)
            self.writes += recorded
            self.say(f"done: {self.env.alias} -> version {self.change.version}")
        except (AliasConflict, LeaseHeld) as exc:
            self._fail(exc)
            self.put_back()
        except DominoMlopsError as exc:
            self._fail(exc)

    def fail(self, error: DominoMlopsError) -> None:
        """Stop this model for a reason outside it (another model's failed wave)."""
        self._fail(error)

    def release(self) -> None:
        """Give the lease back (the executor's last call finds it given back already: Lease.release
        does it once)."""
        if self._lease is not None:
            self._lease.release()

    def data_planes(self) -> tuple[DataPlane, ...]:
        served = {d.step.model_api_name: d for d in self.deployed}
        smoke_ms = {name: r.latency_ms for name, r in self.smoke}
        planes = []
        for step in self.change.serving or self.change.deploys:
            done = served.get(step.model_api_name)
            if step.model_api_name in self.unrestored:
                status, version = "unverified", None
            elif step.model_api_name in self.restored:  # a dead run's change too, not only this run's
                status, version = "put back", self.restored[step.model_api_name]
            elif done is not None and self.put_back_done and done.wrote:
                status, version = "put back", step.previous_version_id
            elif done is not None:
                status, version = ("serving" if done.wrote else "unchanged"), done.version_id
            elif self.failed_step is not None and self.failed_step.model_api_name == step.model_api_name:
                status, version = ("put back" if self.put_back_done and step.previous_version_id else "failed",
                                   step.previous_version_id)
            else:
                status, version = ("not reached" if self.change.changed else "unchanged"), step.version_id
            planes.append(DataPlane(step.model_api_name, step.hardware_tier, step.wave, status,
                                    done.data_plane_id if done else None, version, smoke_ms.get(step.model_api_name)))
        return tuple(planes)

    # --- helpers --------------------------------------------------------------------------------

    @property
    def _model_host(self) -> ModelHost:
        return self.ctx.model_host or ModelHost(self.ctx.domino_host, "DOMINO_API_HOST")

    @property
    def _registry(self) -> MlflowRegistry:
        return self.ctx.registry_for(self.change.registry_project)

    @property
    def _target(self) -> ModelVersionInfo:
        if self.change.target is None:
            raise RuntimeError("the planner records the version it read on every change")
        return self.change.target  # the version the plan read: immutable, so not read again

    @property
    def _smoke_steps(self) -> dict[str, SmokeTest]:
        return {s.model_api_name: s for s in self.change.steps if isinstance(s, SmokeTest)}

    def _guard(self, work: Callable[[], object], *, failed_step: DeployVersion | None = None) -> None:
        try:
            work()
        except DominoMlopsError as exc:
            self.failed_step = self.failed_step or failed_step
            self._fail(exc)

    def _fail(self, error: DominoMlopsError) -> None:
        if self.error is None:
            self.error = error
            self.say(f"failed: {error}")

    @property
    def _poll(self) -> PollSettings:
        return for_environment(self.ctx.options.poll, self.env.poll_seconds)  # environments.yaml may set the phases

    def _lease_check(self) -> None:
        if self._lease is not None:
            self._lease.check()

    def _named_version(self) -> str | None:
        """The version the environment's alias (or legacy stage) names now: what a failed run puts
        back. Read again (the plan's may be stale when the marking met a conflict); the plan's if
        the read fails."""
        if not self.env.uses_alias:
            return self.change.current
        try:
            head = self._registry.reader.heads([self.change.model]).get(self.change.model)
        except DominoMlopsError:
            return self.change.current
        return head.alias_map.get(self.env.alias) if head is not None else self.change.current

    def _aimed_back(self, domino: DominoClient, api_id: str | None, step: DeployVersion,
                    named: str | None) -> DeployVersion:
        """The step aimed at the Model API version built from the version the alias names; what
        served when this run planned is no proof (a dead run may have changed it before)."""
        if named is None or named == self.change.version or api_id is None or not named.isdigit():
            return step
        source = RegistrySource(self.change.target.name if self.change.target else self.change.model, int(named))
        try:
            built = [v.id for v in domino.model_apis.list_versions(api_id) if matches(v, source, None) and usable(v)]
        except DominoMlopsError:
            if step.previous_version_id is None:
                raise
            return step  # what served when this run planned: the best this run knows
        if step.previous_version_id in built:
            return step  # it served then, and it is the alias's version: the one to put back
        if built:
            return replace(step, previous_version_id=built[-1])  # the newest: versions come oldest first
        if step.previous_version_id is None:
            raise DeploymentFailed(f"{step.model_api_name} has no version built from version {named}, which "
                                   f"{self.env.alias!r} names", hint="Deploy that version there again.")
        return step

    def _copy(self) -> None:
        """The separated topology: the copy first (under the lease), then every later step
        deploys and marks it."""
        step = self.change.copy_step
        if step is None or step.copied is not None:
            return
        self._lease_check()
        made, wrote = copy_version(self._registry, step)
        self.writes += wrote
        self.say(f"copied {step.model} v{step.version} -> {step.registered_model} v{made.version}" if wrote
                 else f"{step.model} v{step.version} already copied as {step.registered_model} v{made.version}")
        self.change = with_copy(self.change, made)

    def _deploy(self, step: DeployVersion) -> None:
        self._lease_check()
        domino = self.ctx.domino_for(self.change.project_id)
        settings = DeploySettings(self.ctx.environment_id_for(self.change.project_id),
                                  self.change.replicas or self.env.replicas, self._poll, self.env.model_api,
                                  self.ctx.options.retry_failed)
        result = deploy(domino, self._model_host.url, step, self._target, settings,
                        lambda status: self.say(f"{step.model_api_name}: {status}"), page_host=self.ctx.domino_host)
        self.deployed.append(result)
        check_step = self._smoke_steps.get(step.model_api_name)
        if check_step is not None and check_step.access in ("none", "unknown") and result.is_public:
            check_step = replace(check_step, access="public")  # re-checked: it is public after all
        if check_step is not None and check_step.access in ("none", "unknown"):
            warning = no_smoke_access(check_step, self.env.name) + "; the smoke test was skipped"
            self.warnings.append(warning)
            self.ctx.options.on_warning(self.change.model, warning)
        elif check_step is not None and check_step.access != "disabled":
            smoke = self._call(result, check_step)
            self.smoke.append((step.model_api_name, smoke))
            self.say(f"{step.model_api_name}: smoke test passed ({smoke.latency_ms:.0f} ms)")

    def _call(self, deployed: Deployed, step: SmokeTest) -> SmokeResult:
        """Call the model the way the plan said: with our access token, or without one (public)."""
        if step.access in ("none", "unknown") and deployed.is_public:
            step = replace(step, access="public")
        token = self.ctx.model_tokens.token_for(self.change.manifest_model, step.hardware_tier) if step.access == "token" else None
        if step.access == "token" and token is None:
            raise SmokeTestFailed(f"the access token for {step.model_api_name} ({step.token_source}) is gone",
                                  hint="The plan saw it; set it again and re-run.")
        if self._expectation is None:
            self._expectation = _expectation(self.change, self.env, self._registry, self._target)
        domino = self.ctx.domino_for(self.change.project_id)

        model_host = self._model_host

        def call(data: dict) -> object:
            try:
                return domino.deployments.predict(deployed.model_api_id, data, token=token,
                                                  token_source=step.token_source or "no token (public Model API)").result
            except Unreachable as exc:
                # Domino's API just said the version runs, so nothing listening at the model host
                # (or no such host) is a wrong address, not a broken model: exit 2 at once, and
                # the healthy version is not put back (put_back). Timeouts and resets stay transient.
                if exc.reason in NO_HOST:
                    raise ModelHostUnreachable(model_host.url, exc.reason, model_host.source) from exc
                raise

        return check(self.change.model, deployed.step.model_api_name, call, self._expectation)


def _active_version(domino: DominoClient, model_api_id: str | None) -> str | None:
    """The version a Model API is on, if Domino says (it may be failing: then unknown)."""
    try:
        api = domino.model_apis.get(model_api_id) if model_api_id else None
    except DominoMlopsError:
        return None
    return api.active_version.id if api is not None and api.active_version is not None else None


def no_smoke_access(step: SmokeTest, environment: str) -> str:
    return (f"no model access token for Model API {step.model_api_name} (DOMINO_MODEL_TOKENS or "
            f"DOMINO_MODEL_TOKENS_{environment.upper()}), and it is not public, so nothing can call it")


def _expectation(change: ModelChange, env: Environment, registry: MlflowRegistry,
                 target: ModelVersionInfo) -> SmokeExpectation:
    manifest = change.smoke  # the entry's smoke_test, or None: the input example, the env's limits
    data = manifest.input if manifest is not None else None
    if data is None:
        data = registry.input_example(target.name, target.version)
    if data is None:
        raise SmokeTestFailed(f"no smoke-test input for {change.model} version {change.version}",
                              hint="Add smoke_test.input to the manifest entry, or log the model "
                                   "with an input_example.")
    return SmokeExpectation(
        input=data, expect=manifest.expect if manifest is not None else None,
        expect_shape=manifest.expect_shape if manifest is not None else None,
        tolerance=(manifest.tolerance if manifest is not None else None) or 1e-6,
        max_latency_ms=(manifest.max_latency_ms if manifest is not None else None) or env.smoke.max_latency_ms,
        timeout_seconds=env.smoke.timeout_seconds)


@dataclass(frozen=True, slots=True)
class _Marking:
    """What the marking steps write from: the environment, its registry, and this run's results."""

    env: Environment
    registry: MlflowRegistry
    deployed: list[Deployed]
    smoke: list[tuple[str, SmokeResult]]
    lease: Lease | None
    verdicts: list[measuring.Verdict] = field(default_factory=list)
    target: ModelVersionInfo | None = None  # the version as the plan read it

    def check_lease(self, head: ModelHead | None = None) -> None:
        """Before each write: the lease still ours (on a read the write makes anyway, if given)."""
        if self.lease is None:
            return
        if head is None:
            self.lease.check()
        else:
            self.lease.verify(head)


def _set_tags(step: SetTags, m: _Marking) -> int:
    tags: dict[str, str] = {}
    if m.deployed:
        first = m.deployed[0]
        # The record lets the next plan know what serves without listing versions (observed/deploy_record.py).
        tags.update({"DOMINO_MODEL_ID": first.model_api_id, "DOMINO_MODEL_VERSION_ID": first.version_id,
                     record_tag(m.env.name): encode(
                         RecordedVersion(d.step.hardware_tier, d.model_api_id, d.version_id, d.step.settings)
                         for d in m.deployed)})
    if m.deployed and m.env.smoke.enabled:
        tested = dict(m.smoke)  # the last result per Model API: after the bake, when there was one
        tags[f"domino_mlops.{m.env.name}.smoke"] = json.dumps(
            {d.step.model_api_name: tested[d.step.model_api_name].summary()
             if d.step.model_api_name in tested else {"skipped": "no access token"} for d in m.deployed},
            separators=(",", ":"))
    if m.verdicts:
        tags[f"domino_mlops.{m.env.name}.analysis"] = analysis_tag(m.verdicts)
    # The plan's own tags (the environment's "passed") last: a run stopped before them
    # plans them again, and so re-writes the Domino ids and smoke results first.
    tags.update(step.tags)
    # The lease is checked on the registered model read that also shows the version's tags.
    return m.registry.set_tags(step.model, step.version, tags, guard=m.check_lease)


def _transition_stage(step: TransitionStage, m: _Marking) -> int:
    # The plan saw the version's stage: outside this one, the write is due without reading the
    # model's versions first (one search per model saved; a version since moved is moved again).
    seen = m.target.current_stage if m.target is not None and m.target.version == step.version else None
    return m.registry.transition_stage(step.model, step.version, step.stage, archive_existing=True, seen_stage=seen)


def _move_alias(step: MoveAlias, m: _Marking) -> int:
    # The compare-and-swap reads the registered model right before its write: that read checks the lease.
    return m.registry.set_alias(step.model, step.alias, step.to_version, expected=step.from_version,
                                guard=m.check_lease)


# The model's MLflow steps, by type; the plan orders them (tags, legacy stage, alias last).
MARKING: dict[type, Callable[[Any, _Marking], int]] = {
    SetTags: _set_tags,
    TransitionStage: _transition_stage,
    MoveAlias: _move_alias,
}


def _mark(change: ModelChange, env: Environment, registry: MlflowRegistry, target: ModelVersionInfo,
          deployed: list[Deployed], smoke: list[tuple[str, SmokeResult]], lease: Lease | None,
          verdicts: list[measuring.Verdict]) -> int:
    """MLflow, in crash-safe order: tags, legacy stage, then the alias (the commit point). The
    lease is checked once before the tags and the stage (a few writes in a row, as a step's
    several tags always were): by the tags' own read of the registered model, or by a read of
    its own when the stage comes first; and again by the alias's own read before the alias moves."""
    marking, writes = _Marking(env, registry, deployed, smoke, lease, verdicts, target), 0
    first = next((step for step in change.steps if isinstance(step, (SetTags, TransitionStage))), None)
    if isinstance(first, TransitionStage):
        marking.check_lease()
    for step in change.steps:
        handler = MARKING.get(type(step))
        if handler is not None:
            writes += handler(step, marking)
    return writes


def _record(change: ModelChange, ledger: Ledger, deployed: list[Deployed], ctx: ApplyContext,
            history: tuple[LedgerEntry, ...] | None,
            verdicts: list[measuring.Verdict]) -> tuple[LedgerEntry | None, bool]:
    step = next((s for s in change.steps if isinstance(s, RecordLedger)), None)
    if step is None:
        return None, False
    entry = LedgerEntry(
        environment=step.environment, subject=step.model, from_version=step.from_version, to_version=step.to_version,
        action=step.action, project_id=change.project_id,
        model_api_ids=",".join(d.model_api_id for d in deployed),
        model_api_version_ids=",".join(d.version_id for d in deployed),
        commit_sha=ctx.options.run.commit_sha, run_url=ctx.options.run.run_url, actor=ctx.options.run.actor,
        approved_by=ctx.options.run.approved_by,
        source=f"{change.source_model}/{change.source_version}" if change.source_model else "",
        analysis=analysis_tag(verdicts) if verdicts else "")
    return ledger.record(entry, history=history)


def analysis_tag(verdicts: list[measuring.Verdict]) -> str:
    """The last measurement of each version, keyed by Model API: short JSON for a tag or the ledger."""
    return json.dumps({v.target.model_api_name: {"version": v.target.version_id, "n": len(v.measurements),
                                                 **v.last.summary()} for v in verdicts}, separators=(",", ":"))
