"""Worlds: the default one, seed files, and a state file that survives a restart."""

from __future__ import annotations

import json
import textwrap

import pytest
import yaml

from domino_emulator import Emulator
from domino_emulator.clock import ManualClock
from domino_mlops.errors import ConfigError
from tests.support.emulator import (
    DIABETES_ROW,
    MODEL_APIS,
    DominoSession,
    call_model,
    model_api_body,
    wait_for_deployment,
    wait_until,
)


def test_the_default_world_has_two_data_planes_and_a_second_project():
    with Emulator() as emu:
        domino = DominoSession(emu.url, emu.api_key)
        tiers = domino.ok("GET", "/api/hardwaretiers/v1/hardwaretiers")["hardwareTiers"]
        project = domino.ok("GET", "/v4/gateway/projects/findProjectByOwnerAndName?ownerName=demo-user"
                                   "&projectName=demo-project")

        planes = {p.id: p.name for p in emu.world.data_planes.values()}
        assert {(t["id"], planes[t["dataPlaneId"]], t["flags"]["isDefault"]) for t in tiers} == {
            ("small-k8s", "local", True), ("medium-k8s", "local", False), ("prod-small", "prod-west", False)}
        summary = domino.ok("GET", f"/v4/projects/{emu.project_id}")
        assert (project["id"], project["name"]) == (summary["id"], summary["name"]) == (emu.project_id, "demo-project")
        assert (project["owner"]["userName"], summary["ownerUsername"]) == ("demo-user", "demo-user")
        assert project["requestingUserRole"] == "Owner"
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
        assert [(t["hardwareTier"]["dataPlaneId"], t["dataPlane"]["name"]) for t in tiers] == [
            ("dp-eu", "eu"), ("dp-us", "us")]
        job = next(iter(emu.world.jobs))
        assert domino.ok("GET", f"/v4/jobs/{job}")["statuses"]["executionStatus"] == "Failed"
        assert emu.world.environments  # none in the seed: the default world's
        assert [a["status"] for a in domino.ok("GET", f"/v4/modelProducts?projectId={emu.project_id}")] == ["Running"]
        started = domino.ok("POST", "/v4/jobs/start", {"projectId": emu.project_id, "commandToRun": "sh -c 'exit 1'"})
        assert emu.world.jobs[started["id"]].fails


def test_a_bad_seed_is_a_config_error_that_names_the_file(tmp_path):
    seed = tmp_path / "bad.json"
    seed.write_text(json.dumps({"hardware_tiers": [{"id": "t", "data_plane": "nowhere"}]}))
    with pytest.raises(ConfigError, match="bad.json.*unknown data plane 'nowhere'"):
        Emulator(world=seed).start()

    seed.write_text(json.dumps({"projects": [{"id": "p1", "owner": "a", "name": "b"}]}))
    with pytest.raises(ConfigError, match="project id 'p1' is not 24 hex digits"):
        Emulator(world=seed).start()


def test_seeded_model_api_access_applies_when_the_model_api_is_created(tmp_path):
    seed = tmp_path / "world.yaml"
    seed.write_text("""
model_api_access:
  - project: demo-user/demo-project
    model_api: churn-stage
    tokens: [{name: ci, token: LOCAL-TEST-MODEL-TOKEN-churn-not-a-secret}]
  - {project: demo-user/demo-project, model_api: open-model, public: true}
""")
    with Emulator(world=seed) as emu:
        domino = DominoSession(emu.url, emu.api_key)
        environment = next(iter(emu.world.environments))
        guarded = domino.ok("POST", MODEL_APIS, model_api_body(emu.project_id, "churn-stage", "m", 1,
                                                              environment_id=environment))
        opened = domino.ok("POST", MODEL_APIS, model_api_body(emu.project_id, "other", "m", 1,
                                                             environment_id=environment))
        assert opened["access"] == {"isPublic": False, "accessTokens": []}  # Domino's default: restricted
        renamed = domino.ok("PUT", f"{MODEL_APIS}/{opened['id']}",
                            {"name": "open-model", "description": "", "environmentId": environment, "replicas": 1})

        assert guarded["access"]["isPublic"] is False and renamed["access"]["isPublic"] is True
        assert [t["name"] for t in guarded["access"]["accessTokens"]] == ["ci"]
        assert "LOCAL-TEST-MODEL-TOKEN" not in json.dumps(guarded)  # metadata only, never the value
        stored = emu.world.model_apis[guarded["id"]].access_tokens
        assert [t["token"] for t in stored] == ["LOCAL-TEST-MODEL-TOKEN-churn-not-a-secret"]


def test_a_state_file_survives_a_restart(tmp_path, mlflow_server, diabetes_model):
    state = tmp_path / "state.json"
    with Emulator(mlflow_uri=mlflow_server.uri, deploy_seconds=0.2, state_file=state) as emu:
        domino = DominoSession(emu.url, emu.api_key)
        environment = next(iter(emu.world.environments))
        body = model_api_body(emu.project_id, "kept", *diabetes_model, environment_id=environment)
        created = domino.ok("POST", MODEL_APIS, body)
        wait_for_deployment(domino, created["id"])
        token = emu.issue_model_token(created["id"], name="smoke")

    with Emulator(mlflow_uri=mlflow_server.uri, deploy_seconds=0.2, state_file=state) as again:
        domino = DominoSession(again.url, again.api_key)
        kept = domino.ok("GET", f"{MODEL_APIS}/{created['id']}")

        assert again.restored
        assert kept["name"] == "kept" and kept["activeVersion"]["deployment"]["status"] == "Running"
        assert [t["name"] for t in kept["access"]["accessTokens"]] == ["smoke"]  # tokens are kept too
        answer = call_model(again.url, created["id"], token, DIABETES_ROW)  # the model is loaded again on demand
        assert answer.status_code == 200, answer.text
        assert call_model(again.url, created["id"], None, DIABETES_ROW).status_code == 401


def test_a_stopped_emulator_cuts_kept_alive_connections(tmp_path):
    """A pooled connection must not reach an emulator that stopped (it would answer from a world it
    no longer saves): stop cuts it, and the next request is refused."""
    import requests

    emu = Emulator(state_file=tmp_path / "state.json").start()
    domino = DominoSession(emu.url, emu.api_key)
    project = f"/v4/projects/{emu.project_id}"
    domino.ok("GET", project)  # the session now holds a kept-alive connection
    emu.stop()

    with pytest.raises(requests.ConnectionError):
        domino.get(project)


def test_a_restart_keeps_the_port_and_a_build_under_way(tmp_path, mlflow_server, diabetes_model):
    clock = ManualClock()
    emu = Emulator(mlflow_uri=mlflow_server.uri, deploy_seconds=10, state_file=tmp_path / "state.json", clock=clock)
    with emu:
        domino = DominoSession(emu.url, emu.api_key)
        url, environment = emu.url, next(iter(emu.world.environments))
        created = domino.ok("POST", MODEL_APIS, model_api_body(emu.project_id, "restarted", *diabetes_model,
                                                              environment_id=environment))
        assert created["activeVersion"]["deployment"]["status"] == "Preparing to build"

        assert emu.restart() is emu and emu.url == url and emu.restored  # the same address, the saved world

        clock.advance(10)  # the build goes on after the restart: the model loads...
        status = wait_until(lambda: domino.ok("GET", f"{MODEL_APIS}/{created['id']}")["activeVersion"]["deployment"]
                            ["status"], lambda s: s not in ("Preparing to build", "Building"))  # same session
        assert status[-1] == "Starting", status
        clock.advance(10)  # ...then it runs
        assert wait_for_deployment(domino, created["id"])[-1] == "Running"
        assert len(domino.ok("GET", f"{MODEL_APIS}/{created['id']}/versions")) == 1


def test_only_an_emulator_with_a_state_file_restarts():
    with Emulator() as emu, pytest.raises(ConfigError, match="state file"):
        emu.restart()


def test_the_seed_format_documented_in_seed_py_builds_a_world():
    from domino_emulator import seed as seeds

    example = seeds.__doc__.split("::\n", 1)[1].split("\n\nProjects are named", 1)[0]
    world = seeds.build_world(yaml.safe_load(textwrap.dedent(example)), source="seed.py")

    assert world.find_project("demo-user", "demo-project") is not None
    rule = next(iter(world.access_rules.values()))
    assert (rule.model_api, rule.public, [t["name"] for t in rule.tokens]) == ("churn-stage", False, ["ci"])
