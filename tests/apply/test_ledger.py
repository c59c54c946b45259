"""The ledger records each change once, also when MLflow loses the answer to a create."""

from __future__ import annotations

from domino_mlops.apply.ledger import Ledger, LedgerEntry
from domino_mlops.clients.mlflow import MlflowRegistry
from domino_mlops.clients.mlflow_auth import MlflowCredentials
from tests.support.fault_proxy import ProxyFaults, fault_proxy


def ledger(uri: str) -> Ledger:
    return Ledger(MlflowRegistry(MlflowCredentials.from_env({}, tracking_uri=uri)))


def test_an_entry_whose_create_answer_was_lost_is_recorded_once(mlflow_server, monkeypatch) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")  # MLflow's client retries, as in the CLI
    entry = LedgerEntry("STAGE", "ledger-lost-answer", None, "1", "deploy", actor="octocat")
    ledger(mlflow_server.uri).entries()  # nothing recorded yet: reads only
    faults = ProxyFaults(lost_rate=1.0, paths=("/runs/create",), limit=1)  # MLflow acts; the answer is lost
    with fault_proxy(mlflow_server.uri, faults) as proxy:
        stored, written = ledger(proxy.url).record(entry)
        assert proxy.counters.faults() == {"lost": 1}

    assert written
    (recorded,) = ledger(mlflow_server.uri).entries(model=entry.model)
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
