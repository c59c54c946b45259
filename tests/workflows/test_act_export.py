"""export-models.yml through act: a tagged version is built and pushed with the registry login on
the container tool's stdin, the run summarises it, and the next run exports nothing."""

from __future__ import annotations

import json

import pytest

from domino_emulator.local.models import register_diabetes_model
from tests.support.exports import FAKE_DIGEST, calls, fake_tool

pytestmark = pytest.mark.act

PASSWORD = "act-registry-password-0123456789"
TARGETS = """\
targets:
  - name: ACT_FOUNDRY
    mode: build
    registry: registry.example.com/foundry
    credentials: {username: FOUNDRY_USER, password: FOUNDRY_PASSWORD}
"""


def test_the_schedule_exports_a_tagged_version_once(stack, tmp_path) -> None:
    from mlflow import MlflowClient

    model = f"act-export-{stack.project_id[:6]}"
    version = register_diabetes_model(stack.mlflow_uri, model)
    MlflowClient(stack.mlflow_uri, stack.mlflow_uri).set_model_version_tag(model, version, "TARGET_ACT_FOUNDRY", "y")
    stack.repo.write("scripts/export_targets.yaml", TARGETS)
    stack.repo.commit("an export target")
    log = tmp_path / "docker.log"
    docker = fake_tool(tmp_path / "bin", log)
    secrets = {**stack.secrets(), "MLFLOW_TRACKING_TOKEN": "mlflow-write-token-act-export",
               "EXPORT_REGISTRY_CREDENTIALS": json.dumps({"FOUNDRY_USER": "robot", "FOUNDRY_PASSWORD": PASSWORD})}
    env = {**stack.env(), "CONTAINER_TOOL": str(docker)}

    run = stack.repo.run("workflow_dispatch", workflow="export-models.yml", env=env, secrets=secrets,
                         variables=stack.variables())

    assert run.returncode == 0, run.explain()
    out = run.outputs("export", job="export")
    image = f"registry.example.com/foundry/{model}:v{version}"
    assert out["has-changes"] == "true" and out["exported"] == f"{image}@{FAKE_DIGEST}"
    made = calls(log)
    assert [c["argv"][0] for c in made] == ["login", "build", "push"] and made[0]["stdin"] == PASSWORD
    assert all(PASSWORD not in json.dumps(c["argv"]) and c["env"] == [] for c in made)  # no credential in its env
    assert "### Exported" in run.summary(job="export") and image in run.summary(job="export")
    assert PASSWORD not in run.log() + run.summary() and stack.leaked(run.log()) == []

    again = stack.repo.run("workflow_dispatch", workflow="export-models.yml", env=env, secrets=secrets,
                           variables=stack.variables())

    assert again.returncode == 0, again.explain()
    assert again.outputs("export", job="export")["has-changes"] == "false" and len(calls(log)) == 3
