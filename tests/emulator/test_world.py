"""Worlds: the default one, seed files, and a state file that survives a restart."""

from __future__ import annotations

import json

import pytest

from domino_mlops.emulator import Emulator
from domino_mlops.errors import ConfigError
from tests.support.emulator import (
    DIABETES_ROW,
    MODEL_APIS,
    DominoSession,
    call_model,
    model_api_body,
    wait_for_deployment,
)


def test_the_default_world_has_two_data_planes_and_a_second_project():
    with Emulator() as emu:
        domino = DominoSession(emu.url, emu.api_key)
        tiers = domino.ok("GET", "/api/hardwaretiers/v1/hardwaretiers")["hardwareTiers"]
        project = domino.ok("GET", "/v4/gateway/projects/findProjectByOwnerAndName?ownerName=demo-user"
                                   "&projectName=demo-project")

        assert {(t["id"], t["dataPlaneName"]) for t in tiers} == {
            ("small-k8s", "local"), ("medium-k8s", "local"), ("prod-small", "prod-west")}
        assert project == domino.ok("GET", f"/v4/projects/{emu.project_id}")
        assert (project["ownerUsername"], project["name"], len(project["id"])) == ("demo-user", "demo-project", 24)
        assert emu.world.find_project("other-user", "other-project") is not None


def test_a_seed_file_defines_the_world(tmp_path):
    seed = tmp_path / "world.yaml"
    seed.write_text("""
default_project: acme/churn
failing_job_pattern: "exit 1"
data_planes: [{id: dp-eu, name: eu}, {id: dp-us, name: us}]
projects: [{id: "aaaaaaaaaaaaaaaaaaaaaaaa", owner: acme, name: churn}]
credentials: [{api_key: ACME-KEY, user: alice, projects: [acme/churn]}]
hardware_tiers:
  - {id: eu-small, name: EU Small, data_plane: eu, default: true}
  - {id: us-small, name: US Small, data_plane: dp-us}
jobs: [{project: acme/churn, command: "python old.py", status: Failed}]
apps: [{project: acme/churn, name: board, status: Running}]
""")
    with Emulator(world=seed) as emu:
        domino = DominoSession(emu.url, emu.api_key)
        tiers = domino.ok("GET", f"/v4/projects/{emu.project_id}/hardwareTiers")

        assert (emu.api_key, emu.owner, emu.project_name) == ("ACME-KEY", "acme", "churn")
        assert [t["hardwareTier"]["dataPlaneName"] for t in tiers] == ["eu", "us"]
        job = next(iter(emu.world.jobs))
        assert domino.ok("GET", f"/v4/jobs/{job}")["statuses"]["executionStatus"] == "Failed"
        assert [a["status"] for a in domino.ok("GET", f"/v4/modelProducts?projectId={emu.project_id}")] == ["Running"]
        started = domino.ok("POST", "/v4/jobs/start", {"projectId": emu.project_id, "commandToRun": "sh -c 'exit 1'"})
        assert emu.world.jobs[started["id"]].fails


def test_a_bad_seed_is_a_config_error_that_names_the_file(tmp_path):
    seed = tmp_path / "bad.json"
    seed.write_text(json.dumps({"hardware_tiers": [{"id": "t", "data_plane": "nowhere"}]}))

    with pytest.raises(ConfigError, match="bad.json.*unknown data plane 'nowhere'"):
        Emulator(world=seed).start()


def test_a_state_file_survives_a_restart(tmp_path, mlflow_server, diabetes_model):
    state = tmp_path / "state.json"
    with Emulator(mlflow_uri=mlflow_server.uri, deploy_seconds=0.2, state_file=state) as emu:
        domino = DominoSession(emu.url, emu.api_key)
        environment = next(iter(emu.world.environments))
        body = model_api_body(emu.project_id, "kept", *diabetes_model, environment_id=environment)
        created = domino.ok("POST", MODEL_APIS, body)
        wait_for_deployment(domino, created["id"])
        token = domino.ok("POST", f"{MODEL_APIS}/{created['id']}/accessTokens", {"name": "t"})["token"]

    with Emulator(mlflow_uri=mlflow_server.uri, deploy_seconds=0.2, state_file=state) as again:
        domino = DominoSession(again.url, again.api_key)
        kept = domino.ok("GET", f"{MODEL_APIS}/{created['id']}")

        assert again.restored
        assert kept["name"] == "kept" and kept["activeVersion"]["deployment"]["status"] == "Running"
        answer = call_model(again.url, created["id"], token, DIABETES_ROW)  # the model is loaded again on demand
        assert answer.status_code == 200, answer.text
