"""The registry and the ledger read in batches, through MLflow's REST API (clients/mlflow/rest.py).

A plan reads every model of a manifest. MlflowClient asks one model at a time
(`registered-models/get` plus `model-versions/search`: 2,000 requests for a 1,000-entry
manifest); MLflow's searches take many names at once (``filter="name IN ('a','b')"``) and page
their answers, so here the requests grow with credentials and pages, not with entries.

Limits we follow (MLflow 3.x server; tests/observed/test_registry.py runs against a real one):
- `registered-models/search` answers at most 1,000 models a page, `model-versions/search`
  200,000 versions (10,000 is its own default, and what we ask for), `runs/search` 50,000 runs;
- a search is a GET, so the filter travels in the URL. MLflow behind gunicorn refuses a request
  line over 4,094 bytes (uvicorn and nginx allow 8 KB or more), so a batch of names is cut at
  ~3,500 bytes of query;
- MLflow reads a name list as a Python tuple literal, so ``repr(name)`` quotes any name (both
  kinds of quote, backslashes, commas); `name = '...'` would not (MLflow strips those quotes
  without unescaping);
- search answers carry no aliases on versions (MLflow 3.17's SqlModelVersion gives search results
  an empty alias list; only `model-versions/get` fills it): the registered model's alias list is
  the source;
- a `registered-models/search` row carries, beside the aliases, `latest_versions`: the newest
  version of each stage, whole (tags, stage, run). A plan whose targets are among them needs no
  version search at all (``models(..., enough=...)``): one request per batch of names.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from domino_mlops.clients.json_fields import Fields
from domino_mlops.clients.mlflow.auth import MlflowCredentials
from domino_mlops.clients.mlflow.rest import SERVICE, MlflowRest, shaped
from domino_mlops.clients.mlflow.types import ModelHead, ModelVersionInfo, RegisteredModelInfo
from domino_mlops.errors import BadResponse

MODELS_PAGE = 1000  # registered-models/search refuses more
VERSIONS_PAGE = 10_000  # MLflow's own default page of model-versions/search
RUNS_PAGE = 5000
MAX_QUERY_BYTES = 3500  # query bytes per search: the request line stays under gunicorn's 4,094


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A run as the ledger needs it: id, start time and tags (sorted pairs)."""

    run_id: str
    start_time: int
    tags: tuple[tuple[str, str], ...]

    @property
    def tag_map(self) -> dict[str, str]:
        return dict(self.tags)


class MlflowReader:
    """Registry and ledger reads for one MLflow credential, in batches.

    .. code-block:: python

        reader = MlflowReader(MlflowCredentials.from_env(project_id="6650c1a3"))
        models = reader.models(["churn", "fraud", "missing"])   # 2 requests, plus pages
        reader.models(["churn"], enough=lambda m: m.version("3") is not None)  # 1 request when 3 is newest
        sorted(models)                                           # ['churn', 'fraud']
        models["churn"].alias_map                                # {'staging': '3'}
    """

    def __init__(self, credentials: MlflowCredentials, *, environ: Mapping[str, str] | None = None,
                 rest: MlflowRest | None = None, max_query_bytes: int = MAX_QUERY_BYTES,
                 models_page: int = MODELS_PAGE, versions_page: int = VERSIONS_PAGE) -> None:
        self.credentials = credentials
        self.rest = rest or MlflowRest(credentials, environ=environ)
        self.max_query_bytes, self.models_page, self.versions_page = max_query_bytes, models_page, versions_page

    @property
    def display_uri(self) -> str:
        return self.credentials.display_uri

    def close(self) -> None:
        self.rest.close()

    # --- the registry ------------------------------------------------------------------------

    def models(self, names: Collection[str], *,
               enough: Callable[[RegisteredModelInfo], bool] | None = None) -> dict[str, RegisteredModelInfo]:
        """The registered models among ``names`` with their aliases and every version (tags,
        stages). A name MLflow does not have is absent from the answer, not an error.

        ``enough``: told a model with only its latest versions (one per stage, ``complete=False``),
        says whether the caller needs no more; the versions are then searched only for the models
        it refuses, so a model with thousands of versions costs nothing when its newest is the one
        asked for."""
        wanted = sorted(set(names))
        found = self._registered(wanted)
        lean: dict[str, RegisteredModelInfo] = {}
        if enough is not None:
            for name in (name for name in wanted if name in found):
                model = shaped(lambda: model_from_rest(found[name], latest_from_rest(found[name]), complete=False))
                if enough(model):
                    lean[name] = model
        versions = self._versions([name for name in wanted if name in found and name not in lean])
        # A model no request asked for (a server answering more than asked) is left out.
        return {name: lean.get(name) or shaped(lambda: model_from_rest(found[name],
                                                                       tuple(versions.get(name, {}).values())))
                for name in wanted if name in found}

    def _versions(self, names: list[str]) -> dict[str, dict[str, ModelVersionInfo]]:
        """Every version of these models, by model and number (no request when there are none)."""
        versions: dict[str, dict[str, ModelVersionInfo]] = {}
        for batch in self.batches(names):
            for item in self._search("model-versions/search", "model_versions", batch, self.versions_page):
                info = shaped(lambda: version_from_rest(item))
                versions.setdefault(info.name, {})[info.version] = info  # a repeat across pages counts once
        return versions

    def heads(self, names: Collection[str]) -> dict[str, ModelHead]:
        """The registered models among ``names``, their own tags and aliases only (no versions):
        one search per batch of names, where `registered-models/get` is one request per model."""
        found = self._registered(sorted(set(names)))
        return {name: shaped(lambda i=item: head_from_rest(i, "registered-models/search"))
                for name, item in found.items()}

    def _registered(self, wanted: list[str]) -> dict[str, object]:
        """The `registered-models/search` rows of these names, by name (a repeat across pages, or
        a model no request asked for, counts once or not at all)."""
        found: dict[str, object] = {}
        for batch in self.batches(wanted):
            for item in self._search("registered-models/search", "registered_models", batch, self.models_page):
                found.setdefault(shaped(lambda: Fields(item, "registered-models/search").req_str("name")), item)
        return {name: found[name] for name in wanted if name in found}

    def batches(self, names: list[str]) -> Iterator[list[str]]:
        """``names`` cut into groups whose `name IN (...)` filter fits the query budget."""
        batch: list[str] = []
        for name in names:
            if batch and _query_bytes(name_filter([*batch, name])) > self.max_query_bytes:
                yield batch
                batch = []
            batch.append(name)  # one name longer than the budget still goes, alone
        if batch:
            yield batch

    def _search(self, endpoint: str, key: str, names: list[str], page: int) -> Iterator[object]:
        what = f"the {endpoint} of {len(names)} model(s) ({names[0]!r}, ...)"
        params: dict[str, Any] = {"filter": name_filter(names), "max_results": page}
        return self.rest.pages(lambda token: self.rest.get(  # type: ignore[return-value]
            endpoint, {**params, **({"page_token": token} if token else {})}, what=what), key)

    # --- the ledger's runs -------------------------------------------------------------------

    def experiment_id(self, name: str) -> str | None:
        """The id of the experiment called ``name``, or None when there is none."""
        reply = self.rest.get("experiments/get-by-name", {"experiment_name": name}, what=f"experiment {name!r}",
                              missing_ok=True)
        if reply is None:
            return None
        return shaped(lambda: Fields(reply.body, reply.endpoint).req_obj("experiment").req_str("experiment_id"))

    def runs(self, experiment_id: str, filter_string: str, *, order_by: tuple[str, ...] = ()) -> tuple[RunRecord, ...]:
        """Every run of the experiment that matches ``filter_string`` (all pages), in ``order_by``."""
        body = {"experiment_ids": [experiment_id], "filter": filter_string, "max_results": RUNS_PAGE,
                "order_by": list(order_by)}
        what = f"the runs of experiment {experiment_id}"
        items = self.rest.pages(lambda token: self.rest.post_read(
            "runs/search", {**body, **({"page_token": token} if token else {})}, what=what), "runs")
        return tuple(shaped(lambda: run_from_rest(item)) for item in items)


def name_filter(names: list[str]) -> str:
    """MLflow's filter for these exact names."""
    return "name IN (" + ",".join(repr(name) for name in names) + ")"


def _query_bytes(filter_string: str) -> int:
    return len(urlencode({"filter": filter_string, "max_results": VERSIONS_PAGE, "page_token": "x" * 40}))


# --- parsing: raw JSON stops here ---------------------------------------------------------------


def version_from_rest(item: object, endpoint: str = "model-versions/search") -> ModelVersionInfo:
    """One `ModelVersion` JSON object."""
    f = Fields(item, endpoint)
    return ModelVersionInfo(
        name=f.req_str("name"), version=_number(f.req_str("version")), run_id=f.opt_str("run_id") or None,
        source=f.opt_str("source") or "", current_stage=f.opt_str("current_stage") or "None",
        status=f.opt_str("status") or "READY", aliases=tuple(sorted(str(a) for a in f.opt_list("aliases"))),
        tags=tuple(sorted(_pairs(f.opt_list("tags"), "key", "value"))), user_id=f.opt_str("user_id") or None)


def latest_from_rest(item: object) -> tuple[ModelVersionInfo, ...]:
    """The `latest_versions` of one `RegisteredModel` JSON object (the newest of each stage)."""
    return tuple(version_from_rest(v, "registered-models/search")
                 for v in Fields(item, "registered-models/search").opt_list("latest_versions"))


def model_from_rest(item: object, versions: tuple[ModelVersionInfo, ...], *, complete: bool = True) -> RegisteredModelInfo:
    """One `RegisteredModel` JSON object, its versions marked with the aliases it lists."""
    f = Fields(item, "registered-models/search")
    aliases = tuple(sorted((alias, _number(v)) for alias, v in _pairs(f.opt_list("aliases"), "alias", "version")))
    marked = tuple(ModelVersionInfo(v.name, v.version, v.run_id, v.source, v.current_stage, v.status,
                                    tuple(sorted(a for a, n in aliases if n == v.version)), v.tags, v.user_id)
                   for v in sorted(versions, key=lambda v: int(v.version)))
    return RegisteredModelInfo(name=f.req_str("name"), aliases=aliases, versions=marked, complete=complete)


def head_from_rest(item: object, endpoint: str) -> ModelHead:
    """One `RegisteredModel` JSON object without its versions: name, own tags, aliases."""
    f = Fields(item, endpoint)
    return ModelHead(name=f.req_str("name"), tags=tuple(sorted(_pairs(f.opt_list("tags"), "key", "value"))),
                     aliases=tuple(sorted((alias, _number(v))
                                          for alias, v in _pairs(f.opt_list("aliases"), "alias", "version"))))


def run_from_rest(item: object) -> RunRecord:
    """One `Run` JSON object of runs/search: its info and tags."""
    f = Fields(item, "runs/search")
    info = f.req_obj("info")
    data = f.opt_obj("data")
    start = info.raw("start_time")
    tags = _pairs(data.opt_list("tags"), "key", "value") if data is not None else ()
    return RunRecord(run_id=info.req_str("run_id"), start_time=int(start) if str(start or "0").isdigit() else 0,
                     tags=tuple(sorted(tags)))


def _number(text: str) -> str:
    if not text.isdigit():
        raise BadResponse(SERVICE, "model-versions/search", f"version {text[:20]!r} is not a number")
    return text


def _pairs(items: tuple[Any, ...], key: str, value: str) -> Iterator[tuple[str, str]]:
    for item in items:
        f = Fields(item, SERVICE)
        yield f.req_str(key), f.opt_str(value) or ""
