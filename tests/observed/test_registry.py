"""The batched registry reader against a real `mlflow server`: the same answers as the
one-model-at-a-time reader, in a number of requests that grows with batches and pages."""

from __future__ import annotations

import itertools

import pytest
import requests

from domino_mlops.clients.mlflow.registry import MlflowRegistry
from domino_mlops.clients.mlflow.auth import MlflowCredentials
from domino_mlops.clients.mlflow.reader import MlflowReader, name_filter
from domino_mlops.connections import Connections
from domino_mlops.desired.manifest import ManifestEntry, VersionRef
from domino_mlops.errors import NotFound
from domino_mlops.observed.registry import OneModelAtATime, observe_registry
from tests.support.auth_proxy import auth_proxy

_run = itertools.count()
# Names MLflow accepts that a hand-built filter gets wrong: quotes of both kinds, a backslash,
# the list's own comma and parentheses, and non-ASCII.
AWKWARD = ["it's", 'say "hi"', "both'\"", "back\\slash", "a,b", "paren(1)", "ünïcode"]


def register(uri: str, name: str, versions: int, *, aliases: dict[str, int] | None = None,
             tags: dict[int, dict[str, str]] | None = None, stage: tuple[int, str] | None = None) -> None:
    """A registered model with `versions` versions, straight through MLflow's REST API (fast)."""
    api = f"{uri}/api/2.0/mlflow"

    def post(path: str, body: dict) -> None:
        requests.post(f"{api}/{path}", json=body, timeout=30).raise_for_status()

    post("registered-models/create", {"name": name})
    for _ in range(versions):
        post("model-versions/create", {"name": name, "source": "s3://bucket/model"})
    for alias, version in (aliases or {}).items():
        post("registered-models/alias", {"name": name, "alias": alias, "version": str(version)})
    for version, pairs in (tags or {}).items():
        for key, value in pairs.items():
            post("model-versions/set-tag", {"name": name, "version": str(version), "key": key, "value": value})
    if stage is not None:
        post("model-versions/transition-stage", {"name": name, "version": str(stage[0]), "stage": stage[1],
                                                 "archive_existing_versions": False})


@pytest.fixture
def prefix() -> str:
    return f"batch{next(_run)}-"


def test_same_answer_as_one_model_at_a_time_across_pages_and_batches(mlflow_server, prefix) -> None:
    names = [f"{prefix}{i}" for i in range(7)] + [prefix + n for n in AWKWARD]
    for i, name in enumerate(names):
        register(mlflow_server.uri, name, versions=i % 4 + 1, aliases={"champion": 1, "candidate": i % 4 + 1},
                 tags={1: {"DOMINO_MODEL_ID": f"id-{i}", "note": 'va"l\'ue'}},
                 stage=(1, "Staging") if i % 2 else None)
    credentials = MlflowCredentials.from_env({"MLFLOW_TRACKING_URI": mlflow_server.uri})
    # Tiny pages and a tiny query budget put page and batch boundaries inside the list.
    reader = MlflowReader(credentials, environ={}, models_page=2, versions_page=3, max_query_bytes=200)
    batched = reader.models(names + [prefix + "missing"])
    one_by_one = OneModelAtATime(MlflowRegistry(credentials)).models(names + [prefix + "missing"])

    assert batched == one_by_one
    assert sorted(batched) == sorted(names)  # the missing model is absent, not an error
    awkward = batched[prefix + "both'\""]
    assert awkward.alias_map == {"champion": "1", "candidate": "2"}
    assert awkward.version("1").tag_map == {"DOMINO_MODEL_ID": "id-9", "note": 'va"l\'ue'}
    assert awkward.version("2").aliases == ("candidate",)
    assert [v.version for v in batched[prefix + "3"].in_stage("Staging")] == ["1"]
    batches = list(reader.batches(sorted(names)))
    assert len(batches) > 2 and sorted(itertools.chain(*batches)) == sorted(names)
    assert reader.rest.requests > 2 * len(batches)  # pages were followed


def test_requests_grow_with_batches_not_models(mlflow_server, prefix) -> None:
    names = [f"{prefix}{i:03d}" for i in range(60)]
    for name in names:
        register(mlflow_server.uri, name, versions=2, aliases={"staging": 2})
    reader = MlflowReader(MlflowCredentials.from_env({"MLFLOW_TRACKING_URI": mlflow_server.uri}), environ={})
    models = reader.models(names)

    assert len(models) == 60 and all(m.alias_map == {"staging": "2"} for m in models.values())
    assert reader.rest.requests == 2  # one search for the models, one for their 120 versions


def test_a_model_with_more_versions_than_a_page(mlflow_server, prefix) -> None:
    register(mlflow_server.uri, prefix + "big", versions=25, aliases={"production": 17})
    reader = MlflowReader(MlflowCredentials.from_env({"MLFLOW_TRACKING_URI": mlflow_server.uri}), environ={},
                            versions_page=10)
    model = reader.models([prefix + "big"])[prefix + "big"]

    assert [v.version for v in model.versions] == [str(n) for n in range(1, 26)]  # numeric order, no repeats
    assert model.version("17").aliases == ("production",)
    assert reader.rest.requests == 1 + 3


def test_every_missing_model_and_version_reported_at_once(mlflow_server, prefix) -> None:
    register(mlflow_server.uri, prefix + "here", versions=2, aliases={"candidate": 2})
    entries = [ManifestEntry("p1", prefix + "here", VersionRef(number=2), line=3),
               ManifestEntry("p1", prefix + "gone", VersionRef(number=1), line=4),
               ManifestEntry("p1", prefix + "here", VersionRef(number=9), line=5),
               ManifestEntry("p1", prefix + "here", VersionRef(alias="nope"), line=6),
               ManifestEntry("p1", prefix + "also-gone", VersionRef(alias="candidate"), line=7)]
    with Connections({"MLFLOW_TRACKING_URI": mlflow_server.uri}) as connections, \
            pytest.raises(NotFound) as caught:
        observe_registry(entries, connections.mlflow_reader)

    assert [line for _, line, _ in caught.value.places] == [4, 5, 6, 7]
    assert "4 manifest entries" in caught.value.message


def test_each_credential_asks_only_about_its_own_projects_models(mlflow_server, prefix) -> None:
    """Projects with their own tokens get their own batches; projects without one share the
    general credential's batch. A model another project registered is in none of them."""
    own = {"p1": [prefix + "a1", prefix + "a2"], "p2": [prefix + "b1"], "p3": [prefix + "c1"], "p4": [prefix + "d1"]}
    for name in itertools.chain(*own.values(), [prefix + "unlisted"]):
        register(mlflow_server.uri, name, versions=1)
    grants = {"tok-1": set(own["p1"]), "tok-2": set(own["p2"]), "general": set(own["p3"] + own["p4"])}
    with auth_proxy(mlflow_server.uri, grants) as proxy:
        environ = {"MLFLOW_TRACKING_URI": proxy.url, "PROJECT_ID_p1": "tok-1", "PROJECT_ID_p2": "tok-2",
                   "MLFLOW_TRACKING_TOKEN": "general"}
        entries = [ManifestEntry(p, name, VersionRef(number=1)) for p, names in own.items() for name in names]
        with Connections(environ) as connections:
            observed = observe_registry(entries, connections.mlflow_reader)
            assert connections.mlflow_reader("p3") is connections.mlflow_reader("p4")

    assert [o.target.version for o in observed] == ["1"] * 5
    sent = {(path, token) for _, path, token, _ in proxy.log.calls}
    # One search per credential, whatever the number of models: the newest versions are the ones asked for.
    assert len(sent) == 3 and all("/registered-models/search?" in path for path, _ in sent)
    assert {token for _, _, token, model in proxy.log.calls if model == prefix + "c1"} == {"general"}
    assert not any(model == prefix + "unlisted" for *_, model in proxy.log.calls)


def test_versions_are_searched_only_for_models_whose_newest_versions_do_not_answer(mlflow_server, prefix) -> None:
    """A registered-models/search row carries the newest version of each stage, whole: entries
    naming those cost no version search. An older version, or a model with a version in a legacy
    stage (the planner asks every holder), is read whole, alone in its search; the plan reads
    the same targets, aliases and stage holders as from the one-model-at-a-time reader."""
    names = {n: prefix + n for n in ("one", "aliased", "older", "staged", "big")}
    register(mlflow_server.uri, names["one"], versions=1)
    register(mlflow_server.uri, names["aliased"], versions=3, aliases={"candidate": 3, "champion": 1},
             tags={3: {"DOMINO_MODEL_ID": "id-3", "note": 'va"l'}})
    register(mlflow_server.uri, names["older"], versions=3, tags={2: {"k": "v"}})
    register(mlflow_server.uri, names["staged"], versions=2, stage=(1, "Staging"))
    register(mlflow_server.uri, names["big"], versions=30, aliases={"candidate": 30})
    refs = {"one": VersionRef(number=1), "aliased": VersionRef(alias="candidate"), "older": VersionRef(number=2),
            "staged": VersionRef(number=2), "big": VersionRef(alias="candidate")}
    entries = [ManifestEntry("p1", names[n], ref, line=i) for i, (n, ref) in enumerate(refs.items(), 1)]
    with auth_proxy(mlflow_server.uri, {"tok": None}) as proxy:
        environ = {"MLFLOW_TRACKING_URI": proxy.url, "PROJECT_ID_p1": "tok"}
        with Connections(environ) as connections:
            observed = {o.model.name: o for o in observe_registry(entries, connections.mlflow_reader)}
    credentials = MlflowCredentials.from_env({"MLFLOW_TRACKING_URI": mlflow_server.uri})
    whole = OneModelAtATime(MlflowRegistry(credentials)).models(names.values())

    for name in names.values():
        assert observed[name].target == whole[name].version(observed[name].target.version)
        assert observed[name].model.aliases == whole[name].aliases
        assert observed[name].model.in_stage("Staging") == whole[name].in_stage("Staging")
    assert [observed[names[n]].target.version for n in refs] == ["1", "3", "2", "2", "30"]
    assert observed[names["aliased"]].target.tag_map == {"DOMINO_MODEL_ID": "id-3", "note": 'va"l'}
    assert observed[names["aliased"]].target.aliases == ("candidate",)
    assert [observed[names[n]].model.complete for n in refs] == [False, False, True, True, False]
    assert observed[names["older"]].model == whole[names["older"]]  # read whole: every version
    assert [len(observed[names[n]].model.versions) for n in ("one", "aliased", "big")] == [1, 1, 1]
    searched = [(path.split("?")[0].rsplit("/", 2)[-2], model) for _, path, _, model in proxy.log.calls
                if "/search" in path]
    assert sorted(model for kind, model in searched if kind == "registered-models") == sorted(names.values())
    assert sorted(model for kind, model in searched if kind == "model-versions") == sorted(
        [names["older"], names["staged"]])
    assert len({path for _, path, _, _ in proxy.log.calls}) == 2  # one search of each kind


def test_a_batch_fits_the_query_budget_and_one_long_name_still_goes() -> None:
    reader = MlflowReader(MlflowCredentials.from_env({"MLFLOW_TRACKING_URI": "http://127.0.0.1:9"}), environ={},
                          max_query_bytes=400)
    names = [f"model-{i:04d}" for i in range(100)] + ["x" * 600]
    batches = list(reader.batches(names))

    assert list(itertools.chain(*batches)) == names
    assert batches[-1] == ["x" * 600]
    assert all(len(name_filter(b)) < 400 for b in batches[:-1])


def test_a_local_store_is_refused_with_a_hint(tmp_path) -> None:
    """sqlite:/// has no REST API, and we speak only that: serving it is the user's one step."""
    from domino_mlops.errors import ConfigError

    with Connections({"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}"}) as connections:
        for read in (connections.mlflow_reader, connections.ledger_reader, connections.registry):
            with pytest.raises(ConfigError, match="local store, not a tracking server") as info:
                read("p1")
            assert "mlflow server --backend-store-uri sqlite:///" in info.value.hint
