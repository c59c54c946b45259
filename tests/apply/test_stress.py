"""Long and load runs under the same faults as tests/apply/test_faults.py, on both servers: many
models through STAGE and PROD, each re-run until it converges (bounded), then checked and re-run
once more to show that finished work writes nothing. `make stress`; not run by CI.

The figures (CLI runs, wall time, Domino and MLflow requests and injected faults) are printed and
kept as JSON in $FAULT_FIGURES_DIR (else the test's tmp folder):

    FAULT_FIGURES_DIR=/tmp/figures make stress
    PYTHONPATH=src:emulator/src python -m pytest -q -s -m stress tests/apply/test_stress.py   # printed as well
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from domino_mlops.clients.domino.client import DominoClient
from domino_emulator import Emulator
from domino_emulator.seed import ADMIN_API_KEY
from domino_emulator.local.models import SAMPLE_PATIENT
from tests.apply.conftest import Pipeline, _workspace
from tests.support.convergence import (
    DOMINO_FAULTS,
    MLFLOW_FAULTS,
    figures_folder,
    promote_everything,
    register_copies,
    world_with_projects,
)
from tests.support.fault_proxy import FaultProxy, ProxyFaults, fault_proxy

pytestmark = pytest.mark.stress

SMOKE = {"input": SAMPLE_PATIENT, "expect_shape": [1]}
MAX_RUNS = 4  # per environment (and per project, when each project has its own runs)


def write_manifest(pipeline: Pipeline, models: dict[str, tuple[str, str]]) -> None:
    doc: dict[str, list[dict]] = {}
    for model, (project, version) in models.items():
        doc.setdefault(project, []).append({"name": model, "version": int(version), "smoke_test": SMOKE})
    (pipeline.root / "scripts" / "model_version.json").write_text(json.dumps(doc, indent=2))


@pytest.fixture
def faulty_world(request, tmp_path: Path, mlflow_server, monkeypatch: pytest.MonkeyPatch
                 ) -> Iterator[tuple[Pipeline, FaultProxy, list[tuple[str, str]]]]:
    """An emulator with ``request.param`` projects (public Model APIs, a token each), MLflow behind
    the fault proxy, and a workspace holding every project's token: (pipeline, proxy, projects)."""
    seed, projects = world_with_projects(request.param)
    with Emulator(mlflow_uri=mlflow_server.uri, world=seed, deploy_seconds=0.2) as emu, \
            fault_proxy(mlflow_server.uri) as proxy:
        pipeline = _workspace(tmp_path, mlflow_server.uri, emu, monkeypatch)
        for project_id, token in projects:
            monkeypatch.setenv(f"PROJECT_ID_{project_id}", token)
        monkeypatch.setenv("MLFLOW_TRACKING_URI", proxy.url)
        yield pipeline, proxy, projects


def admin(pipeline: Pipeline) -> DominoClient:
    """A Domino client that sees every project, for the checks."""
    return DominoClient.from_env({"DOMINO_API_HOST": pipeline.emu.url, "DOMINO_USER_API_KEY": ADMIN_API_KEY})


@pytest.mark.parametrize("faulty_world", [1], indirect=True)
def test_thirty_models_converge_through_stage_and_prod_under_faults(faulty_world, diabetes_model, tmp_path) -> None:
    pipeline, proxy, [(project, _)] = faulty_world
    versions = register_copies(pipeline.mlflow_uri, [f"long-{n}" for n in range(30)], source=diabetes_model)
    models = {model: (project, version) for model, version in versions.items()}
    write_manifest(pipeline, models)
    pipeline.emu.set_faults(DOMINO_FAULTS)
    proxy.set_faults(ProxyFaults(**MLFLOW_FAULTS))

    figures = promote_everything(pipeline, proxy, models, name="faults-long", max_runs=MAX_RUNS, max_parallel=8,
                                 domino=admin(pipeline))

    figures.write(figures_folder(tmp_path))


# About 20 minutes alone on the 2-core machine: under `make soak`, so `make stress` ends in a known time.
@pytest.mark.soak
@pytest.mark.parametrize("faulty_world", [20], indirect=True)
def test_two_hundred_models_in_twenty_projects_converge_under_load_and_faults(faulty_world, diabetes_model,
                                                                              tmp_path) -> None:
    pipeline, proxy, projects = faulty_world
    names = [f"load-{n:03d}" for n in range(200)]
    versions = register_copies(pipeline.mlflow_uri, names, source=diabetes_model)
    models = {model: (projects[n % len(projects)][0], versions[model]) for n, model in enumerate(names)}
    write_manifest(pipeline, models)
    pipeline.emu.set_faults(DOMINO_FAULTS)
    proxy.set_faults(ProxyFaults(**MLFLOW_FAULTS))

    # One CLI run per project and environment, as the workflows' matrix runs them.
    figures = promote_everything(pipeline, proxy, models, name="load", max_runs=MAX_RUNS, max_parallel=8,
                                 per_project=True, domino=admin(pipeline))

    figures.write(figures_folder(tmp_path))


@pytest.mark.parametrize("faulty_world", [1], indirect=True)
def test_five_models_converge_at_the_hostile_trials_fault_rates(faulty_world, diabetes_model, tmp_path) -> None:
    """The rates of the hostile trial that found the roll-backs (30% 429, 20% 503, 10% dropped
    connections on Domino), MLflow as everywhere else: it took STAGE 32-35 runs, and PROD had 2
    of 5 models after 60."""
    pipeline, proxy, [(project, _)] = faulty_world
    versions = register_copies(pipeline.mlflow_uri, [f"hostile-{n}" for n in range(5)], source=diabetes_model)
    models = {model: (project, version) for model, version in versions.items()}
    write_manifest(pipeline, models)
    pipeline.emu.set_faults({"seed": 5, "rules": [{"prefix": "/", "latency_ms": 5, "rate_429": 0.3, "rate_503": 0.2,
                                                   "drop_rate": 0.1, "retry_after": 1}]})
    proxy.set_faults(ProxyFaults(**MLFLOW_FAULTS))

    figures = promote_everything(pipeline, proxy, models, name="faults-hostile", max_runs=MAX_RUNS, max_parallel=5,
                                 domino=admin(pipeline))

    figures.write(figures_folder(tmp_path))
