"""`make demo`: the main job on embedded defaults, on one machine.

Starts a real MLflow server, trains and registers a real scikit-learn model (diabetes data that
scikit-learn ships), writes a demo manifest, and runs the real CLI against it: validate, then
plan for STAGE and PROD. Everything lives under .demo/ and the server is stopped at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / ".demo"
CLI = str(Path(sys.executable).with_name("domino-mlops"))
PROJECT_ID = "65f0c0ffee00000000000001"  # the Domino emulator's default project
MODEL = "diabetes-demo"


def banner(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def run_cli(*args: str, env: dict[str, str]) -> int:
    print(f"$ domino-mlops {' '.join(args)}", flush=True)
    return subprocess.run([CLI, *args], env=env, cwd=DEMO, check=False).returncode


def main() -> int:
    from domino_mlops.local.mlflow_server import start_mlflow_server
    from domino_mlops.local.models import register_diabetes_model

    shutil.rmtree(DEMO, ignore_errors=True)
    (DEMO / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "environments.yaml", DEMO / "scripts" / "environments.yaml")

    banner("Starting a local MLflow server")
    server = start_mlflow_server(DEMO / "mlflow")
    print(f"MLflow at {server.uri} (data in {server.root})")
    try:
        banner("Training and registering a scikit-learn model on the diabetes data")
        version = register_diabetes_model(server.uri, MODEL, experiment="demo")
        print(f"registered {MODEL} version {version}")

        manifest = {PROJECT_ID: [{"name": MODEL, "version": int(version)}]}
        (DEMO / "scripts" / "model_version.json").write_text(json.dumps(manifest, indent=2) + "\n")
        banner("The promotion manifest (scripts/model_version.json)")
        print((DEMO / "scripts" / "model_version.json").read_text(), end="")

        env = {**os.environ, "MLFLOW_TRACKING_URI": server.uri}
        env.pop("GITHUB_ACTIONS", None)
        banner("Validate both files")
        codes = [run_cli("validate", env=env)]
        banner("Plan for STAGE (read-only)")
        codes.append(run_cli("plan", "--env", "STAGE", env=env))
        banner("Plan for PROD (the gate shows the version has not passed STAGE yet)")
        codes.append(run_cli("plan", "--env", "PROD", env=env))
    finally:
        server.stop()
    banner("Done")
    print(f"MLflow server stopped; its data stays in {DEMO} (removed by the next `make demo` "
          "or `make clean`).")
    return 0 if all(code == 0 for code in codes) else 1


if __name__ == "__main__":
    sys.exit(main())
