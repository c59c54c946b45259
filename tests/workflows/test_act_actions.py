"""The root composite action through act: what a workflow step sees (exit code, annotations,
summary, outputs), with the CLI reused from this venv and, once, installed the default way."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.support.act_runner import ActRepo
from tests.workflows.conftest import FAST_INSTALL

pytestmark = pytest.mark.act

LOCK = Path(__file__).resolve().parents[2] / "actions" / "requirements.txt"

# A test-only workflow around the root action, as a user would write one.
ROOT_ACTION_WORKFLOW = """\
name: root-action
on:
  workflow_dispatch:
    inputs:
      command:
        type: string
        required: true
permissions: {}
jobs:
  run:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
        with:
          persist-credentials: false
      - id: first
        uses: ./
        with:
          command: ${{ inputs.command }}
      - id: again
        uses: ./
        with:
          command: projects
          environment: STAGE
      - name: What the install put in the venv (it has no pip)
        run: >-
          "$RUNNER_TEMP/dmlops/bin/python" -c "from importlib.metadata import distributions as d;
          print(*sorted(f'{x.name}=={x.version}' for x in d()), sep=chr(10))"
"""

BROKEN_MANIFEST = """\
{
  "6650c1a3e1b2c3d4e5f60718": [
    {"name": "churn", "version": "latest"}
  ]
}
"""
GOOD_MANIFEST = '{"6650c1a3e1b2c3d4e5f60718": [{"name": "churn", "version": 2}]}\n'


def with_root_workflow(repo: ActRepo, manifest: str) -> None:
    repo.write(".github/workflows/root-action.yml", ROOT_ACTION_WORKFLOW)
    repo.write("scripts/model_version.json", manifest)
    repo.commit()


def test_validate_on_a_broken_manifest_is_exit_2_with_an_annotation_on_the_line(act_repo: ActRepo) -> None:
    with_root_workflow(act_repo, BROKEN_MANIFEST)

    run = act_repo.run("workflow_dispatch", workflow="root-action.yml", inputs={"command": "validate"},
                       env=FAST_INSTALL)

    assert run.returncode != 0 and run.jobs() == {"root-action/run": "failure"}, run.explain()
    assert 2 in run.exit_statuses()
    (error,) = run.commands("error")
    assert error["kvPairs"]["file"] == "scripts/model_version.json" and error["kvPairs"]["line"] == "3"
    assert "'latest' is not allowed" in error["arg"]
    assert "### :x: ValidationFailed (exit code 2)" in run.summary()
    assert not any(r.get("step") == "again" for r in run.records)  # a failed step stops the job


@pytest.mark.slow
def test_default_install_builds_a_venv_under_runner_temp_once_per_job(act_repo: ActRepo) -> None:
    """No DMLOPS_PYTHON: python3 -m venv --without-pip "$RUNNER_TEMP/dmlops", the hash-pinned lock
    (actions/requirements.txt) installed into it, then the action's own package copied in."""
    with_root_workflow(act_repo, GOOD_MANIFEST)

    run = act_repo.run("workflow_dispatch", workflow="root-action.yml", inputs={"command": "validate"},
                       timeout=600)

    assert run.returncode == 0, run.explain()
    log = run.log()
    assert "domino-mlops 0.1.0" in log  # the freshly installed CLI answered `--version`
    (reused,) = re.findall(r"domino-mlops is already installed in (\S+)", log)  # the second step reused it
    assert reused.startswith(str(run.cache)) and reused.endswith("/tmp/dmlops")  # $RUNNER_TEMP/dmlops
    # What the lock pins is what got installed (pip would have taken the newest otherwise); the
    # venv lists distributions by their own spelling (PyYAML), the lock by the normalized one.
    for name in ("requests", "pyyaml", "urllib3"):
        (pinned,) = set(re.findall(rf"^{name}==(\S+)", LOCK.read_text(), re.M))
        assert re.search(rf"^{name}=={re.escape(pinned)}$", log, re.M | re.I), name
    assert "mlflow-skinny==" not in log and "setuptools==" not in log and "pip==" not in log  # not installed
    assert "jsonschema==" not in log  # the runtime checks its schemas itself (desired/json_schema)
    assert "ok: scripts/model_version.json: 1 model(s) in 1 project(s)" in log
    assert json.loads(run.outputs("again")["projects"]) == ["6650c1a3e1b2c3d4e5f60718"]
