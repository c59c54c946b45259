"""The ledger: every applied change, stored durably in MLflow as one run in a dedicated experiment.

Searchable with MLflow's own tools, and it answers "what was in production at time T". Each
entry carries a key chained to the previous entry of the same environment and model, so the
same change recorded twice (a re-run after a crash) is found and skipped, while a later,
identical-looking change (promote A->B again after a rollback) is a new entry.
The entries themselves are values (state/entries.py).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import replace

from domino_mlops.clients.mlflow.registry import MlflowRegistry
from domino_mlops.clients.mlflow.reader import MlflowReader
from domino_mlops.state.entries import TAG_PREFIX, EXPERIMENT, LedgerEntry, chain_key

__all__ = ["EXPERIMENT", "Ledger", "LedgerEntry", "chain_key"]

class Ledger:
    """Read and append ledger entries through one credential's MLflow, over its REST API
    (clients/mlflow/reader.py): one experiment lookup and one search (plus pages) however many
    models. Given an MlflowReader it reads only (a plan); given an MlflowRegistry it appends too."""

    def __init__(self, store: MlflowRegistry | MlflowReader) -> None:
        self._registry = store if isinstance(store, MlflowRegistry) else None
        self._reader = store.reader if isinstance(store, MlflowRegistry) else store
        self._experiment_id: str | None = None  # looked up once per Ledger: share one across models
        # The models of an apply record from parallel workers: one looks the experiment up (and
        # creates it on a first ever entry) while the others wait, rather than each asking.
        self._lookup = threading.Lock()
        self._absent = False  # a lookup of this Ledger found none: a writer creates it without asking again

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
            if entry.subject in wanted:
                found[entry.subject].append(entry)
        return {model: tuple(entries) for model, entries in found.items()}

    def record(self, entry: LedgerEntry, *,
               history: tuple[LedgerEntry, ...] | None = None) -> tuple[LedgerEntry, bool]:
        """Append `entry` unless this very change is already there; (stored entry, whether written).

        ``history``: the model's entries in the environment, read just before for many models at
        once (`histories`) by a caller holding the model's lease, so that nobody wrote it since;
        None: read it now."""
        registry = self._writer()
        if history is None:
            history = self.entries(model=entry.subject, environment=entry.environment, kind=entry.kind)
        previous = history[-1] if history else None
        before = history[-2] if len(history) > 1 else None
        if previous is not None and previous.key == chain_key(entry, before):
            return previous, False  # this very change is the newest entry: a re-run after a crash
        key = chain_key(entry, previous)
        stamped = replace(entry, key=key, time_ms=entry.time_ms or int(time.time() * 1000))
        experiment_id = self._experiment(create=True)
        assert experiment_id is not None  # create=True finds or makes it
        what = entry.subject if entry.kind == "model" else f"{entry.kind} {entry.subject}"
        name = f"{entry.environment} {what} {entry.from_version or '-'}->{entry.to_version}"

        def recorded() -> str | None:  # the entry, if a create whose answer was lost made it
            runs = self._reader.runs(experiment_id, f"tags.`{TAG_PREFIX}key` = '{_quote(key)}'")
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
        with self._lookup:
            if self._experiment_id is not None:
                return self._experiment_id
            if not (create and self._absent):
                self._experiment_id = self._reader.experiment_id(EXPERIMENT)
                self._absent = self._experiment_id is None
            if self._experiment_id is None and create:  # found instead when a parallel apply created it meanwhile
                self._experiment_id = self._writer().create_experiment(EXPERIMENT, tags={"domino-mlops": "ledger"})
            return self._experiment_id


_ORDER = "attributes.start_time ASC"


def _filter(model: str | None, environment: str | None) -> str:
    return " and ".join(_clause(TAG_PREFIX + k, v) for k, v in (("model", model), ("environment", environment)) if v)


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
    return tuple(e for e in entries if model in (None, "", e.subject) and environment in (None, "", e.environment)
                 and kind in (None, e.kind))


def _quote(value: str) -> str:
    return value.replace("'", "\\'")
