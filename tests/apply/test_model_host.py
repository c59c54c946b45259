"""Where models are served (issue 20, item 1): DOMINO_MODEL_HOST carries every model call and
the endpoint; the Model API's page in Domino's UI feeds environment.url; a model host that does
not answer is a configuration error (exit 2), and the healthy version is not put back."""

from __future__ import annotations

import socket

import pytest

from domino_mlops.errors import ConfigError, ModelHostUnreachable
from domino_emulator.local.models import SAMPLE_PATIENT, register_diabetes_model
from tests.report.test_github import parse_output_file
from tests.support.fault_proxy import fault_proxy

SMOKE = {"input": SAMPLE_PATIENT, "expect_shape": [1]}


def entry(model: str, version: str) -> dict:
    return {"name": model, "version": int(version), "smoke_test": SMOKE}


def outputs(pipeline) -> dict[str, str]:
    return parse_output_file((pipeline.root / "github_output").read_text())


def closed_port_url() -> str:
    """A loopback address nothing listens on: connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_models_are_called_on_the_model_host_and_both_urls_are_outputs(pipeline) -> None:
    model = pipeline.unique("host")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest(entry(model, v1))
    # The emulator serves /models/... on its own port; a proxy in front of it is a second host.
    with fault_proxy(pipeline.emu.url) as models:
        pipeline.monkeypatch.setenv("DOMINO_MODEL_HOST", models.url)
        assert pipeline.run("deploy", "--env", "STAGE") == 0
        through_model_host = models.counters.by_route()

    api, _ = pipeline.serving(f"{model}-stage")
    # The smoke call went to the model host, and nothing else did (the API stays on DOMINO_API_HOST).
    assert set(through_model_host) == {f"POST /models/{api.id}/latest/model"}
    out = outputs(pipeline)
    assert out["endpoint-url"] == f"{models.url}/models/{api.id}/latest/model"
    assert out["model-page-url"] == f"{pipeline.emu.url}/models/{api.id}/overview"
    assert pipeline.aliases(model) == {"staging": v1}


def test_the_environments_file_names_the_model_host_of_its_environment(pipeline) -> None:
    model = pipeline.unique("filehost")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest(entry(model, v1))
    with fault_proxy(pipeline.emu.url) as models:
        path = pipeline.root / "scripts" / "environments.yaml"
        path.write_text(path.read_text().replace(
            "      waves: [[small-k8s]]\n      # How often", f"      waves: [[small-k8s]]\n"
            f"      model_host: {models.url}\n      # How often", 1))
        pipeline.monkeypatch.setenv("DOMINO_MODEL_HOST", closed_port_url())  # the file's is more specific
        outcome = pipeline.deploy()
        assert outcome.exit_code == 0
        assert any(route.startswith("POST /models/") for route in models.counters.by_route())
    [(result,)] = [m.deployed for m in outcome.result.models]
    assert result.endpoint_url.startswith(models.url + "/models/")


def test_a_model_host_that_does_not_answer_is_exit_2_and_the_new_version_is_not_put_back(pipeline) -> None:
    model = pipeline.unique("deadhost")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    v2 = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest(entry(model, v1))
    assert pipeline.deploy().exit_code == 0
    api, (first,) = pipeline.serving(f"{model}-stage")

    pipeline.manifest(entry(model, v2))
    pipeline.monkeypatch.setenv("DOMINO_MODEL_HOST", closed_port_url())
    writes = pipeline.emu.counters.writes()
    outcome = pipeline.deploy()
    assert outcome.exit_code == 2

    (error,) = [m.error for m in outcome.result.models]
    assert isinstance(error, ModelHostUnreachable)
    assert "DOMINO_MODEL_HOST" in f"{error}\n{error.hint}" and "connection refused" in f"{error}\n{error.hint}"
    api, versions = pipeline.serving(f"{model}-stage")
    # One write (the new version); no start of the previous one: Domino still serves v2, healthy.
    assert pipeline.emu.counters.writes() == writes + 1
    assert api.active_version.id != first.id
    assert {v.source.registered_model_version for v in versions if v.status == "Running"} == {int(v2)}
    assert pipeline.aliases(model) == {"staging": v1}  # not marked: nothing verified v2

    # Fixed, a re-run verifies what serves and marks it, deploying nothing again.
    pipeline.monkeypatch.delenv("DOMINO_MODEL_HOST")
    writes = pipeline.emu.counters.writes()
    assert pipeline.deploy().exit_code == 0
    assert pipeline.emu.counters.writes() == writes and pipeline.aliases(model) == {"staging": v2}


def test_a_malformed_model_host_is_exit_2_naming_it(pipeline) -> None:
    model = pipeline.unique("badhost")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest(entry(model, v1))
    pipeline.monkeypatch.setenv("DOMINO_MODEL_HOST", "models.example.com")  # no scheme
    writes = pipeline.emu.counters.writes()
    with pytest.raises(ConfigError, match="DOMINO_MODEL_HOST must be an http:// or https:// URL") as refused:
        pipeline.deploy()
    assert refused.value.exit_code == 2
    assert pipeline.emu.counters.writes() == writes
