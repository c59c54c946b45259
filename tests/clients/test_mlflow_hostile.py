"""MLflow over the house HTTP layer (clients/mlflow/rest.py), against a real hostile server on
loopback: each broken answer is translated once into one of our exceptions naming MLflow and the
URI, and a server that trickles bytes is stopped by the total deadline MLFLOW_HTTP_REQUEST_TIMEOUT
implies (twice it, plus 5 s)."""

from __future__ import annotations

import time

import pytest

from domino_mlops.clients.mlflow.registry import MlflowRegistry
from domino_mlops.clients.mlflow.auth import MlflowCredentials
from domino_mlops.clients.mlflow.rest import _http_client
from domino_mlops.errors import (
    AuthenticationFailed,
    BadResponse,
    DominoMlopsError,
    RemoteError,
    Unreachable,
)
from tests.support.hostile_server import hostile_server

ENDS_WITHIN = 30.0  # generous: the point is that it ends (CI machines are busy)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    with hostile_server() as running:
        yield running


def registry(uri: str) -> MlflowRegistry:
    # No retry budget: a 503 is retried elsewhere (test_mlflow_registry); here its message counts.
    return MlflowRegistry(MlflowCredentials.from_env({}, tracking_uri=uri), retry_budget=0)


@pytest.mark.parametrize(("scenario", "status", "body", "error", "words"), [
    ("html", 200, b"", BadResponse, "not JSON"),
    # A 500 is asked again twice (MLflow's searches fail now and then under load), then reported.
    ("html", 500, b"", RemoteError, "answered 500"),
    ("json", 200, b'{"registered_model": 5}', BadResponse, "not what its API promises"),
    ("json", 200, b'{"registered_model": {"name": ["x"]}}', BadResponse, "not what its API promises"),
    ("json", 200, b"[" * 100_000, BadResponse, "not JSON"),
    ("json", 200, b"[1, 2]", BadResponse, "should be an object, got a list"),
    ("json", 401, b'{"error_code": "UNAUTHENTICATED", "message": "no"}', AuthenticationFailed, "401"),
    ("json", 503, b"{}", RemoteError, "answered 503"),
    ("json", 400, b"<p>bad</p>", RemoteError, "400"),
    ("truncated", 200, b'{"registered_model": {"name": "x"}}', Unreachable, "cannot reach MLflow"),
    ("close", 200, b"", Unreachable, "cannot reach MLflow"),
])
def test_a_broken_answer_is_one_of_our_errors_naming_mlflow(server, scenario: str, status: int, body: bytes,
                                                             error: type, words: str) -> None:
    server.answer(scenario, status=status, body=body)
    with pytest.raises(DominoMlopsError) as info:
        registry(server.url).get_model("churn")
    assert isinstance(info.value, error), repr(info.value)
    message = str(info.value)
    assert "MLflow" in message and server.url in message and words in message
    assert "\n" not in message and len(message) < 1000 and "<html" not in message.lower() and "<p>" not in message


def test_a_huge_answer_is_one_short_error(server) -> None:
    server.answer("huge")  # 64 MiB: MLflow reads it whole (the one bound we cannot set from outside)
    server.huge_bytes = 16 * 1024 * 1024
    with pytest.raises(BadResponse) as info:
        registry(server.url).get_model("churn")
    assert len(str(info.value)) < 1000


def test_a_trickling_server_is_stopped_by_the_total_deadline(server, monkeypatch) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "1")  # per read: a byte every 0.05 s never trips it
    server.answer("drip")
    started = time.monotonic()
    with pytest.raises(Unreachable) as info:
        registry(server.url).get_model("churn")
    assert time.monotonic() - started < ENDS_WITHIN
    assert "no complete answer within 7s (total deadline" in str(info.value)
    assert "MLFLOW_HTTP_REQUEST_TIMEOUT" in info.value.hint


def test_the_deadline_follows_mlflows_timeout_setting() -> None:
    credentials = MlflowCredentials.from_env({}, tracking_uri="http://127.0.0.1:5000")
    assert _http_client(credentials, {"MLFLOW_HTTP_REQUEST_TIMEOUT": "20"}).deadline == 45
    assert _http_client(credentials, {}).deadline == 245  # MLflow's own default timeout, 120 s


def test_a_search_answered_with_something_else_is_not_an_empty_registry(server) -> None:
    """`200 {"weird": true}` used to read as "no such model" (MLflow leaves empty lists out, so
    `{}` is an empty page): the plan said "model is not registered". Now it says the server does
    not answer as MLflow does; a real empty page `{}` still means no models."""
    from domino_mlops.clients.mlflow.reader import MlflowReader

    server.answer("json", status=200, body=b'{"weird": true}')
    reader = registry(server.url).reader
    with pytest.raises(BadResponse) as info:
        reader.heads(["churn"])
    assert "does not answer as MLflow does" in str(info.value) and "'weird'" in str(info.value)

    server.answer("json", status=200, body=b"{}")
    assert reader.heads(["churn"]) == {} and isinstance(reader, MlflowReader)
