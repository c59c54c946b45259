"""A real RabbitMQ broker for the monitor agent's tests: Debian's rabbitmq-server (installed by
.ci/run), started on free ports with its own node name, data and logs under a temporary folder."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from domino_emulator.local.mlflow_server import free_port

# Debian's /usr/sbin/rabbitmq-server switches to the rabbitmq user (who cannot write our tmp
# folder); the script it calls runs the broker as the caller.
_CANDIDATES = ("/usr/lib/rabbitmq/bin/rabbitmq-server",)


def broker_binary() -> str | None:
    for path in _CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("rabbitmq-server")


@dataclass
class Broker:
    url: str
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def start_broker(root: Path, timeout: float = 90.0) -> Broker:
    binary = broker_binary()
    if binary is None:
        raise FileNotFoundError("rabbitmq-server")
    port, dist = free_port(), free_port()
    (root / "home").mkdir(parents=True, exist_ok=True)
    (root / "enabled_plugins").write_text("[].\n")
    env = {**os.environ, "HOME": str(root / "home"), "RABBITMQ_MNESIA_BASE": str(root / "mnesia"),
           "RABBITMQ_LOG_BASE": str(root / "log"), "RABBITMQ_NODENAME": f"dmlops{port}@localhost",
           "RABBITMQ_NODE_PORT": str(port), "RABBITMQ_DIST_PORT": str(dist),
           "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1", "RABBITMQ_ENABLED_PLUGINS_FILE": str(root / "enabled_plugins"),
           "RABBITMQ_CONFIG_FILE": str(root / "rabbitmq")}
    log = root / "broker.out"
    process = subprocess.Popen([binary], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, cwd=root)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:  # erlang starts in ~10 s: wait on the port answering AMQP
        if process.poll() is not None:
            raise RuntimeError(f"rabbitmq-server exited: {log.read_text(errors='replace')[-2000:]}")
        if _answers(port):
            return Broker(f"amqp://guest:guest@127.0.0.1:{port}/%2F", process, log)
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"rabbitmq-server did not answer within {timeout} s")


def _answers(port: int) -> bool:
    try:
        import pika

        pika.BlockingConnection(pika.URLParameters(f"amqp://guest:guest@127.0.0.1:{port}/%2F")).close()
        return True
    except Exception:  # noqa: BLE001 - not up yet
        return False
