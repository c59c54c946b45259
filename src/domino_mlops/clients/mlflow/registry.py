"""The MLflow model registry over its REST API (clients/mlflow/rest.py), with our errors and
immutable results, and without the `mlflow` package.

Why not `MlflowClient`: importing it is most of an action's cold start; it reads credentials from
process-wide environment variables (two projects' tokens cannot be used side by side); and its
HTTP stack resends any request whose answer was lost, creates included. Here each registry has
its credential's own session (clients/http.py: timeouts, a total deadline, bounded answers).

Every read, and every write that sets a value (a tag, an alias, a stage), is safe to repeat and
is retried by the house rule (clients/http.Retries: backoff with jitter within a time budget, 60 s
per call; 5 s when the connection is refused); so is a write refused because another writer
inserted the same row at that moment (`ConcurrentWrite`). The two creates we make
(`create_experiment`, `create_run`) go out once and follow the house rule for creates
(clients/http.create_once): after an ambiguous failure, look up whether it happened before
creating again. A version's files are read in clients/mlflow/artifacts.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from domino_mlops.clients.http import RETRY_BUDGET, Retries, create_once
from domino_mlops.clients.json_fields import Fields
from domino_mlops.clients.mlflow.artifacts import ModelFiles
from domino_mlops.clients.mlflow.auth import MlflowCredentials
from domino_mlops.clients.mlflow.reader import (
    MlflowReader,
    head_from_rest,
    latest_from_rest,
    model_from_rest,
    version_from_rest,
)
from domino_mlops.clients.mlflow.rest import (
    CONCURRENT_INSERT,
    SERVICE,
    ConcurrentWrite,
    MlflowRest,
    is_concurrent_write,
)
from domino_mlops.clients.mlflow.types import ModelHead, ModelVersionInfo, RegisteredModelInfo
from domino_mlops.errors import AliasConflict, BadResponse, ConfigError, NotFound

__all__ = ["CONCURRENT_INSERT", "ConcurrentWrite", "MlflowRegistry", "ModelHead", "ModelVersionInfo",
           "RegisteredModelInfo", "is_concurrent_write"]

MISSING_HINT = "Check the model name and version (or alias) in the manifest."


class MlflowRegistry:
    """Read and write the MLflow model registry for one credential (one project, or global).

    .. code-block:: python

        registry = MlflowRegistry(MlflowCredentials.from_env(project_id="6650c1a3"))
        mv = registry.resolve("churn", VersionRef(alias="candidate"))
        registry.set_alias("churn", "staging", mv.version, expected=None)   # True: moved
    """

    def __init__(self, credentials: MlflowCredentials, *, retry_budget: float = RETRY_BUDGET,
                 sleep: Callable[[float], None] = time.sleep, environ: Mapping[str, str] | None = None,
                 rest: MlflowRest | None = None) -> None:
        self.credentials = credentials
        self.retry_budget, self._sleep = retry_budget, sleep
        self.rest = rest or MlflowRest(credentials, environ=environ, sleep=sleep, retry_budget=retry_budget)
        self.reader = MlflowReader(credentials, rest=self.rest)  # the ledger's runs, in batches
        self._files = ModelFiles(self.rest)

    def close(self) -> None:
        self.rest.close()

    # --- reads -----------------------------------------------------------------------------

    def get_version(self, name: str, version: str | int) -> ModelVersionInfo:
        item = self._object("model-versions/get", {"name": name, "version": str(version)}, "model_version",
                            f"version {version} of model {name!r}")
        return self.rest.shaped(lambda: version_from_rest(item))

    def get_version_by_alias(self, name: str, alias: str) -> ModelVersionInfo:
        # MLflow answers an unknown alias 400 ("alias ... not found"): a ConfigError, as ever.
        item = self._object("registered-models/alias", {"name": name, "alias": alias}, "model_version",
                            f"alias @{alias} of model {name!r}")
        return self.rest.shaped(lambda: version_from_rest(item))

    def resolve(self, name: str, ref: Any) -> ModelVersionInfo:
        """A VersionRef (number or alias) -> the immutable version it names right now."""
        if ref.alias is not None:
            return self.get_version_by_alias(name, ref.alias)
        return self.get_version(name, ref.number)

    def get_model(self, name: str) -> RegisteredModelInfo:
        """The model's aliases and all its versions (with tags and stages): two requests, plus pages."""
        item = self._model(name)
        versions = self.search_versions(_name_filter(name))
        return self.rest.shaped(lambda: model_from_rest(item, tuple(v for v in versions if v.name == name)))

    def model_head(self, name: str) -> ModelHead:
        """The registered model's own tags (not its versions') and aliases: one request."""
        item = self._model(name)
        return self.rest.shaped(lambda: head_from_rest(item, "registered-models/get"))

    def model_tags(self, name: str) -> dict[str, str]:
        return self.model_head(name).tag_map

    def alias_target(self, name: str, alias: str) -> str | None:
        return self.model_head(name).alias_map.get(alias) or None

    def search_versions(self, filter_string: str, *, page_size: int = 1000) -> tuple[ModelVersionInfo, ...]:
        """Every version matching an MLflow search filter, all pages (``tags.`TARGET_X` LIKE '%'``).
        Search results carry no aliases."""
        what = f"versions matching {filter_string[:80]}"
        params = {"filter": filter_string, "max_results": page_size}
        items = self.rest.pages(lambda token: self.rest.get(  # type: ignore[return-value, arg-type]
            "model-versions/search", {**params, **({"page_token": token} if token else {})}, what=what),
            "model_versions")
        parsed = (self.rest.shaped(lambda i=item: version_from_rest(i)) for item in items)
        found = {(v.name, v.version): v for v in parsed}  # a repeat across pages counts once
        return tuple(sorted(found.values(), key=lambda v: (v.name, int(v.version))))

    def input_example(self, name: str, version: str | int) -> Any | None:
        """The input example logged with the model (parsed JSON), or None when there is none."""
        return self._files.input_example(name, str(version))

    def download_model(self, name: str, version: str | int, dst: str) -> str:
        """Download a version's model (MLmodel, the model's files, its requirements) into ``dst``;
        return the folder."""
        return self._files.download_model(name, str(version), dst)

    # --- writes: each checks first, so a re-run writes nothing -------------------------------

    def set_model_tag(self, name: str, key: str, value: str) -> None:
        self.rest.write("POST", "registered-models/set-tag", {"name": name, "key": key, "value": value},
                        what=f"tag {key!r} of model {name!r}")

    def delete_model_tag(self, name: str, key: str) -> None:
        self.rest.write("DELETE", "registered-models/delete-tag", {"name": name, "key": key},
                        what=f"tag {key!r} of model {name!r}")

    def set_alias(self, name: str, alias: str, version: str | int, *, expected: str | None,
                  guard: Callable[[ModelHead], None] = lambda head: None) -> bool:
        """Compare-and-swap: point `alias` at `version` only if it is still at `expected`.

        MLflow has no conditional write, so we read immediately before writing and read back
        after; a difference either time is an AliasConflict. Returns False when already there.
        ``guard`` sees the read before the write and may refuse it by raising: the same read
        tells a lease holder whether the lease is still its own (state/lease.py), at no request
        of its own.
        """
        version = str(version)
        head = self.model_head(name)
        guard(head)
        current = head.alias_map.get(alias) or None
        if current == version:
            return False
        if current != expected:
            raise AliasConflict(name, alias, expected, current)
        self.rest.write("POST", "registered-models/alias", {"name": name, "alias": alias, "version": version},
                        what=f"alias @{alias} of model {name!r}")
        after = self.alias_target(name, alias)
        if after != version:
            raise AliasConflict(name, alias, version, after)
        return True

    def delete_alias(self, name: str, alias: str, *, expected: str | None) -> bool:
        current = self.alias_target(name, alias)
        if current is None:
            return False
        if current != expected:
            raise AliasConflict(name, alias, expected, current)
        self.rest.write("DELETE", "registered-models/alias", {"name": name, "alias": alias},
                        what=f"alias @{alias} of model {name!r}")
        return True

    def transition_stage(self, name: str, version: str | int, stage: str, *,
                         archive_existing: bool = True, seen_stage: str | None = None) -> bool:
        """Legacy stages: move `version` to `stage`, archiving the previous holders.

        Returns False when nothing needed to change. ``seen_stage``: the stage the caller saw the
        version in (a plan's read); when it is another stage the write is due whatever the
        version's stage is now, so it goes out without the read that could only skip it (moving a
        version into the stage it is in, archiving the others, changes nothing else).
        """
        version = str(version)
        if seen_stage is not None and seen_stage != stage:
            self._transition(name, version, stage, archive_existing)
            return True
        versions = self.search_versions(_name_filter(name))  # the stages are all there: no need of get_model's aliases
        mine = next((v for v in versions if v.name == name and v.version == version), None)
        if mine is None:
            raise NotFound(f"model {name!r} has no version {version}", hint=MISSING_HINT)
        others = [v for v in versions if v.name == name and v.current_stage == stage and v.version != version]
        if mine.current_stage == stage and not (archive_existing and others):
            return False
        self._transition(name, version, stage, archive_existing)
        return True

    def _transition(self, name: str, version: str, stage: str, archive_existing: bool) -> None:
        self.rest.write("POST", "model-versions/transition-stage",
                        {"name": name, "version": version, "stage": stage,
                         "archive_existing_versions": archive_existing},
                        what=f"stage of {name!r} version {version}")

    def set_tags(self, name: str, version: str | int, tags: Mapping[str, str], *,
                 guard: Callable[[ModelHead], None] | None = None) -> int:
        """Set version tags that differ from what is there, in the order given; return how many were written.

        ``guard``: read the registered model first and let ``guard`` see it before any write (a
        lease holder's check, state/lease.py); its `latest_versions` (the newest version of each
        stage, tags included) usually hold this version, whose tags then need no read of their own.
        """
        version = str(version)
        current = self._latest_tags(name, version, guard) if guard is not None else None
        if current is None:
            current = self.get_version(name, version).tag_map
        written = 0
        for key, value in tags.items():
            if current.get(key) != str(value):
                self.rest.write("POST", "model-versions/set-tag",
                                {"name": name, "version": version, "key": key, "value": str(value)},
                                what=f"tag {key!r} of {name!r} version {version}")
                written += 1
        return written

    # --- creates: exactly once --------------------------------------------------------------

    def create_experiment(self, name: str, tags: Mapping[str, str] | None = None) -> str:
        """Create experiment ``name`` and return its id. One that exists already (created meanwhile
        by a parallel apply, or by this very create whose answer was lost) is found, not an error."""
        what = f"experiment {name!r}"

        def lookup() -> str | None:
            return self.reader.experiment_id(name)

        def post() -> str:
            answer = self.rest.create("experiments/create", {"name": name, "tags": _tag_list(tags or {})}, what=what)
            if answer is None:  # "already exists"
                found = lookup()
                if found is None:
                    raise ConfigError(f"MLflow has a deleted experiment {name!r}",
                                      hint=f"Restore experiment {name!r} in MLflow (or delete it for good).")
                return found
            return self.rest.shaped(lambda: Fields(answer.body, answer.endpoint).req_str("experiment_id"))

        return create_once(post, lookup, what=what, retries=Retries(self.retry_budget), sleep=self._sleep)

    def create_run(self, experiment_id: str, *, start_time: int, tags: Mapping[str, str], run_name: str,
                   lookup: Callable[[], str | None]) -> str:
        """Create a run and return its id, exactly once: ``lookup`` finds it (by a tag only this
        run carries) after an ambiguous failure, before it is created again."""
        what = f"a run in experiment {experiment_id}"

        def post() -> str:
            answer = self.rest.create("runs/create", {
                "experiment_id": experiment_id, "start_time": start_time, "run_name": run_name,
                "tags": _tag_list(tags)}, what=what)
            if answer is None:
                raise BadResponse(SERVICE, "runs/create", "a new run cannot already exist")
            return self.rest.shaped(lambda: Fields(answer.body, answer.endpoint).req_obj("run").req_obj("info")
                          .req_str("run_id"))

        return create_once(post, lookup, what=what, retries=Retries(self.retry_budget), sleep=self._sleep)

    def create_registered_model(self, name: str) -> bool:
        """Create registered model ``name``; False when it exists already (made meanwhile, or by
        this very create whose answer was lost: the lookup is the model itself)."""
        what = f"registered model {name!r}"

        def lookup() -> bool | None:
            return False if name in self.reader.heads([name]) else None

        def post() -> bool:
            return self.rest.create("registered-models/create", {"name": name}, what=what) is not None

        return create_once(post, lookup, what=what, retries=Retries(self.retry_budget), sleep=self._sleep)

    def create_version(self, name: str, *, source: str, run_id: str | None, tags: Mapping[str, str],
                       lookup: Callable[[], ModelVersionInfo | None]) -> ModelVersionInfo:
        """Create a version of ``name`` from ``source`` (a ``models:/`` URI: the same files), with
        ``tags`` in the same request, exactly once: ``lookup`` finds it (by a tag only it carries)
        after an ambiguous failure, before it is created again."""
        what = f"a version of model {name!r} from {source}"
        body = {"name": name, "source": source, "tags": _tag_list(tags), **({"run_id": run_id} if run_id else {})}

        def post() -> ModelVersionInfo:
            answer = self.rest.create("model-versions/create", body, what=what)
            if answer is None:
                raise BadResponse(SERVICE, "model-versions/create", "a new version cannot already exist")
            self.rest.shaped(lambda: Fields(answer.body, answer.endpoint).req_obj("model_version"))
            return self.rest.shaped(lambda: version_from_rest(answer.body["model_version"]))

        return create_once(post, lookup, what=what, retries=Retries(self.retry_budget), sleep=self._sleep)

    def finish_run(self, run_id: str, *, end_time: int) -> None:
        """Mark a run FINISHED: one POST to runs/update (setting a value: safe to repeat, so retried)."""
        self.rest.write("POST", "runs/update", {"run_id": run_id, "status": "FINISHED", "end_time": end_time},
                        what=f"run {run_id}")

    # --- helpers ----------------------------------------------------------------------------

    def _latest_tags(self, name: str, version: str, guard: Callable[[ModelHead], None]) -> dict[str, str] | None:
        """One `registered-models/get`: shown to ``guard``; the version's tags when it is among the
        model's latest versions, else None."""
        item = self._model(name)
        guard(self.rest.shaped(lambda: head_from_rest(item, "registered-models/get")))
        latest = self.rest.shaped(lambda: latest_from_rest(item))
        return next((v.tag_map for v in latest if v.name == name and v.version == version), None)

    def _model(self, name: str) -> object:
        return self._object("registered-models/get", {"name": name}, "registered_model", f"model {name!r}")

    def _object(self, endpoint: str, params: Mapping[str, str], key: str, what: str) -> object:
        """The object under ``key`` of a GET; NotFound (with a hint at the manifest) for a 404."""
        reply = self.rest.get(endpoint, params, what=what, missing_ok=True)
        if reply is None:
            raise NotFound(f"MLflow has no {what}", hint=MISSING_HINT)
        self.rest.shaped(lambda: Fields(reply.body, reply.endpoint).req_obj(key))  # its shape, checked once
        return reply.body[key]


def _name_filter(name: str) -> str:
    # MLflow strips the quotes of `name='...'` without unescaping, so a name holding both kinds
    # of quote cannot be written that way; a list is read as a Python literal, which can. Only
    # then: the server's literal parsing can fail under concurrent requests (clients/mlflow/rest.py).
    if "'" not in name:
        return f"name='{name}'"
    if '"' not in name:
        return f'name="{name}"'
    return f"name IN ({name!r})"


def _tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"key": str(k), "value": str(v)} for k, v in tags.items()]
