"""The runtime needs no `mlflow` package against a tracking server (issue 12, cold start): the real
CLI, in a process where importing `mlflow` fails, deploys with a smoke test fed by the logged
input example, promotes, shows the history and rolls back, against a real MLflow server and the
Domino emulator. Each attempt to import `mlflow` is also counted, so that a caller swallowing the
ImportError (a silent fallback) fails the test too."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from domino_mlops.clients.mlflow.registry import MlflowRegistry
from domino_mlops.clients.mlflow.auth import MlflowCredentials
from domino_emulator import Emulator
from domino_emulator.seed import default_seed
from domino_emulator.local.models import register_diabetes_model

REPO = Path(__file__).resolve().parents[1]

# Runs the CLI as the console script does (cli.entry), with every `mlflow` import refused.
BLOCKED = """
import atexit, sys

tried = []


class NoMlflow:
    def find_spec(self, name, path=None, target=None):
        if name == "mlflow" or name.startswith(("mlflow.", "mlflow_")):
            tried.append(name)
            raise ImportError(f"mlflow is not installed here ({name})")
        return None


sys.meta_path.insert(0, NoMlflow())
atexit.register(lambda: print("MLFLOW-IMPORTS", sorted(set(tried)), file=sys.stderr))
sys.argv = ["domino-mlops", *sys.argv[1:]]
from domino_mlops.cli import entry

entry()
"""


@pytest.fixture
def emulator(mlflow_server) -> Iterator[Emulator]:
    """Model APIs public, so the smoke tests reach them without model access tokens."""
    seed = default_seed()
    seed["model_api_access"] = [{"project": seed["default_project"], "model_api": "*", "public": True}]
    with Emulator(mlflow_uri=mlflow_server.uri, world=seed, deploy_seconds=0.2) as emu:
        yield emu


def test_deploy_promote_history_rollback_without_the_mlflow_package(tmp_path, mlflow_server, emulator) -> None:
    model = "no-mlflow-runtime"
    v1 = register_diabetes_model(mlflow_server.uri, model)
    v2 = register_diabetes_model(mlflow_server.uri, model, alpha=5.0)
    (tmp_path / "scripts").mkdir()
    shipped = (REPO / "scripts" / "environments.yaml").read_text()  # latency bounds no busy machine misses
    (tmp_path / "scripts" / "environments.yaml").write_text(re.sub(r"max_latency_ms: \d+", "max_latency_ms: 120000",
                                                                   shipped))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DOMINO_", "PROJECT_ID_", "GITHUB_"))}
    env.update({"MLFLOW_TRACKING_URI": mlflow_server.uri, "DOMINO_API_HOST": emulator.url,
                f"PROJECT_ID_{emulator.project_id}": emulator.token, "GITHUB_ACTOR": "octocat",
                "GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
                "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567"})

    def cli(*argv: str) -> str:
        done = subprocess.run([sys.executable, "-c", BLOCKED, *argv], capture_output=True, text=True, cwd=tmp_path,
                              env=env, timeout=300, check=False)
        assert done.returncode == 0 and "MLFLOW-IMPORTS []" in done.stderr, (argv, done.stderr[-3000:])
        return done.stdout

    for version in (v1, v2):
        # No smoke_test input in the manifest: the smoke test sends the input example logged with the model.
        (tmp_path / "scripts" / "model_version.json").write_text(
            json.dumps({emulator.project_id: [{"name": model, "version": int(version)}]}))
        cli("deploy", "--env", "STAGE")
        cli("promote")

    registry = MlflowRegistry(MlflowCredentials.from_env({}, tracking_uri=mlflow_server.uri))
    smoke = json.loads(registry.get_version(model, v2).tag_map["domino_mlops.STAGE.smoke"])
    assert smoke[f"{model}-stage"]["shape"] == [3]  # the example's three rows, one prediction each
    assert registry.alias_target(model, "production") == v2

    cli("rollback", "--env", "PROD", "--model", model)
    assert registry.alias_target(model, "production") == v1
    table = cli("history", "--model", model, "--env", "PROD")
    assert table.count("| PROD |") == 3 and "| rollback |" in table
