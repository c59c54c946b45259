"""A pipeline workspace: a repo folder with the two files, env vars pointing at a real MLflow
server and the Domino emulator, and snapshot helpers to prove what was (not) written.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from domino_mlops.cli import main
from domino_emulator import Emulator
from domino_emulator.seed import default_seed
from tests.support.lookups import Lookups

REPO = Path(__file__).resolve().parents[2]
RELAXED_LATENCY_MS = 120_000
_names = itertools.count()


@dataclass
class Pipeline(Lookups):
    root: Path
    mlflow_uri: str
    emu: Any
    monkeypatch: pytest.MonkeyPatch

    def unique(self, stem: str) -> str:
        return f"{stem}-{next(_names)}"

    def manifest(self, *entries: dict, project: str | None = None) -> None:
        doc = {project or self.project_id: list(entries)}
        (self.root / "scripts" / "model_version.json").write_text(json.dumps(doc, indent=2))

    def run(self, *argv: str) -> int:
        return main(list(argv))

    def call(self, verb: str, request: Any, reporter: Any = None) -> Any:
        """The facade as a library caller uses it (domino_mlops.api), on this workspace's files and
        credentials, as the run's commit and actor: for tests about what happens, not what is printed.
        A writing verb's request gets the local user's approval unless it names one."""
        from dataclasses import fields, replace

        from domino_mlops import api
        from domino_mlops.apply.options import RunInfo
        from domino_mlops.commands.runtime import lease_settings, run_info
        from domino_mlops.state.lease import LeaseSettings
        from domino_mlops.connections import Connections
        from domino_mlops.desired.load import read_desired

        names = {f.name for f in fields(request)}
        if "run" in names and request.run == RunInfo():
            request = replace(request, run=run_info())
        if "lease" in names and request.lease == LeaseSettings():
            # The lease timing the CLI reads (DMLOPS_LEASE_SETTLE_SECONDS, ...), as a run would have it.
            request = replace(request, lease=lease_settings(request.run))
        if "approval" in names and request.approval is None:
            request = replace(request, approval=api.LocalApproval("tester"))
        if reporter is not None:
            request = replace(request, reporter=reporter)
        desired = read_desired("scripts/model_version.json", None)
        with Connections() as connections:
            return getattr(api, verb)(request, desired, connections)

    def deploy(self, verb: str = "deploy", env: str | None = None, **fields: Any) -> Any:
        """deploy (STAGE), promote (PROD) or rollout through the facade; the outcome."""
        from domino_mlops import api

        return self.call(verb, api.DeployRequest(env or ("STAGE" if verb == "deploy" else "PROD"), **fields))

    def mlflow_state(self, model: str) -> Any:
        """Everything a write could change: aliases, stages, tags, timestamps, ledger runs."""
        client = self.mlflow
        registered = client.get_registered_model(model)
        versions = sorted((v.version, v.current_stage, tuple(sorted(v.tags.items())), v.last_updated_timestamp)
                          for v in client.search_model_versions(f"name='{model}'"))
        ledger = client.get_experiment_by_name("domino-mlops-ledger")
        runs = [] if ledger is None else [r.info.run_id for r in client.search_runs([ledger.experiment_id])]
        return (sorted(registered.aliases.items()), registered.last_updated_timestamp, versions, sorted(runs))

    def ledger(self, model: str) -> list[dict[str, str]]:
        client = self.mlflow
        experiment = client.get_experiment_by_name("domino-mlops-ledger")
        runs = client.search_runs([experiment.experiment_id], filter_string=f"tags.`dmlops.model` = '{model}'",
                                  order_by=["attributes.start_time ASC"])
        return [{k.split(".", 1)[1]: v for k, v in r.data.tags.items() if k.startswith("dmlops.")} for r in runs]


def events_to(callback: Any) -> Any:
    """An api.Reporter that hands each progress line to ``callback(subject, message)``."""
    from domino_mlops import api

    class Events(api.Reporter):
        def on_event(self, subject: str, message: str) -> None:
            callback(subject, message)

    return Events()


@pytest.fixture
def public_emulator(mlflow_server) -> Iterator[Emulator]:
    """An emulated Domino whose admins make every Model API of the project public (unrestricted),
    so smoke tests reach a Model API from its first deploy; tests/apply/test_smoke_access.py
    covers restricted ones (Domino's default) and their tokens."""
    seed = default_seed()
    seed["model_api_access"] = [{"project": seed["default_project"], "model_api": "*", "public": True}]
    with Emulator(mlflow_uri=mlflow_server.uri, world=seed, deploy_seconds=0.2) as emu:
        yield emu


def _workspace(root: Path, mlflow_uri: str, emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> Pipeline:
    """A repo folder with the two files, and the variables a workflow job would set."""
    (root / "scripts").mkdir()
    # The shipped file, with latency bounds no busy machine can miss: these tests are not about
    # speed (a smoke call answered in 12 s on a loaded CI machine failed one). The bound itself is
    # tested with a fake clock (test_poll_and_smoke.py); a test that needs it sets it again.
    shipped = (REPO / "scripts" / "environments.yaml").read_text()
    (root / "scripts" / "environments.yaml").write_text(
        re.sub(r"max_latency_ms: \d+", f"max_latency_ms: {RELAXED_LATENCY_MS}", shipped))
    monkeypatch.chdir(root)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_uri)
    monkeypatch.setenv("DOMINO_API_HOST", emu.url)
    monkeypatch.setenv(f"PROJECT_ID_{emu.project_id}", emu.token)
    monkeypatch.setenv("GITHUB_OUTPUT", str(root / "github_output"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(root / "summary.md"))
    monkeypatch.setenv("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
    monkeypatch.setenv("GITHUB_ACTOR", "octocat")
    return Pipeline(root, mlflow_uri, emu, monkeypatch)


@pytest.fixture
def pipeline(tmp_path: Path, mlflow_server, public_emulator, monkeypatch: pytest.MonkeyPatch) -> Pipeline:
    return _workspace(tmp_path, mlflow_server.uri, public_emulator, monkeypatch)


@pytest.fixture
def restricted(tmp_path: Path, mlflow_server, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    """A pipeline against an emulator whose Model APIs are restricted, as Domino's are by default."""
    with Emulator(mlflow_uri=mlflow_server.uri, deploy_seconds=0.2) as emu:
        yield _workspace(tmp_path, mlflow_server.uri, emu, monkeypatch)
