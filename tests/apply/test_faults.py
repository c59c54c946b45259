"""Deploys converge under transient faults: the facade (domino_mlops.api) against the Domino emulator with
seeded faults (429 with Retry-After, 503, dropped connections, latency) and the real MLflow server
behind a seeded fault proxy (tests/support/fault_proxy.py). Re-run loops are bounded and asserted;
nothing waits on time. The CLI in-process where what it says is the subject (an unverified
version's error line, result-json, the summary). The long and load runs are in test_stress.py
(`make stress`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from domino_mlops.api import DeployRequest
from domino_mlops.clients.domino.deployments import ModelDeployments
from domino_mlops.errors import RemoteError
from domino_emulator.local.models import SAMPLE_PATIENT, register_diabetes_model
from tests.apply.conftest import RELAXED_LATENCY_MS, Pipeline, _workspace, events_to
from tests.apply.test_smoke_access import deployed_once
from tests.report.test_github import parse_output_file
from tests.support.convergence import (
    DOMINO_FAULTS,
    MLFLOW_FAULTS,
    figures_folder,
    promote_everything,
    register_copies,
)
from tests.support.fault_proxy import FaultProxy, ProxyFaults, fault_proxy

SMOKE = {"input": SAMPLE_PATIENT, "expect_shape": [1]}
MODEL_ROUTE = "POST /models/{modelId}/latest/model"
MAX_RUNS = 3  # per environment: what "converges" means here


def entry(model: str, version: str) -> dict:
    return {"name": model, "version": int(version), "smoke_test": SMOKE}


def test_a_rate_limited_smoke_call_is_retried_and_timed_on_the_attempt_that_answered(pipeline) -> None:
    model = pipeline.unique("smoke-429")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest(entry(model, v1))
    # The model's first three calls are answered 429 with Retry-After: 1 s. Three seconds of
    # waiting: more than the whole call may take in STAGE (max_latency_ms: 2000, as shipped).
    environments = pipeline.root / "scripts" / "environments.yaml"
    environments.write_text(environments.read_text().replace(
        f"max_latency_ms: {RELAXED_LATENCY_MS}", "max_latency_ms: 2000", 1))
    pipeline.emu.set_faults(seed=1, prefix="/models/", methods=["POST"], rate_429=1.0, limit=3, retry_after=1)

    assert pipeline.deploy().exit_code == 0

    assert [r.status for r in pipeline.emu.requests if r.route == MODEL_ROUTE] == [429, 429, 429, 200]
    assert pipeline.aliases(model) == {"staging": v1}
    smoke = json.loads(pipeline.tags(model, v1)["domino_mlops.STAGE.smoke"])[f"{model}-stage"]
    assert smoke["latency_ms"] < 3000  # the answer's own time: the waits alone took 3 s


def test_a_failed_smoke_test_puts_each_tier_back_once(pipeline) -> None:
    model, v1, v2, api = deployed_once(pipeline, "put-back-once")
    _, (first,) = pipeline.serving(f"{model}-stage")
    pipeline.manifest({"name": model, "version": int(v2), "smoke_test": {"input": SAMPLE_PATIENT, "expect_shape": [3]}})
    events: list[str] = []

    outcome = pipeline.call("deploy", DeployRequest("STAGE"), events_to(lambda _, message: events.append(message)))

    assert outcome.exit_code == 1 and [m.status for m in outcome.result.models] == ["failed"]
    put_back = [m for m in events if f"previous version {first.id} is serving again" in m]
    assert len(put_back) == 1, events
    assert pipeline.domino.model_apis.get(api.id).active_version.id == first.id


def test_a_put_back_that_fails_says_domino_serves_an_unverified_version(pipeline, monkeypatch, capsys) -> None:
    model, v1, v2, api = deployed_once(pipeline, "put-back-fails")
    _, (first,) = pipeline.serving(f"{model}-stage")
    pipeline.manifest({"name": model, "version": int(v2), "smoke_test": {"input": SAMPLE_PATIENT, "expect_shape": [3]}})
    real_start = ModelDeployments.start

    def start(self, model_api_id: str, version_id: str):
        if version_id == first.id:  # Domino will not start the previous version again
            raise RemoteError("Domino", 400, "POST /v4/modelManager/startModelDeployment", "image not found")
        return real_start(self, model_api_id, version_id)

    monkeypatch.setattr(ModelDeployments, "start", start)
    capsys.readouterr()

    assert pipeline.run("deploy", "--env", "STAGE") == 1

    _, versions = pipeline.serving(f"{model}-stage")
    (second,) = [v for v in versions if v.id != first.id]
    err = capsys.readouterr().err
    assert "result shape [1], expected [3]" in err  # the failure that started it
    assert (f"Domino now serves an UNVERIFIED version of {model} (version {v2}): Model API {model}-stage "
            f"({api.id}) is on version {second.id}, not {first.id} (Domino answered 400") in err
    assert f"hint: Start version {first.id} of Model API {model}-stage ({api.id}) again in Domino" in err
    (result,) = json.loads(parse_output_file((pipeline.root / "github_output").read_text())["result-json"])["models"]
    assert result["status"] == "unverified" and "UNVERIFIED" in result["message"]
    assert "| :rotating_light: |" in (pipeline.root / "summary.md").read_text()
    assert pipeline.aliases(model) == {"staging": v1}  # MLflow still names the version that passed


@pytest.fixture
def faulty(tmp_path: Path, mlflow_server, public_emulator, monkeypatch: pytest.MonkeyPatch
           ) -> Iterator[tuple[Pipeline, FaultProxy]]:
    """A workspace whose CLI reaches MLflow through the fault proxy (faults off until the test
    turns them on); the test's own looks go to MLflow and the emulator directly."""
    with fault_proxy(mlflow_server.uri) as proxy:
        pipeline = _workspace(tmp_path, mlflow_server.uri, public_emulator, monkeypatch)
        monkeypatch.setenv("MLFLOW_TRACKING_URI", proxy.url)
        yield pipeline, proxy


def test_promotions_converge_under_faults_on_both_servers(faulty, diabetes_model, tmp_path) -> None:
    """Every promotion converges within MAX_RUNS runs; one Model API version per (model,
    environment, registry version); no alias moves on without a passed smoke test; the ledger
    records each once; a re-run of finished work writes nothing (tests/support/convergence.py)."""
    pipeline, proxy = faulty
    versions = register_copies(pipeline.mlflow_uri, [pipeline.unique("flaky") for _ in range(3)],
                               source=diabetes_model)
    pipeline.manifest(*(entry(model, version) for model, version in versions.items()))
    pipeline.emu.set_faults(DOMINO_FAULTS)
    proxy.set_faults(ProxyFaults(**MLFLOW_FAULTS))

    figures = promote_everything(pipeline, proxy, {m: (pipeline.project_id, v) for m, v in versions.items()},
                                 name="faults-fast", max_runs=MAX_RUNS, max_parallel=3)

    figures.write(figures_folder(tmp_path))


def test_a_run_stopped_while_tagging_records_the_smoke_test_before_the_alias_moves(pipeline, monkeypatch) -> None:
    from domino_mlops.clients.mlflow.rest import MlflowRest

    model = pipeline.unique("tagging")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest(entry(model, v1))
    real, stopped = MlflowRest.write, []

    def stop_at_the_smoke_tag_once(self, method, endpoint, body, *, what):
        if body.get("key") == "domino_mlops.STAGE.smoke" and not stopped:
            stopped.append(body["key"])
            raise RuntimeError("the runner was killed")  # not an MLflow error: nothing retries it
        return real(self, method, endpoint, body, what=what)

    monkeypatch.setattr(MlflowRest, "write", stop_at_the_smoke_tag_once)
    with pytest.raises(RuntimeError, match="the runner was killed"):  # not ours: the CLI says re-run (exit 1)
        pipeline.deploy()
    assert stopped
    assert "domino_mlops.STAGE.status" not in pipeline.tags(model, v1)  # "passed" is written last

    assert pipeline.deploy().exit_code == 0

    tags = pipeline.tags(model, v1)
    assert pipeline.aliases(model) == {"staging": v1} and tags["domino_mlops.STAGE.status"] == "passed"
    assert json.loads(tags["domino_mlops.STAGE.smoke"])[f"{model}-stage"]["shape"] == [1]
