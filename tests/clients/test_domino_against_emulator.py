"""The Domino client against the project's emulator over real HTTP: both sides read the same
contract (docs/DOMINO_API.md, docs/CONTRACT_DECISIONS.md), so a drift on either side fails here.

No MLflow is needed: nothing here calls a deployed model, and builds may fail without models.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domino_mlops.clients.domino import DominoClient
from domino_mlops.clients.domino_serving_types import REQUEST_ID_LABEL, RegistrySource
from domino_mlops.emulator import Emulator
from domino_mlops.errors import NotFound, PermissionDenied
from tests.clients.domino_fakes import MaxJitter, Sleeps


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(deploy_seconds=0.2) as emulator:
        yield emulator


def client_for(emulator: Emulator, **env: str) -> tuple[DominoClient, Sleeps]:
    sleeps = Sleeps()
    environ = {"DOMINO_API_HOST": emulator.url, **(env or {"DOMINO_USER_API_KEY": emulator.api_key})}
    return DominoClient.from_env(environ, sleep=sleeps, rng=MaxJitter()), sleeps


def test_reads_parse_the_emulators_answers(emu):
    client, _ = client_for(emu)
    assert client.version().at_least("4.1.0")
    project = client.find_project(emu.owner, emu.project_name)
    assert project.id == emu.project_id and client.get_project(project.id) == project
    tiers = client.hardware_tiers(project.id)
    assert tiers and all(t.data_plane_id for t in tiers)
    assert {t.id for t in tiers} <= {t.id for t in client.all_hardware_tiers()}
    assert client.environments()
    with pytest.raises(NotFound):
        client.find_project(emu.owner, "no-such-project")


def test_model_api_lifecycle_calls(emu):
    client, _ = client_for(emu)
    environment = client.environments()[0].id
    api = client.model_apis.create(project_id=emu.project_id, name="contract-check", environment_id=environment,
                                   source=RegistrySource("churn", 1), hardware_tier_id="small-k8s",
                                   environment_variables={"MLFLOW_MODEL_NAME": "churn"})
    assert client.model_apis.find(emu.project_id, "contract-check") == client.model_apis.get(api.id)
    version = client.model_apis.create_version(api.id, project_id=emu.project_id, source=RegistrySource("churn", 2),
                                               request_id="r-contract")
    assert version.label(REQUEST_ID_LABEL) == "r-contract"
    assert version.id in {v.id for v in client.model_apis.list_versions(api.id)}
    assert client.model_apis.get_version(api.id, version.id).source == RegistrySource("churn", 2)
    assert client.deployments.status(api.id, version.id).status
    assert client.deployments.stop(api.id, version.id).is_stopped
    updated = client.model_apis.update(api.id, name=api.name, description="checked", environment_id=environment,
                                       replicas=2, hardware_tier_id="small-k8s")
    assert updated.replicas == 2
    token = client.model_apis.create_access_token(api.id, "smoke")
    assert token.token and all(t.token is None for t in client.model_apis.list_access_tokens(api.id))


def test_jobs_and_apps_calls(emu):
    client, _ = client_for(emu)
    job = client.jobs.start(emu.project_id, "python train.py", title="contract")
    assert client.jobs.get(job.id).id == job.id
    logs = client.jobs.logs(job.id)  # may still be empty: the job is queued
    assert all(line.log_type and isinstance(line.text, str) for line in logs.lines)
    client.jobs.stop(emu.project_id, job.id)
    app_id = client.apps.create(emu.project_id, "contract-app")
    client.apps.start(app_id, hardware_tier_id="small-k8s")
    assert client.apps.get(app_id).status
    assert client.apps.find(emu.project_id, "contract-app").id == app_id
    client.apps.stop(app_id)


def test_a_token_file_and_another_projects_key(emu, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(emu.token)
    client, _ = client_for(emu, DOMINO_TOKEN_FILE=str(token_file))
    assert client.get_project(emu.project_id).id == emu.project_id
    other_key = emu.api_key_for("other-user/other-project")
    outsider, _ = client_for(emu, DOMINO_USER_API_KEY=other_key)
    with pytest.raises(PermissionDenied) as caught:
        outsider.model_apis.list(emu.project_id)
    assert "DOMINO_USER_API_KEY" in str(caught.value) and other_key not in str(caught.value)


def test_injected_429_and_503_are_retried_with_retry_after():
    faults = {"seed": 1, "rules": [{"prefix": "/v1/environments", "rate_429": 1.0, "retry_after": 3, "limit": 1},
                                   {"prefix": "/version", "rate_503": 1.0, "limit": 2}]}
    with Emulator(deploy_seconds=0.2, faults=faults) as emulator:
        client, sleeps = client_for(emulator)
        assert client.environments()
        assert sleeps == [3.0]
        assert client.version().version
        assert sleeps == [3.0, 0.5, 1.0]
