"""The fault proxy the MLflow fault tests stand behind: seeded, counted, and really faulty."""

from __future__ import annotations

import requests

from tests.support.fault_proxy import ProxyFaults, fault_proxy

SEARCH = "/api/2.0/mlflow/registered-models/search"
SET_TAG = "/api/2.0/mlflow/registered-models/set-tag"


def outcomes(url: str, paths: list[str]) -> list[object]:
    seen: list[object] = []
    with requests.Session() as session:
        for path in paths:
            try:
                seen.append(session.get(url + path, timeout=10).status_code)
            except requests.ConnectionError:
                seen.append("reset")
    return seen


def test_the_same_seed_and_requests_give_the_same_faults_in_any_order(mlflow_server) -> None:
    paths = [f"{SEARCH}?max_results={n}" for n in range(1, 40)]
    faults = ProxyFaults(seed=3, rate_500=0.2, rate_503=0.2, reset_rate=0.2)
    with fault_proxy(mlflow_server.uri, faults) as proxy:
        first = dict(zip(paths, outcomes(proxy.url, paths), strict=True))
        proxy.set_faults(faults)  # the sequence starts again
        backwards = dict(zip(paths[::-1], outcomes(proxy.url, paths[::-1]), strict=True))
        assert first == backwards
        assert {200, 500, 503, "reset"} <= set(first.values())
        assert proxy.counters.total() == 2 * len(paths)
        assert sum(proxy.counters.faults().values()) == 2 * sum(1 for o in first.values() if o != 200)
    with fault_proxy(mlflow_server.uri, ProxyFaults(seed=4, rate_500=0.2, rate_503=0.2, reset_rate=0.2)) as other:
        assert dict(zip(paths, outcomes(other.url, paths), strict=True)) != first


def test_a_lost_answer_reached_the_server_and_a_reset_did_not(mlflow_server) -> None:
    requests.post(f"{mlflow_server.uri}/api/2.0/mlflow/registered-models/create", json={"name": "proxied"},
                  timeout=10).raise_for_status()
    with fault_proxy(mlflow_server.uri) as proxy:
        for fault, value in (("reset", "before"), ("lost", "after")):
            proxy.set_faults(ProxyFaults(reset_rate=1.0) if fault == "reset" else ProxyFaults(lost_rate=1.0))
            try:
                requests.post(proxy.url + SET_TAG, json={"name": "proxied", "key": fault, "value": value}, timeout=10)
            except requests.ConnectionError:
                pass
            else:
                raise AssertionError(f"{fault}: the proxy answered")
        assert proxy.counters.faults() == {"reset": 1, "lost": 1}
        assert proxy.counters.writes() == 1  # only the lost one reached MLflow
        proxy.set_faults(None)
        tags = requests.get(f"{proxy.url}/api/2.0/mlflow/registered-models/get", params={"name": "proxied"},
                            timeout=10).json()["registered_model"].get("tags", [])
    assert {t["key"]: t["value"] for t in tags} == {"lost": "after"}


def test_a_503_says_when_to_come_back_and_latency_is_added(mlflow_server) -> None:
    with fault_proxy(mlflow_server.uri, ProxyFaults(rate_503=1.0, retry_after=2, latency_ms=50)) as proxy:
        response = requests.get(proxy.url + SEARCH, timeout=10)
    assert response.status_code == 503 and response.headers["Retry-After"] == "2"
    assert response.elapsed.total_seconds() >= 0.025  # at least half the latency asked for
