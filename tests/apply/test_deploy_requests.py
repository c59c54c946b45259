"""What a deploy asks MLflow, counted at MLflow's REST edge (a proxy in front of the real server;
the emulator's own reads of the model files go straight to MLflow and are not counted): issue 23,
item 1. benchmarks/deploy_requests.py prints the whole table; here the counts that were cut are
held (no more than they are now), and so is what must stay: the lease checked on the read the
tags make anyway, before any tag is written.
"""

from __future__ import annotations

import socket
import time

from domino_mlops.clients.mlflow.auth import MlflowCredentials
from domino_mlops.clients.mlflow.registry import MlflowRegistry
from domino_mlops.state.lease import TAG, Claim
from domino_emulator.local.models import register_diabetes_model
from tests.apply.conftest import events_to
from tests.support.fault_proxy import fault_proxy

API = "/api/2.0/mlflow"
MODELS = 3


def _models(pipeline, count: int) -> dict[str, str]:
    versions = {}
    for _ in range(count):
        model = pipeline.unique("counted")
        versions[model] = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest(*({"name": m, "version": int(v)} for m, v in versions.items()))
    return versions


def test_a_first_deploy_asks_mlflow_at_most_so_often_per_model(pipeline, mlflow_server) -> None:
    versions = _models(pipeline, MODELS)
    with fault_proxy(mlflow_server.uri) as proxy:  # no faults: it only counts
        pipeline.monkeypatch.setenv("MLFLOW_TRACKING_URI", proxy.url)
        outcome = pipeline.deploy()
        routes = proxy.counters.by_route()
    assert outcome.result.exit_code == 0 and [m.status for m in outcome.result.models] == ["done"] * MODELS

    def count(route: str) -> int:
        return routes.get(route, 0)

    # Per model: lease checks before the deploy, on the tags' read (which shows the version's tags
    # too: no model-versions/get) and before the release; the alias's compare-and-swap read and read-back.
    assert count(f"GET {API}/registered-models/get") <= 5 * MODELS
    assert count(f"GET {API}/model-versions/get") == 0
    # The legacy stage: the plan saw each version outside it, so no version search before the write.
    assert count(f"GET {API}/model-versions/search") <= 1  # the plan's, at most
    assert count(f"POST {API}/model-versions/transition-stage") == MODELS
    # The input example: where the files are, then the file (no logged-model lookup).
    assert count(f"GET {API}/model-versions/get-download-uri") <= MODELS
    assert not any(route.startswith(f"GET {API}/logged-models/") for route in routes)
    # The ledger's experiment: looked up by the plan and once by the apply, not once per model.
    assert count(f"GET {API}/experiments/get-by-name") <= 2
    assert count(f"POST {API}/experiments/create") <= 1
    assert count(f"POST {API}/runs/create") == MODELS and count(f"POST {API}/runs/update") == MODELS
    assert sum(routes.values()) <= 18 * MODELS + 8, routes
    assert all(pipeline.aliases(m)["staging"] == v for m, v in versions.items())


def test_a_lease_taken_over_before_the_marking_stops_it_before_any_tag(pipeline, mlflow_server) -> None:
    """The tags' own read of the registered model is the lease check: another run's claim found
    there stops the model before its first tag, stage or alias write."""
    (model, version), = _models(pipeline, 1).items()
    registry = MlflowRegistry(MlflowCredentials.from_env({"MLFLOW_TRACKING_URI": mlflow_server.uri}))
    tag = TAG.format(environment="STAGE")
    rival = Claim("another-run", "another run", socket.gethostname() + "-elsewhere", 1, time.time() + 600)

    def on_event(subject: str, message: str) -> None:
        if subject == model and "smoke test passed" in message:  # deployed: the marking comes next
            registry.set_model_tag(model, tag, rival.to_json())

    with fault_proxy(mlflow_server.uri) as proxy:
        pipeline.monkeypatch.setenv("MLFLOW_TRACKING_URI", proxy.url)
        outcome = pipeline.call("deploy", _request(), events_to(on_event))
        writes = proxy.counters.writes_by_route()
    (result,) = outcome.result.models
    assert result.status == "conflict" and outcome.result.exit_code == 4 and "another run" in result.message
    assert not any("model-versions/" in route or "registered-models/alias" in route for route in writes), writes
    assert "domino_mlops.STAGE.status" not in pipeline.tags(model, version)
    assert "staging" not in pipeline.aliases(model)
    assert registry.model_tags(model)[tag] == rival.to_json()  # never removed by the run that lost it


def _request():
    from domino_mlops import api

    return api.DeployRequest("STAGE")
