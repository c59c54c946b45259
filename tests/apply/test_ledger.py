"""The ledger records each change once, also when MLflow loses the answer to a create."""

from __future__ import annotations

from domino_mlops.state.ledger import Ledger, LedgerEntry
from domino_mlops.clients.mlflow.registry import MlflowRegistry
from domino_mlops.clients.mlflow.auth import MlflowCredentials
from tests.support.fault_proxy import ProxyFaults, fault_proxy


def ledger(uri: str) -> Ledger:
    return Ledger(MlflowRegistry(MlflowCredentials.from_env({}, tracking_uri=uri)))


def test_an_entry_whose_create_answer_was_lost_is_recorded_once(mlflow_server) -> None:
    entry = LedgerEntry("STAGE", "ledger-lost-answer", None, "1", "deploy", actor="octocat")
    ledger(mlflow_server.uri).entries()  # nothing recorded yet: reads only
    faults = ProxyFaults(lost_rate=1.0, paths=("/runs/create",), limit=1)  # MLflow acts; the answer is lost
    with fault_proxy(mlflow_server.uri, faults) as proxy:
        stored, written = ledger(proxy.url).record(entry)
        assert proxy.counters.faults() == {"lost": 1}

    assert written
    (recorded,) = ledger(mlflow_server.uri).entries(model=entry.subject)
    assert recorded.run_id == stored.run_id and recorded.key == stored.key and recorded.actor == "octocat"
    assert ledger(mlflow_server.uri).record(entry) == (recorded, False)  # and a re-run finds it


def test_a_job_and_a_model_of_one_name_keep_their_own_entries(mlflow_server) -> None:
    book = ledger(mlflow_server.uri)
    name = "ledger-kinds"
    model, written = book.record(LedgerEntry("STAGE", name, None, "1", "deploy"))
    job, job_written = book.record(LedgerEntry("STAGE", name, None, "1", "deploy", kind="job"))
    assert written and job_written and model.key != job.key  # the job's entry is no re-run of the model's
    assert [e.kind for e in book.entries(model=name)] == ["model", "job"]
    assert book.entries(model=name, kind="job") == (job,) and book.last("STAGE", name) == model
    assert book.record(LedgerEntry("STAGE", name, None, "1", "deploy", kind="job")) == (job, False)


def test_a_read_only_ledger_answers_as_the_writing_one_does(mlflow_server) -> None:
    """A plan reads the ledger with a reader alone (no registry): same entries, same order, in
    one lookup plus one search per page; and it cannot write."""
    import pytest

    from domino_mlops.clients.mlflow.reader import MlflowReader

    written = ledger(mlflow_server.uri)
    models = [("rest-a", "1"), ("rest-b", "1"), ("rest-a", "2"), ("rest-c'q", "3"), ("rest-d'\"q", "1"),
              ("rest-dxyq", "1")]  # the last one matches the LIKE a name with both quotes needs
    for i, (model, to) in enumerate(models):
        written.record(LedgerEntry("REST", model, None, to, "deploy", time_ms=1_000 + i, commit_sha=f"c{i}"))
    reader = MlflowReader(MlflowCredentials.from_env({}, tracking_uri=mlflow_server.uri), environ={})

    assert Ledger(reader).entries(environment="REST") == ledger(mlflow_server.uri).entries(environment="REST")
    assert [e.to_version for e in Ledger(reader).entries(model="rest-a", environment="REST")] == ["1", "2"]
    # Names with quotes (MLflow does not unescape): one kind, both kinds, and a near miss.
    for name in ("rest-c'q", "rest-d'\"q"):
        assert [e.subject for e in Ledger(reader).entries(model=name)] == [name]
        assert [e.subject for e in ledger(mlflow_server.uri).entries(model=name)] == [name]
    before = reader.rest.requests
    Ledger(reader).entries(environment="REST")
    assert reader.rest.requests - before == 2  # the experiment, then one search
    with pytest.raises(TypeError, match="reads only"):
        Ledger(reader).record(LedgerEntry("REST", "rest-a", None, "3", "deploy"))


def test_the_rest_reader_of_a_ledger_never_written_is_empty(mlflow_server, monkeypatch) -> None:
    from domino_mlops.state import ledger as ledger_module
    from domino_mlops.clients.mlflow.reader import MlflowReader

    monkeypatch.setattr(ledger_module, "EXPERIMENT", "a-ledger-nobody-wrote")
    reader = MlflowReader(MlflowCredentials.from_env({}, tracking_uri=mlflow_server.uri), environ={})
    assert ledger_module.Ledger(reader).entries(environment="STAGE") == ()
    assert reader.rest.requests == 1  # the lookup said "none": no search


def test_many_models_share_one_lookup_and_one_history_search(mlflow_server) -> None:
    """What the executor does before finishing N models: one experiment lookup and one search for
    every history, then two writes per model (create, finish); a re-run writes nothing."""
    models = [f"batch-ledger-{i}" for i in range(6)]
    ledger(mlflow_server.uri).entries()  # the experiment exists (a first record creates it)
    with fault_proxy(mlflow_server.uri, ProxyFaults()) as proxy:
        for round_ in ("first", "again"):
            proxy.counters.clear()
            book = ledger(proxy.url)
            histories = book.histories("BATCH", models)
            results = [book.record(LedgerEntry("BATCH", m, None, "1", "deploy"), history=histories[m])
                       for m in models]
            routes = {route.rsplit("/", 1)[-1]: n for route, n in proxy.counters.by_route().items()}
            if round_ == "first":
                assert all(written for _, written in results)
                assert proxy.counters.writes() == 2 * len(models)
            else:
                assert not any(written for _, written in results) and proxy.counters.writes() == 0
            assert routes.get("get-by-name", 0) <= 1 and routes["search"] == 1, routes

    assert [e.subject for e in ledger(mlflow_server.uri).entries(environment="BATCH")] == models


def test_parallel_writers_of_one_ledger_look_the_experiment_up_once(mlflow_server) -> None:
    """An apply's models record from parallel workers through one Ledger: one lookup for all of
    them (issue 23: each worker asked, and on a first ever entry each created it)."""
    from concurrent.futures import ThreadPoolExecutor

    ledger(mlflow_server.uri).record(LedgerEntry("STAGE", "ledger-parallel-first", None, "1", "deploy"))
    with fault_proxy(mlflow_server.uri) as proxy:
        book = ledger(proxy.url)
        entries = [LedgerEntry("STAGE", f"ledger-parallel-{i}", None, "1", "deploy") for i in range(8)]
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda e: book.record(e, history=()), entries))
        routes = proxy.counters.by_route()
    assert all(written for _, written in results)
    assert routes.get("GET /api/2.0/mlflow/experiments/get-by-name") == 1
    assert routes.get("POST /api/2.0/mlflow/experiments/create", 0) == 0  # the entry above made it
    assert routes["POST /api/2.0/mlflow/runs/create"] == 8 and routes["POST /api/2.0/mlflow/runs/update"] == 8
