"""The ledger: every applied change, stored durably in MLflow as one run in a dedicated experiment.

Searchable with MLflow's own tools, and it answers "what was in production at time T". Each
entry carries a key chained to the previous entry of the same environment and model, so the
same change recorded twice (a re-run after a crash) is found and skipped, while a later,
identical-looking change (promote A->B again after a rollback) is a new entry.
An entry's ``kind`` says what ``model`` names: a model (the default, and what entries written
before jobs and apps existed are), a job (``to_version``: the digest of the definition and commit
it ran for) or an app (``to_version``: the digest of what the manifest asked of it).
No secret is ever a tag here: only versions, Domino ids, the commit, the run URL and the actor.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from domino_mlops.clients.mlflow.registry import MlflowRegistry
from domino_mlops.clients.mlflow.reader import MlflowReader

EXPERIMENT = "domino-mlops-ledger"
_PREFIX = "dmlops."


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    environment: str
    model: str
    from_version: str | None
    to_version: str
    action: str  # deploy | promote | rollback | rollout | export
    project_id: str = ""
    model_api_ids: str = ""  # comma-separated, in roll-out order
    model_api_version_ids: str = ""
    commit_sha: str = ""
    run_url: str = ""
    actor: str = ""
    time_ms: int = 0
    key: str = ""
    run_id: str = ""
    kind: str = "model"  # model | job | app (an export is a model's entry, action export)
    image: str = ""  # export: the image reference pushed (with its digest when known)
    # Who approved the change: GitHub reviewers of this run, or "local user X, no GitHub approval".
    approved_by: str = ""
    source: str = ""  # the separated topology: "<model>/<version>" that `model` `to_version` is a copy of
    # The analysis of the change (apply/analysis.py): the measurements of a pass (JSON), or a breach's
    # metric, value and threshold; kind "analysis" is the entry of a version an analysis failed.
    analysis: str = ""

    def tags(self) -> dict[str, str]:
        fields = {"kind": self.kind, "environment": self.environment, "model": self.model, "from": self.from_version or "",
                  "to": self.to_version, "action": self.action, "project": self.project_id,
                  "model_api_ids": self.model_api_ids, "model_api_version_ids": self.model_api_version_ids,
                  "commit": self.commit_sha, "run_url": self.run_url, "actor": self.actor, "key": self.key}
        if self.image:
            fields["image"] = self.image
        if self.approved_by:
            fields["approved_by"] = self.approved_by
        if self.source:
            fields["source"] = self.source
        if self.analysis:
            fields["analysis"] = self.analysis
        return {_PREFIX + k: v for k, v in fields.items()}

    @classmethod
    def from_tags(cls, tags: Mapping[str, str], *, start_time: int, run_id: str) -> LedgerEntry:
        get = lambda k: tags.get(_PREFIX + k, "")  # noqa: E731
        return cls(environment=get("environment"), model=get("model"), from_version=get("from") or None,
                   to_version=get("to"), action=get("action"), project_id=get("project"),
                   model_api_ids=get("model_api_ids"), model_api_version_ids=get("model_api_version_ids"),
                   commit_sha=get("commit"), run_url=get("run_url"), actor=get("actor"),
                   time_ms=start_time, key=get("key"), run_id=run_id,
                   kind=get("kind") or "model", image=get("image"), approved_by=get("approved_by"),
                   source=get("source"), analysis=get("analysis"))


def chain_key(entry: LedgerEntry, previous: LedgerEntry | None) -> str:
    text = "|".join([entry.environment, entry.model, entry.from_version or "", entry.to_version,
                     entry.action, previous.key if previous else ""]
                    # A model's key stays what it was before kinds existed; a job or an app
                    # never chains onto a model of the same name.
                    + ([] if entry.kind == "model" else [entry.kind]))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class Ledger:
    """Read and append ledger entries through one credential's MLflow, over its REST API
    (clients/mlflow/reader.py): one experiment lookup and one search (plus pages) however many
    models. Given an MlflowReader it reads only (a plan); given an MlflowRegistry it appends too."""

    def __init__(self, store: MlflowRegistry | MlflowReader) -> None:
        self._registry = store if isinstance(store, MlflowRegistry) else None
        self._reader = store.reader if isinstance(store, MlflowRegistry) else store
        self._experiment_id: str | None = None  # looked up once per Ledger: share one across models

    def entries(self, *, model: str | None = None, environment: str | None = None,
                kind: str | None = None) -> tuple[LedgerEntry, ...]:
        """Entries oldest first (every page), filtered by model (or job, app) name, environment and kind."""
        experiment_id = self._experiment(create=False)
        if experiment_id is None:
            return ()  # nothing was ever recorded (looked up again next time: it may appear)
        runs = self._reader.runs(experiment_id, _filter(model, environment), order_by=(_ORDER,))
        return _matching((LedgerEntry.from_tags(run.tag_map, start_time=run.start_time, run_id=run.run_id)
                          for run in runs), model, environment, kind)

    def last(self, environment: str, model: str, kind: str = "model") -> LedgerEntry | None:
        entries = self.entries(model=model, environment=environment, kind=kind)
        return entries[-1] if entries else None

    def at(self, environment: str, model: str, time_ms: int, kind: str = "model") -> LedgerEntry | None:
        """The entry in force at `time_ms`: what `environment` served then."""
        before = [e for e in self.entries(model=model, environment=environment, kind=kind) if e.time_ms <= time_ms]
        return before[-1] if before else None

    def histories(self, environment: str, models: Iterable[str],
                  kind: str = "model") -> dict[str, tuple[LedgerEntry, ...]]:
        """Each model's entries in ``environment`` (oldest first), from one search for all of them."""
        wanted = set(models)
        found: dict[str, list[LedgerEntry]] = {model: [] for model in wanted}
        for entry in self.entries(environment=environment, kind=kind):
            if entry.model in wanted:
                found[entry.model].append(entry)
        return {model: tuple(entries) for model, entries in found.items()}

    def record(self, entry: LedgerEntry, *,
               history: tuple[LedgerEntry, ...] | None = None) -> tuple[LedgerEntry, bool]:
        """Append `entry` unless this very change is already there; (stored entry, whether written).

        ``history``: the model's entries in the environment, read just before for many models at
        once (`histories`) by a caller holding the model's lease, so that nobody wrote it since;
        None: read it now."""
        registry = self._writer()
        if history is None:
            history = self.entries(model=entry.model, environment=entry.environment, kind=entry.kind)
        previous = history[-1] if history else None
        before = history[-2] if len(history) > 1 else None
        if previous is not None and previous.key == chain_key(entry, before):
            return previous, False  # this very change is the newest entry: a re-run after a crash
        key = chain_key(entry, previous)
        stamped = replace(entry, key=key, time_ms=entry.time_ms or int(time.time() * 1000))
        experiment_id = self._experiment(create=True)
        assert experiment_id is not None  # create=True finds or makes it
        what = entry.model if entry.kind == "model" else f"{entry.kind} {entry.model}"
        name = f"{entry.environment} {what} {entry.from_version or '-'}->{entry.to_version}"

        def recorded() -> str | None:  # the entry, if a create whose answer was lost made it
            runs = self._reader.runs(experiment_id, f"tags.`{_PREFIX}key` = '{_quote(key)}'")
            return runs[0].run_id if runs else None

        # Created once, never resent blindly (clients/http.create_once).
        run_id = registry.create_run(experiment_id, start_time=stamped.time_ms, tags=stamped.tags(),
                                     run_name=name, lookup=recorded)
        registry.finish_run(run_id, end_time=int(time.time() * 1000))
        return replace(stamped, run_id=run_id), True

    def _writer(self) -> MlflowRegistry:
        if self._registry is None:
            raise TypeError("this Ledger reads only: give it an MlflowRegistry to record entries")
        return self._registry

    def _experiment(self, *, create: bool) -> str | None:
        if self._experiment_id is not None:
            return self._experiment_id
        self._experiment_id = self._reader.experiment_id(EXPERIMENT)
        if self._experiment_id is None and create:  # found instead when a parallel apply created it meanwhile
            self._experiment_id = self._writer().create_experiment(EXPERIMENT, tags={"domino-mlops": "ledger"})
        return self._experiment_id


_ORDER = "attributes.start_time ASC"


def _filter(model: str | None, environment: str | None) -> str:
    return " and ".join(_clause(_PREFIX + k, v) for k, v in (("model", model), ("environment", environment)) if v)


def _clause(key: str, value: str) -> str:
    """MLflow strips a value's quotes without unescaping what is inside, so a value is quoted with
    the kind it does not hold; one holding both is matched with LIKE (each quote a one-character
    wildcard), and `_matching` keeps the exact matches."""
    if "'" not in value:
        return f"tags.`{key}` = '{value}'"
    if '"' not in value:
        return f'tags.`{key}` = "{value}"'
    return f"tags.`{key}` LIKE '{value.replace(chr(39), '_').replace(chr(34), '_')}'"


def _matching(entries: Iterable[LedgerEntry], model: str | None, environment: str | None,
              kind: str | None = None) -> tuple[LedgerEntry, ...]:
    # Kind is filtered here, not in MLflow: entries from before kinds carry no kind tag.
    return tuple(e for e in entries if model in (None, "", e.model) and environment in (None, "", e.environment)
                 and kind in (None, e.kind))


def _quote(value: str) -> str:
    return value.replace("'", "\\'")
