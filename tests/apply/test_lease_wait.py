"""A rollback queued behind a promotion waits for it (--lease-wait) instead of failing, then
rolls back from what the promotion left. Without the wait it stops at once (exit 4).

The "running promotion" is a lease the test holds, so the interleaving is certain: the rollback
is started while the lease is held, the test waits until the rollback says it is waiting, then
lets go.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from domino_mlops.state.lease import Leases, LeaseSettings
from domino_mlops.clients.mlflow.registry import MlflowRegistry
from domino_mlops.clients.mlflow.auth import MlflowCredentials
from domino_emulator.local.models import SAMPLE_PATIENT, register_diabetes_model

CLI = str(Path(sys.executable).with_name("domino-mlops"))
SMOKE = {"input": SAMPLE_PATIENT, "expect_shape": [1]}


def _in_production(pipeline, model: str) -> list[str]:
    versions = [register_diabetes_model(pipeline.mlflow_uri, model) for _ in range(2)]
    for version in versions:
        pipeline.manifest({"name": model, "version": int(version), "smoke_test": SMOKE})
        assert pipeline.run("deploy", "--env", "STAGE") == 0
        assert pipeline.run("promote", "--env", "PROD") == 0
    return versions


def _registry(pipeline) -> MlflowRegistry:
    return MlflowRegistry(MlflowCredentials.from_env({"MLFLOW_TRACKING_URI": pipeline.mlflow_uri}))


def test_a_queued_rollback_waits_for_the_running_promotion(pipeline) -> None:
    model = pipeline.unique("queued")
    v1, v2 = _in_production(pipeline, model)
    promotion = Leases(LeaseSettings(settle=0.0, holder="the running promotion")).acquire(
        _registry(pipeline), model, "PROD")
    rollback = subprocess.Popen([CLI, "rollback", "--env", "PROD", "--model", model, "--lease-wait", "300"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=dict(os.environ))
    seen: list[str] = []
    waiting = threading.Event()

    def read() -> None:
        for line in rollback.stdout:  # type: ignore[union-attr]
            seen.append(line)
            if "waiting for another run to finish: the running promotion" in line:
                waiting.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert waiting.wait(120), "".join(seen)
        assert pipeline.aliases(model)["production"] == v2  # it waited before writing anything
    finally:
        promotion.release()  # the promotion ends
    assert rollback.wait(300) == 0, "".join(seen)
    reader.join(10)
    assert pipeline.aliases(model)["production"] == v1
    assert [e["action"] for e in pipeline.ledger(model) if e["environment"] == "PROD"][-1] == "rollback"


def test_without_a_wait_a_held_model_is_exit_4_and_nothing_written(pipeline, capsys) -> None:
    model = pipeline.unique("unqueued")
    _in_production(pipeline, model)
    promotion = Leases(LeaseSettings(settle=0.0, holder="the running promotion")).acquire(
        _registry(pipeline), model, "PROD")
    try:
        before, writes = pipeline.mlflow_state(model), pipeline.emu.counters.writes()
        assert pipeline.run("rollback", "--env", "PROD", "--model", model) == 4
        assert "the running promotion" in capsys.readouterr().out
        # Only the lease tag of the test's own "promotion" is on the model; nothing else moved.
        assert pipeline.mlflow_state(model) == before and pipeline.emu.counters.writes() == writes
    finally:
        promotion.release()


def test_a_wait_that_runs_out_is_exit_4(pipeline, capsys) -> None:
    model = pipeline.unique("timeout")
    _in_production(pipeline, model)
    promotion = Leases(LeaseSettings(settle=0.0, holder="the long promotion")).acquire(
        _registry(pipeline), model, "PROD")
    try:
        assert pipeline.run("rollback", "--env", "PROD", "--model", model, "--lease-wait", "0.5") == 4
        assert "the long promotion" in capsys.readouterr().err
    finally:
        promotion.release()


def test_lease_wait_must_be_a_number_of_seconds(pipeline, capsys) -> None:
    for bad in ("-1", "soon", "inf"):
        try:
            code = pipeline.run("promote", "--lease-wait", bad)
        except SystemExit as exit_:
            code = exit_.code
        assert code == 2
        assert "--lease-wait" in capsys.readouterr().err
