"""A plan stays small: it reads MLflow over the REST API and never imports the `mlflow` package
(most of a plan's memory and start-up; issue 12, goal 2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_plan_with_domino_imports_no_mlflow(tmp_path, mlflow_server, diabetes_model, domino_emulator) -> None:
    name, version = diabetes_model
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "environments.yaml").write_text((REPO / "scripts" / "environments.yaml").read_text())
    (tmp_path / "scripts" / "model_version.json").write_text(
        json.dumps({domino_emulator.project_id: [{"name": name, "version": int(version)}]}))
    code = ("import sys\nfrom domino_mlops.cli import main\n"
            "code = main(['plan', '--env', 'STAGE', '--json'])\n"
            "print('CODE', code, 'MLFLOW', sorted(m for m in sys.modules if m.split('.')[0] == 'mlflow')[:3], "
            "file=sys.stderr)\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_TRACKING_", "DOMINO_", "PROJECT_ID_"))}
    env.update({"MLFLOW_TRACKING_URI": mlflow_server.uri, "DOMINO_API_HOST": domino_emulator.url,
                f"PROJECT_ID_{domino_emulator.project_id}": domino_emulator.token})
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env,
                            timeout=300)
    assert "CODE 0 MLFLOW []" in result.stderr, result.stderr[-2000:]
    assert json.loads(result.stdout)["changes"][0]["model"] == name
