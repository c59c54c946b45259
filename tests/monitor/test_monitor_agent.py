"""End to end with real parts: export a version (real MLflow), run its client/server.py with
capture into the embedded SQLite spool or a real RabbitMQ broker, send predictions (the seed
patient among them), run `domino-mlops monitor-agent`, read the metric values back from the
emulator and find the alert for a forced out-of-range latency. Then the agent dies mid-batch (after
the metric POST, or after its state but before the ack) and restarts: nothing lost, nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from domino_mlops.cli import main
from domino_mlops.clients.domino.client import DominoClient
from domino_emulator.local.mlflow_server import free_port
from domino_emulator.local.models import register_diabetes_model
from domino_mlops.monitor.agent import Agent, AgentSettings
from domino_mlops.monitor.spool import spool_module
from tests.support.emulator import DIABETES_ROW
from tests.support.exports import write_targets

MODEL = "monitored-churn"
EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def context(mlflow_server, tmp_path_factory) -> Path:
    """The build context of MODEL v1, laid out by `domino-mlops export --context-only`."""
    from mlflow import MlflowClient

    version = register_diabetes_model(mlflow_server.uri, MODEL)
    MlflowClient(mlflow_server.uri).set_model_version_tag(MODEL, version, "TARGET_MON", "true")
    root = tmp_path_factory.mktemp("export")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)
        patch.setenv("GITHUB_OUTPUT", str(root / "out.txt"))
        patch.setenv("GITHUB_STEP_SUMMARY", str(root / "summary.md"))
        patch.setenv("CONTAINER_TOOL", "no-such-container-tool")
        targets = write_targets(root, "targets:\n  - {name: MON, mode: build, registry: r.example.com}\n")
        assert main(["export", "--targets", str(targets), "--context-only", "--output", "out"]) == 0
    return root / "out" / MODEL / f"v{version}"


@contextmanager
def serving(context: Path, **env: str) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, str(context / "client" / "server.py")],
                               env={"PATH": "/usr/bin:/bin", "HOST": "127.0.0.1", "PORT": str(port),
                                    "MLFLOW_DISABLE_TELEMETRY": "true", **env},
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd="/")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _health(base, process) is not None, "the client server answers /health")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def _health(base: str, process: subprocess.Popen) -> dict | None:
    if process.poll() is not None:
        raise AssertionError(f"the client server exited: {process.stdout.read().decode()}")
    try:
        return requests.get(f"{base}/health", timeout=2).json()
    except requests.ConnectionError:
        return None


def wait_until(check, what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting until {what}")


def send_predictions(base: str) -> int:
    """The seed patient, four more, and one bad request: six records, one an error."""
    rows = [DIABETES_ROW] + [{**DIABETES_ROW, "age": 40 + i, "bmi": 25 + i} for i in range(4)]
    for row in rows:
        answer = requests.post(f"{base}/predict", json={"data": row}, timeout=30)
        assert answer.status_code == 200, answer.text
    assert requests.post(f"{base}/predict", json={"data": "age"}, timeout=30).status_code == 400
    return len(rows) + 1


def monitored_targets(root: Path, monitoring_id: str) -> Path:
    # upper_limit 0.0001 ms: no real prediction is that fast, so latency_p95_ms is out of range.
    return write_targets(root, f"""
        targets:
          - name: MON
            mode: build
            registry: r.example.com
            monitoring:
              model_monitoring_id: {monitoring_id}
              interval: 3600
              capture_inputs: true
              alerts:
                latency_p95_ms: {{condition: lessThan, upper_limit: 0.0001}}
                error_rate: {{condition: lessThanEqual, upper_limit: 0.5}}
        """, name="monitor_targets.yaml")


def domino_env(monkeypatch, emu) -> DominoClient:
    monkeypatch.setenv("DOMINO_API_HOST", emu.url)
    monkeypatch.setenv("DOMINO_USER_API_KEY", emu.api_key)
    return DominoClient.from_env({"DOMINO_API_HOST": emu.url, "DOMINO_USER_API_KEY": emu.api_key})


def values(client: DominoClient, monitoring_id: str, metric: str):
    return client.custom_metrics.read_values(monitoring_id, metric, start=EPOCH,
                                             end=datetime.now(timezone.utc) + timedelta(days=1))


@pytest.mark.slow
@pytest.mark.parametrize("spooler", ["sqlite", "rabbitmq"])
def test_predictions_reach_domino_as_metrics_with_an_alert(spooler, context, domino_emulator, tmp_path,
                                                           monkeypatch, capsys, request):
    emu = domino_emulator
    monitoring_id = emu.add_monitored_model(emu.project_id, f"{MODEL}-{spooler}")
    client = domino_env(monkeypatch, emu)
    spool_path, queue = tmp_path / "spool" / "predictions.sqlite", f"dmlops.test.{uuid.uuid4().hex}"
    capture = {"DMLOPS_CAPTURE": spooler, "DMLOPS_CAPTURE_INPUTS": "1", "DMLOPS_SPOOL_PATH": str(spool_path),
               "DMLOPS_RABBITMQ_QUEUE": queue}
    if spooler == "rabbitmq":
        broker = request.getfixturevalue("rabbitmq")
        capture["DMLOPS_RABBITMQ_URL"] = broker.url
        monkeypatch.setenv("DMLOPS_RABBITMQ_URL", broker.url)
    with serving(context, **capture) as base:
        sent = send_predictions(base)
        wait_until(lambda: requests.get(f"{base}/health", timeout=5).json()["capture"]["captured"] == sent,
                   f"the {sent} records are in the spool")
        health = requests.get(f"{base}/health", timeout=5).json()["capture"]
        assert (health["mode"], health["dropped"], health["error"]) == (spooler, 0, "")

    agent = ["monitor-agent", "--targets", str(monitored_targets(tmp_path, monitoring_id)), "--target", "MON",
             "--spool", spooler, "--spool-path", str(spool_path), "--rabbitmq-queue", queue,
             "--state", str(tmp_path / "state.json"), "--model-dir", str(context / "mymodel"),
             "--once", "--flush-open"]
    assert main(agent) == 0
    out = capsys.readouterr().out
    assert f"{sent} record(s) read" in out and "alert sent: latency_p95_ms" in out

    counts = values(client, monitoring_id, "request_count")
    assert sum(v.value for v in counts) == sent
    assert all(("model", MODEL) in v.tags for v in counts)
    assert sum(v.value for v in values(client, monitoring_id, "error_rate")) > 0  # the bad request
    assert values(client, monitoring_id, "drift_age") and values(client, monitoring_id, "latency_p95_ms")
    alerts = requests.get(f"{emu.url}/_emulator/metricAlerts", params={"modelMonitoringId": monitoring_id},
                          timeout=10).json()
    assert {a["metric"] for a in alerts["metricAlerts"]} == {"latency_p95_ms"}  # error_rate 1/6 is in range
    assert broker_url_nowhere(out, capture.get("DMLOPS_RABBITMQ_URL"))

    assert main(agent) == 0  # the spool is drained and acknowledged: a second run adds nothing
    assert "0 record(s) read" in capsys.readouterr().out
    assert sum(v.value for v in values(client, monitoring_id, "request_count")) == sent


def broker_url_nowhere(text: str, url: str | None) -> bool:
    return url is None or url not in text


class Crash(BaseException):
    """The agent dies here (a BaseException, as a kill is: nothing in the agent catches it)."""


class CrashAfterPost:
    """Domino's custom metrics, dying right after the first POST of values has gone through."""

    def __init__(self, real) -> None:
        self.real, self.armed = real, True

    def log_values(self, values) -> None:
        self.real.log_values(values)
        if self.armed:
            self.armed = False
            raise Crash

    def __getattr__(self, name):
        return getattr(self.real, name)


class CrashOnAck:
    def __init__(self, real) -> None:
        self.real = real

    def ack(self, receipts) -> None:
        raise Crash

    def __getattr__(self, name):
        return getattr(self.real, name)


def _spool(spooler: str, tmp_path: Path, request, queue: str):
    module = spool_module()
    if spooler == "sqlite":
        return module.SqliteSpool(str(tmp_path / "spool.sqlite"))
    return module.RabbitSpool(request.getfixturevalue("rabbitmq").url, queue)


@pytest.mark.parametrize("spooler", ["sqlite", "rabbitmq"])
@pytest.mark.parametrize("crash", ["after_post", "before_ack"])
def test_an_agent_killed_mid_batch_loses_nothing_and_counts_nothing_twice(spooler, crash, domino_emulator,
                                                                         tmp_path, request):
    emu = domino_emulator
    monitoring_id = emu.add_monitored_model(emu.project_id, f"crash-{spooler}-{crash}")
    client = DominoClient.from_env({"DOMINO_API_HOST": emu.url, "DOMINO_USER_API_KEY": emu.api_key})
    queue = f"dmlops.test.{uuid.uuid4().hex}"
    module = spool_module()
    writer = _spool(spooler, tmp_path, request, queue)
    # Three intervals of 60 s, 5 + 4 + 3 records, in a past hour: every interval has ended.
    base = 946_684_800.0  # 2000-01-01T00:00:00Z
    stamps = [base + 5 * i for i in range(5)] + [base + 60 + i for i in range(4)] + [base + 120 + i for i in range(3)]
    for seq, ts in enumerate(stamps):
        writer.put(module.new_record(MODEL, "1", seq, latency_ms=5.0, rows=1, status=200, now=ts))
    writer.close()
    settings = AgentSettings(monitoring_id, tmp_path / "state.json", interval=60)

    spool = _spool(spooler, tmp_path, request, queue)
    dying = Agent(settings, CrashOnAck(spool) if crash == "before_ack" else spool,
                  CrashAfterPost(client.custom_metrics) if crash == "after_post" else client.custom_metrics)
    with pytest.raises(Crash):
        dying.run_once(now=base + 3600)
    spool.close()  # the connection dies with the process: the broker requeues what was not acked
    assert len(values(client, monitoring_id, "request_count")) == 1  # the first interval went in

    spool = _spool(spooler, tmp_path, request, queue)
    try:
        result = Agent(settings, spool, client.custom_metrics).run_once(now=base + 3600)
        assert result.recounted == 5  # the first interval's records: acknowledged, not counted again
        assert spool.read() == []  # everything acknowledged
    finally:
        spool.close()
    counts = values(client, monitoring_id, "request_count")
    assert [(v.reference_timestamp.timestamp() - base, v.value) for v in counts] == [(0, 5.0), (60, 4.0), (120, 3.0)]


CLI = str(Path(sys.executable).with_name("domino-mlops"))


@pytest.mark.slow
@pytest.mark.parametrize("spooler", ["sqlite", "rabbitmq"])
def test_the_agent_process_killed_while_its_post_is_in_flight_loses_nothing(spooler, domino_emulator, tmp_path,
                                                                            request):
    """A real kill: `domino-mlops monitor-agent --once` as its own process, SIGKILLed while Domino
    holds the answer to its first metric POST (applied, not yet answered: the agent never learns it
    went through). The next run counts each interval exactly once and acknowledges everything."""
    emu = domino_emulator
    monitoring_id = emu.add_monitored_model(emu.project_id, f"killed-{spooler}")
    client = DominoClient.from_env({"DOMINO_API_HOST": emu.url, "DOMINO_USER_API_KEY": emu.api_key})
    queue = f"dmlops.test.{uuid.uuid4().hex}"
    module = spool_module()
    writer = _spool(spooler, tmp_path, request, queue)
    base = 946_684_800.0  # 2000-01-01T00:00:00Z: every interval has ended
    stamps = [base + 5 * i for i in range(5)] + [base + 60 + i for i in range(4)] + [base + 120 + i for i in range(3)]
    for seq, ts in enumerate(stamps):
        writer.put(module.new_record(MODEL, "1", seq, latency_ms=5.0, rows=1, status=200, now=ts))
    writer.close()
    targets = write_targets(tmp_path, f"""
        targets:
          - name: MON
            mode: build
            registry: r.example.com
            monitoring: {{model_monitoring_id: {monitoring_id}, interval: 60}}
        """)
    argv = [CLI, "monitor-agent", "--targets", str(targets), "--target", "MON", "--spool", spooler,
            "--spool-path", str(tmp_path / "spool.sqlite"), "--rabbitmq-queue", queue,
            "--state", str(tmp_path / "state.json"), "--once"]
    env = {**os.environ, "DOMINO_API_HOST": emu.url, "DOMINO_USER_API_KEY": emu.api_key}
    if spooler == "rabbitmq":
        env["DMLOPS_RABBITMQ_URL"] = request.getfixturevalue("rabbitmq").url

    with emu.crash_at(1, after=True) as point:
        run = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                               start_new_session=True)
        try:
            reached = point.reached.wait(180)
        finally:
            os.killpg(run.pid, signal.SIGKILL)  # the whole process, at once: no finally, no atexit
            output = run.communicate(timeout=60)[0]
        assert reached, f"the agent never posted:\n{output}"
    assert point.route and "metricValues" in point.route
    assert len(values(client, monitoring_id, "request_count")) == 1  # the held POST was applied

    again = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    counts = values(client, monitoring_id, "request_count")
    assert [(v.reference_timestamp.timestamp() - base, v.value) for v in counts] == [(0, 5.0), (60, 4.0), (120, 3.0)]
    spool = _spool(spooler, tmp_path, request, queue)
    try:
        assert spool.read() == []  # everything acknowledged: a third run finds nothing
    finally:
        spool.close()
