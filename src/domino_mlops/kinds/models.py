"""Models: a version of an MLflow registered model onto the environment's Model APIs, then marked.

The whole kind in one module: which entries a run is about (``select``), what MLflow, Domino and
the ledger show of them (``observe``: one ``ModelsObserved``), the plan (``plan``: pure,
plan/planner.py), how a change is shown and what its approval covers. Its changes are the plan's
``ModelChange`` values (plan/steps.py), not WorkloadChanges, and they move in waves: carrying
them out is the wave engine (apply/executor.py's model phase, apply/model_run.py,
apply/deploy.py), not ``apply`` here, since a wave is a barrier across every model: each wave's
data planes for every model in parallel, a smoke test per data plane, then the MLflow marking and
the ledger entry (kind "model"). What reads is imported inside ``observe``: render and digest
load this module, and the plan's side of the library stays free of HTTP.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from domino_mlops.desired.environments import Environment, Environments
from domino_mlops.desired.naming import model_api_name, tiers_in_waves
from domino_mlops.desired.selection import select_entries
from domino_mlops.observed.ancestry import Ancestry
from domino_mlops.plan.actions import PlanAction
from domino_mlops.plan.forward import FORWARD_ACTIONS, hold_back
from domino_mlops.plan.kinds import Description
from domino_mlops.plan.planner import ledger_decides, plan_environment, plan_registry
from domino_mlops.plan.steps import ModelChange, Plan

if TYPE_CHECKING:
    from domino_mlops.connections import Connections
    from domino_mlops.desired.load import Desired
    from domino_mlops.desired.manifest import ManifestEntry
    from domino_mlops.observed.model_tokens import ModelTokens
    from domino_mlops.observed.registry import ObservedModel
    from domino_mlops.observed.serving import ProjectListing, ServingSnapshot
    from domino_mlops.state.entries import LedgerEntry


@dataclass(frozen=True, slots=True)
class ModelAsk:
    """What one run asks of the models' plan beyond the protocol's ``commit`` and ``action``.

    ``see_tokens=False``: this run does not hold the smoke tests' tokens (a plan job outside the
    GitHub environment that has them), so the plan does not predict skipped smoke tests. A forward
    action (promote, rollout) holds back every model whose last ledger entry comes from a later
    commit, or from a rollback (plan/forward.py); ``ancestry`` tells how two commits relate;
    ``explicit``: models whose version was named. ``manifest_file``: where a missing model or
    version is pointed at."""

    environments: Environments
    manifest_file: str = ""
    see_tokens: bool = True
    retry_failed: bool = False
    ancestry: Ancestry | None = None
    explicit: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ModelsObserved:
    """What MLflow, Domino and the ledger show of the selected models, read once per plan."""

    models: tuple[ObservedModel, ...]
    serving: ServingSnapshot | None = None  # None: Domino is not configured, the plan is MLflow's side only
    tokens: ModelTokens | None = None  # the smoke tests' tokens this run holds; None: it may not see them
    # Each model's last ledger entry here; None: not read (it could not change the plan).
    last: Mapping[str, LedgerEntry] | None = None
    # Models held back because an analysis failed their target here (and why).
    failed: Mapping[str, str] = field(default_factory=dict)
    # The plan ``observe`` made of exactly this (what it was asked, the plan): the engine asks
    # again with the same question, and a 10,000-model plan is a second of CPU. Not an __init__
    # field, so a copy with anything replaced (dataclasses.replace) starts without it.
    planned: tuple[tuple[Any, ...], Plan] | None = field(default=None, init=False, compare=False, repr=False)


class Models:
    name = "model"
    ledger_kind = "model"
    moves_in_waves = True  # the executor's model phase: waves are barriers across every model

    def select(self, desired: Desired, env: Environment, *, project: str | None = None,
               model: str | None = None) -> tuple[ManifestEntry, ...]:
        return select_entries(desired, env, project=project, model=model)

    def observe(self, specs: Sequence[ManifestEntry], env: Environment, connections: Connections, *, commit: str,
                action: PlanAction = "plan", ask: ModelAsk, check_domino: Callable[[set[str]], None] | None = None
                ) -> ModelsObserved:
        """Read MLflow (two searches per credential, plus pages), Domino when configured (one list
        per project, read while MLflow answers, and the versions of the Model APIs involved) and
        the ledger only when it can change the plan. Writes nothing. ``check_domino``: what this
        Domino version can run where (observed/domino_version.py), called with the models' projects
        before Domino is read; the facade's spans the kinds (apps' tiers too), the default the
        models'. A model MLflow does not have is reported before anything Domino refuses."""
        from concurrent.futures import ThreadPoolExecutor

        from domino_mlops.observed.domino_version import check_data_planes

        if not connections.domino_configured:
            return ModelsObserved(_observe_registry(specs, env, connections, ask))
        check = check_domino or (lambda projects: check_data_planes(env, projects, (), connections))
        # MLflow and Domino are separate servers, and Domino's project lists need nothing from
        # MLflow: they are read while MLflow answers. Only the Model APIs' versions wait for
        # MLflow's tags (what our last deploys recorded spares reading them).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="registry") as background:
            registry = background.submit(_observe_registry, specs, env, connections, ask)
            try:
                check({env.project_id or entry.project_id for entry in specs})  # refused before Domino is read
                listings = _list_projects(specs, env, connections)
            except Exception:
                registry.result()  # MLflow's refusal (a model it does not have) comes first, as it always did
                raise
            observed = registry.result()
        seen = ModelsObserved(observed, _observe_serving(observed, env, connections, listings),
                              connections.model_tokens(env.name))
        # The ledger (two requests and its pages) is read only when it can change the plan: a
        # forward action's hold-backs, or a model the registry and Domino already show at its
        # target. A pull request's plan of new versions reads none of it.
        models = None if action in FORWARD_ACTIONS else self.plan(specs, seen, env, commit=commit, action=action,
                                                                    ask=ask)
        if models is None or any(ledger_decides(change) for change in models.changes):
            seen = replace(seen, last=_last_entries(connections, env, observed))
            models = self.plan(specs, seen, env, commit=commit, action=action, ask=ask)
        # Only a change an earlier attempt reached Domino with (a built version of the target to
        # start, or serving already) can be one an analysis failed: a plan of new versions reads no ledger.
        tried = [c for c in models.changed if any(s.action in ("start_version", "none") for s in c.deploys)]
        if env.analysis is not None and not ask.retry_failed and tried:
            failed = _failed_analyses(connections, env, observed, tried)
            if failed:
                return replace(seen, failed=failed)
        object.__setattr__(seen, "planned", ((tuple(specs), commit, action, ask), models))
        return seen

    def plan(self, specs: Sequence[ManifestEntry], observed: ModelsObserved, env: Environment, *, commit: str,
             action: PlanAction, ask: ModelAsk, ledger: Sequence[LedgerEntry] = ()) -> Plan:
        """The environment's Plan of these models, pure (plan/planner.py): the plan the other
        kinds' changes join, not a tuple of changes. ``ledger`` is unused: the models read their
        own last entries, and only when they can change the plan (``observe``)."""
        if observed.planned is not None and observed.planned[0] == (tuple(specs), commit, action, ask):
            return observed.planned[1]
        if observed.serving is None:
            return plan_registry(env, ask.environments, observed.models)
        targets = {item.model.name: item.target.version for item in observed.models}
        last = observed.last or {}
        forward = hold_back(action, env.name, last, targets, commit, (ask.ancestry or Ancestry()).relation,
                            ask.explicit)
        tokens = observed.tokens
        return plan_environment(env, ask.environments, observed.models, observed.serving, action=action,
                                ledger_last=None if observed.last is None else {
                                    name: last[name].to_version if name in last else None for name in targets},
                                tokens=tokens if ask.see_tokens or (tokens is not None and tokens.variable) else None,
                                retry_failed=ask.retry_failed, held_back={**forward.held, **observed.failed},
                                warnings=forward.warnings)

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

    def apply(self, change: ModelChange, run: Any) -> None:
        """Not one change at a time: the executor's model phase carries every ModelChange in waves
        (``moves_in_waves``; apply/executor.py), so nothing hands a model change here."""
        raise NotImplementedError("model changes move in waves: apply/executor.py's model phase carries them")


def _observe_registry(specs: Sequence[ManifestEntry], env: Environment, connections: Connections,
                      ask: ModelAsk) -> tuple[ObservedModel, ...]:
    """MLflow's side: each entry's model and version, and the environment's copies of them."""
    from domino_mlops.errors import NotFound
    from domino_mlops.observed.copies import observe_copies
    from domino_mlops.observed.registry import observe_registry

    try:
        observed = observe_registry(specs, connections.mlflow_reader)
    except NotFound as exc:  # every missing model or version points at its manifest line
        exc.places = [(file or ask.manifest_file, line, what) for file, line, what in exc.places]
        raise
    return observe_copies(observed, env, connections.mlflow_reader)


def _list_projects(specs: Sequence[ManifestEntry], env: Environment, connections: Connections
                   ) -> tuple[ProjectListing, ...]:
    """Each project's Model APIs of these models on every data plane (and its tiers when waves
    name them), the projects read side by side, one Domino client per project and thread."""
    from concurrent.futures import ThreadPoolExecutor

    from domino_mlops.observed.registry import READ_PARALLELISM
    from domino_mlops.observed.serving import list_project

    names: dict[str, set[str]] = {}
    for entry in specs:
        for _, tier in tiers_in_waves(env):
            names.setdefault(env.project_id or entry.project_id, set()).add(model_api_name(entry.name, env, tier))
    with ThreadPoolExecutor(max_workers=max(1, min(READ_PARALLELISM, len(names))),
                            thread_name_prefix="serving") as pool:
        return tuple(pool.map(lambda item: list_project(connections.domino(item[0]), item[0], item[1],
                                                        list_tiers=bool(env.waves)), sorted(names.items())))


def _observe_serving(observed: Sequence[ObservedModel], env: Environment, connections: Connections,
                     listings: Sequence[ProjectListing]) -> ServingSnapshot:
    """The listed Model APIs with their versions; what our last deploys recorded in MLflow spares
    reading versions again."""
    from concurrent.futures import ThreadPoolExecutor

    from domino_mlops.clients.domino.serving_types import RegistrySource
    from domino_mlops.observed.deploy_record import KnownServing, decode
    from domino_mlops.observed.registry import READ_PARALLELISM
    from domino_mlops.observed.serving import ServingSnapshot, served_apis

    known: dict[tuple[str, str], KnownServing] = {}  # what our last deploys recorded in MLflow
    for item in observed:
        project = env.project_id or item.entry.project_id
        recorded = {record.tier: record for record in decode(item.target.tag_map, env.name)}
        for _, tier in tiers_in_waves(env):
            record = recorded.get(tier)
            if record is not None and record.settings == env.model_api:  # else: the versions decide
                known[(project, model_api_name(item.entry.name, env, tier))] = KnownServing(
                    record.model_api_id, record.version_id,
                    RegistrySource(item.target.name, int(item.target.version)), record.settings)
    with ThreadPoolExecutor(max_workers=max(1, min(READ_PARALLELISM, len(listings))),
                            thread_name_prefix="serving") as pool:
        snapshots = list(pool.map(lambda listing: served_apis(connections.domino(listing.project_id), listing, known),
                                  listings))
    apis = [api for snapshot in snapshots for api in snapshot.apis]
    tiers = tuple(sorted(listed for snapshot in snapshots for listed in snapshot.tiers))
    return ServingSnapshot(tuple(sorted(apis)), tiers)


def _last_entries(connections: Connections, env: Environment,
                  observed: Sequence[ObservedModel]) -> dict[str, LedgerEntry]:
    """Each observed model's last ledger entry in ``env``: one search for the environment
    (entries come oldest first), not one per model."""
    last: dict[str, LedgerEntry] = {}
    if observed:
        names = {item.model.name for item in observed}
        for entry in connections.ledger_reader(observed[0].entry.project_id).entries(environment=env.name,
                                                                                    kind="model"):
            if entry.subject in names:
                last[entry.subject] = entry
    return last


def _failed_analyses(connections: Connections, env: Environment, observed: Sequence[ObservedModel],
                     changes: Sequence[ModelChange]) -> dict[str, str]:
    """Models whose target version an analysis failed here (a ledger entry of kind "analysis",
    newer than the model's own last entry): a re-run does not deploy the put-back version again
    unless the manifest names another version or --retry-failed says to."""
    if not observed:
        return {}
    targets = {c.model: c.version for c in changes}
    newest: dict[str, LedgerEntry] = {}
    for entry in connections.ledger_reader(observed[0].entry.project_id).entries(environment=env.name):
        if entry.subject in targets and entry.kind in ("model", "analysis"):
            newest[entry.subject] = entry  # oldest first: the last one wins
    return {model: (f"version {entry.to_version} failed its analysis in {env.name} ({entry.analysis}; "
                    f"{entry.run_url or 'run not recorded'}); change the manifest or re-run with --retry-failed-builds")
            for model, entry in newest.items()
            if entry.kind == "analysis" and entry.to_version == targets[model]}


MODELS = Models()
