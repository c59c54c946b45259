"""Start a real `mlflow server` (SQLite backend, local artifacts, a free loopback port).

Used by `make demo`, the tests and the benchmarks. Needs the full `mlflow` package (the `dev`
extra); the runtime library itself has no MLflow dependency (it speaks REST).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class MlflowServer:
    uri: str
    root: Path
    process: subprocess.Popen

    @property
    def port(self) -> int:
        return int(self.uri.rsplit(":", 1)[1])

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_mlflow_server(root: Path, *, port: int | None = None, startup_timeout: float = 90.0,
                        workers: int = 1) -> MlflowServer:
    """Start `mlflow server` and wait until it answers /health. The SQLite file and artifacts live
    in ``root``: started again with the same ``root`` and ``port`` (a stopped server's), it is the
    same tracking server restarted, as its clients see it.

    One worker process by default (tests: the least memory and start-up; `mlflow server`'s own
    default is 4). Its SQLite store takes one writer at a time whatever the count, so more
    workers mostly add processes waiting for the file lock (benchmarks/rollout_throughput.py)."""
    root.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    uri = f"http://127.0.0.1:{port}"
    log = open(root / "server.log", "ab")  # noqa: SIM115 - lives as long as the server
    mlflow_bin = shutil.which("mlflow", path=str(Path(sys.executable).parent)) or "mlflow"
    env = dict(os.environ)
    env.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # no phoning home from a local test server
    # MLflow's job runner (about seven worker processes per server, for its async jobs) serves
    # nothing a registry needs; on a 2-core CI machine it only competes with the tests.
    env.setdefault("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false")
    # The server must not inherit a client-side tracking URI or token from the developer's shell.
    for key in ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME",
                "MLFLOW_TRACKING_PASSWORD"):
        env.pop(key, None)
    process = subprocess.Popen(
        [
            str(mlflow_bin), "server",
            "--backend-store-uri", f"sqlite:///{root / 'mlflow.db'}",
            "--artifacts-destination", str(root / "artifacts"),
            "--serve-artifacts",
            "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers),
        ],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root,
    )
    deadline = time.monotonic() + startup_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mlflow server exited early; see {root / 'server.log'}")
        if _healthy(f"{uri}/health"):
            return MlflowServer(uri=uri, root=root, process=process)
        time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"mlflow server did not answer within {startup_timeout}s; see {root / 'server.log'}")


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - loopback only
            return response.status == 200
    except OSError:
        return False
