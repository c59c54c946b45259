"""Shared pieces for the Domino client tests: a fake clock for sleeps, pinned jitter, builders."""

from __future__ import annotations

from typing import Any

import responses

from domino_mlops.clients.domino.client import DominoClient
from domino_mlops.clients.domino.auth import ApiKeyAuth, DominoConfig
from domino_mlops.clients.http import HttpClient

HOST = "https://domino.test"
API_KEY = "api-key-SECRET-8c1f"  # a value no message or log line may ever contain


class Sleeps(list[float]):
    """Injected in place of time.sleep: records the delays, never waits."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class MaxJitter:
    """Jitter pinned to its upper bound, so backoff delays are exact."""

    def random(self) -> float:
        return 1.0


def make_http(base_url: str = HOST, **options: Any) -> tuple[HttpClient, Sleeps]:
    sleeps = Sleeps()
    options.setdefault("rng", MaxJitter())
    return HttpClient(base_url, ApiKeyAuth(API_KEY), sleep=sleeps, **options), sleeps


def make_client(environ: dict[str, str] | None = None, **options: Any) -> tuple[DominoClient, Sleeps]:
    sleeps = Sleeps()
    options.setdefault("rng", MaxJitter())
    env = environ or {"DOMINO_API_HOST": HOST, "DOMINO_USER_API_KEY": API_KEY}
    return DominoClient.from_config(DominoConfig.from_env(env), sleep=sleeps, **options), sleeps


def calls_to(mock: responses.RequestsMock, method: str, path: str) -> list[Any]:
    """The recorded calls with this method whose path (query ignored) is ``path``."""
    return [c for c in mock.calls if c.request.method == method and c.request.path_url.split("?")[0] == path]


def nonconforming_requests(mock: responses.RequestsMock) -> list[str]:
    """Every recorded request that breaks Domino's published request schema: its body, its query
    parameters (an undeclared one counts) and its path parameters. Empty when all conform."""
    import json
    from urllib.parse import urlsplit

    from domino_emulator.contract import load_contract

    contract = load_contract()
    problems = []
    for call in mock.calls:
        parts = urlsplit(call.request.url)
        route = contract.match(call.request.method, parts.path)
        if route is None:
            problems.append(f"{call.request.method} {parts.path}: no such route in the contract")
            continue
        body = json.loads(call.request.body) if call.request.body else None
        problems += [f"{route.key}: {p}" for p in contract.check_request(
            route, body, query=parts.query, path=parts.path, strict_query=True)]
    return problems
