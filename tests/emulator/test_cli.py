"""`domino-emulator` as a user starts it: a subprocess that prints how to reach it. (As the console
script does not exist before `pip install`, it runs as `python -m domino_emulator`, the same entry.)"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

from domino_emulator import options

CLI = [sys.executable, "-m", "domino_emulator"]


def _start(*args: str, cwd: Path | None = None) -> tuple[subprocess.Popen, list[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "DOMINO_"))}
    process = subprocess.Popen([*CLI, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=env, cwd=cwd)
    lines: list[str] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("Press Ctrl-C") or (lines and "--quiet" in args):
            return process, lines
    process.kill()
    raise AssertionError(f"the emulator printed no banner: {lines}; stderr: {process.stderr.read()}")


class _Lines:
    """Lines of a pipe, read by a thread as they come (a full pipe would block the emulator)."""

    def __init__(self, pipe) -> None:
        self._queue: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=lambda: [self._queue.put(line) for line in pipe], daemon=True).start()

    def wait_for(self, text: str, timeout: float = 30.0) -> str:
        """The first line (read so far or later) containing ``text``: a condition, not a delay."""
        deadline = time.monotonic() + timeout
        while True:
            found = next((line for line in self.seen if text in line), None)
            if found is not None:
                return found
            try:
                self.seen.append(self._queue.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                raise AssertionError(f"no line with {text!r} within {timeout}s; saw {self.seen}") from None


def test_the_cli_prints_how_to_reach_it_serves_and_exits_0_on_sigterm():
    process, lines = _start("--port", "0", "--deploy-seconds", "0.2")
    stderr = _Lines(process.stderr)
    try:
        banner = "\n".join(lines)
        url = re.search(r"listening on (http://127\.0\.0\.1:\d+)", banner).group(1)
        key = re.search(r"api key\s+(\S+)", banner).group(1)
        project_id = re.search(r"id ([0-9a-f]{24})", banner).group(1)

        assert "demo-user/demo-project" in banner and not url.endswith(":0")
        assert requests.get(f"{url}/version", timeout=5).json()["version"] == "6.1.0"
        assert requests.get(f"{url}/v4/projects/{project_id}", headers={"X-Domino-Api-Key": key}, timeout=5).ok
        # The project's token and the read-only key, which a local workflow run passes as
        # PROJECT_ID_<id> and DOMINO_READONLY_API_KEY (docs/LOCAL_RUNS.md reads them from here).
        token = re.search(rf"^  token\s+(\S+)\s+.*PROJECT_ID_{project_id}", banner, re.M).group(1)
        reader = re.search(r"^  read-only\s+(\S+)", banner, re.M).group(1)
        assert requests.get(f"{url}/v4/projects/{project_id}", headers={"Authorization": f"Bearer {token}"},
                            timeout=5).ok
        assert requests.get(f"{url}/v4/projects/{project_id}", headers={"X-Domino-Api-Key": reader}, timeout=5).ok
        # The request log, on stderr: its line is written before the answer is sent, and the
        # logging is configured before the server starts, so the line exists by now; read until it shows.
        assert stderr.wait_for("GET /version -> 200")
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=15)
    assert code == 0


def test_quiet_prints_only_the_url_and_flags_become_faults(tmp_path):
    process, lines = _start("--port", "0", "--quiet", "--rate-503", "1", "--fault-prefix", "/version",
                            "--record-responses")
    try:
        assert len(lines) == 1 and lines[0].startswith("http://127.0.0.1:")
        refused = requests.get(f"{lines[0]}/version", timeout=5)
        assert refused.status_code == 503 and set(refused.json()) == {"message"}  # the route's own shape
        logged = requests.get(f"{lines[0]}/_emulator/requests", timeout=5).json()["requests"]
        assert [(r["status"], r["fault"], r["response"]) for r in logged] == [(503, "503", refused.json())]
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0


def test_the_options_module_stays_cheap_to_import():
    # domino-emulator imports it to parse (and answer --help): it must not pull in the server,
    # mlflow or requests.
    code = ("import sys, domino_emulator.options; "
            "print(sorted(m for m in sys.modules if m.startswith(('mlflow', 'requests', 'http.server', "
            "'domino_emulator.server'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert callable(options.add_arguments)


def test_a_seed_files_api_key_is_neither_printed_nor_called_harmless(tmp_path):
    """Only the built-in world's keys are known throwaways; a seed file's may be a real one."""
    seed = tmp_path / "world.yaml"
    seed.write_text("credentials:\n  - {api_key: MY-OWN-KEY-7f3a, user: demo-user, projects: [demo-user/demo-project]}\n")
    process, lines = _start("--port", "0", "--seed-file", str(seed))
    try:
        banner = "\n".join(lines)
        assert "MY-OWN-KEY-7f3a" not in banner and "not a secret" not in banner
        assert "from your seed file, not printed" in banner
    finally:
        process.terminate()
        process.communicate(timeout=30)
    default, lines = _start("--port", "0")
    try:
        assert "LOCAL-TEST-API-KEY-demo-user-not-a-secret" in "\n".join(lines)  # the built-in one is shown
    finally:
        default.terminate()
        default.communicate(timeout=30)


def test_the_mlflow_uri_flag_alone_loads_models_and_leaves_no_mlflow_db(tmp_path, mlflow_server, monkeypatch):
    """As the README starts it: `domino-emulator --mlflow-uri URL`, no MLFLOW_TRACKING_URI in
    its environment. MLflow 3.17's `models:/` download asked the default registry (a new mlflow.db
    in the working folder) and every build failed with "Registered Model ... not found"."""
    import json

    from domino_mlops.cli import main
    from domino_emulator.local.models import register_diabetes_model

    model = "emulator-flag-only"
    version = register_diabetes_model(mlflow_server.uri, model)
    where = tmp_path / "emulator-cwd"
    where.mkdir()
    process, lines = _start("--port", "0", "--deploy-seconds", "0.2", "--mlflow-uri", mlflow_server.uri, cwd=where)
    try:
        banner = "\n".join(lines)
        url = re.search(r"listening on (http://127\.0\.0\.1:\d+)", banner).group(1)
        key = re.search(r"api key\s+(\S+)", banner).group(1)
        project_id = re.search(r"id ([0-9a-f]{24})", banner).group(1)
        repo = tmp_path / "repo"
        (repo / "scripts").mkdir(parents=True)
        (repo / "scripts" / "model_version.json").write_text(json.dumps({project_id: [{"name": model,
                                                                                        "version": int(version)}]}))
        monkeypatch.chdir(repo)
        monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)
        monkeypatch.setenv("DOMINO_API_HOST", url)
        monkeypatch.setenv("DOMINO_USER_API_KEY", key)

        assert main(["deploy", "--env", "STAGE"]) == 0  # the build loaded the model: it is Running
    finally:
        process.terminate()
        process.communicate(timeout=30)
    assert sorted(p.name for p in where.iterdir()) == []  # no mlflow.db, no mlruns
