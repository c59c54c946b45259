"""The Domino client against the project's emulator over real HTTP: both follow the contract
(emulator/src/domino_emulator/contract), so a drift on either side fails here.

No MLflow is needed: nothing here calls a deployed model, and builds may fail without models.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from domino_mlops.clients.domino.client import DominoClient
from domino_mlops.clients.domino.serving_types import RegistrySource, VersionSettings
from domino_mlops.clients.domino.scheduled_jobs import NewScheduledJob
from domino_mlops.clients.domino.serving import VersionOptions
from domino_emulator import Emulator
from domino_mlops.errors import AuthenticationFailed, NotFound, PermissionDenied
from tests.clients.domino_fakes import MaxJitter, Sleeps
from tests.support.emulator import wait_until

RID = "0f8e1ab2-1111-4222-8333-944455556666"


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
    project = client.find_project(emu.owner, emu.project_name)
    assert project.id == emu.project_id and client.get_project(project.id) == project
    tiers = client.hardware_tiers(project.id)
    assert tiers and all(t.data_plane_id and t.data_plane_name for t in tiers)
    assert {t.id for t in tiers} <= {t.id for t in client.all_hardware_tiers()}
    assert client.project_environments(project.id).default() is not None
    with pytest.raises(NotFound):
        client.find_project(emu.owner, "no-such-project")


def test_model_api_lifecycle_calls(emu):
    client, _ = client_for(emu)
    environment = client.project_environments(emu.project_id).default().id
    api = client.model_apis.create(project_id=emu.project_id, name="contract-check", environment_id=environment,
                                   source=RegistrySource("churn", 1), hardware_tier_id="small-k8s",
                                   environment_variables={"MLFLOW_MODEL_NAME": "churn"})
    assert client.model_apis.find(emu.project_id, "contract-check") == client.model_apis.get(api.id)
    assert not api.access.is_public  # restricted, as Domino's are; no token yet
    capture = VersionSettings(True, True, True)
    version = client.model_apis.create_version(api.id, project_id=emu.project_id, source=RegistrySource("churn", 2),
                                               options=VersionOptions(capture), request_id=RID)
    assert version.request_id == RID and version.settings == capture and version.labels == ()
    assert version.id in {v.id for v in client.model_apis.list_versions(api.id)}
    assert client.model_apis.get_version(api.id, version.id).source == RegistrySource("churn", 2)
    assert client.deployments.status(api.id, version.id).status
    assert client.deployments.stop(api.id, version.id).is_stopped
    updated = client.model_apis.update(api.id, name=api.name, description="checked", environment_id=environment,
                                       replicas=2, hardware_tier_id="small-k8s")
    assert updated.replicas == 2
    assert client.model_apis.logs(api.id, version.id, "buildLogs").lines


def test_jobs_and_apps_calls(emu):
    client, _ = client_for(emu)
    job = client.jobs.start(emu.project_id, "python train.py", title="contract", hardware_tier="small-k8s")
    assert client.jobs.get(job.id).id == job.id
    logs = client.jobs.logs(job.id)  # may still be empty: the job is queued
    assert all(line.log_type and isinstance(line.text, str) for line in logs.lines)
    client.jobs.stop(job.id)
    app_id = client.apps.create(emu.project_id, "contract-app")
    client.apps.start(app_id, hardware_tier_id="small-k8s")
    assert client.apps.get(app_id).status
    assert client.apps.find(emu.project_id, "contract-app").id == app_id
    client.apps.stop(app_id)


def test_a_marked_job_with_variables_is_found_again(emu):
    client, _ = client_for(emu)
    job = client.jobs.start(emu.project_id, "python validate.py", title="validate", marker="def0.STAGE",
                            variables={"DOMINO_ENV": "STAGE", "MIN_AUC": "0.8"})
    with emu.world.lock:
        assert emu.world.jobs[job.id].variables == {"DOMINO_ENV": "STAGE", "MIN_AUC": "0.8"}
    client.jobs.start(emu.project_id, "python other.py", title="other")
    found = client.jobs.find_marked(emu.project_id, "def0.STAGE")
    assert (found.id, found.title, found.commit_id) == (job.id, "validate [domino-mlops job def0.STAGE]",
                                                       emu.world.project(emu.project_id).commits[0])
    assert client.jobs.find_marked(emu.project_id, "never-ran") is None


def test_scheduled_jobs_round_trip(emu):
    client, _ = client_for(emu)
    me = client.current_user()
    schedule = NewScheduledJob(title="score", command="python score.py", cron="0 0 6 * * ?",
                               hardware_tier="small-k8s", scheduled_by=me.id, variables={"DOMINO_ENV": "PROD"},
                               marker="sched-1", branch="main")
    created = client.scheduled_jobs.create(emu.project_id, schedule)
    assert client.scheduled_jobs.find_marked(emu.project_id, "sched-1") == created
    assert created.command == "env DOMINO_ENV=PROD python score.py" and created.scheduled_by == me.user_name
    paused = client.scheduled_jobs.update(emu.project_id, created.id, replace(schedule, paused=True))
    assert paused.is_paused and paused.id == created.id
    client.scheduled_jobs.delete(emu.project_id, created.id)
    assert client.scheduled_jobs.find_marked(emu.project_id, "sched-1") is None


def test_an_app_published_with_visibility_answers_its_page(emu):
    client, _ = client_for(emu)
    app_id = client.apps.create(emu.project_id, "paged-app", visibility="AUTHENTICATED", entry_point="run.sh")
    instance = client.apps.start(app_id, hardware_tier_id="small-k8s")
    app = wait_until(lambda: client.apps.get(app_id), lambda a: a.is_running or a.is_failed)[-1]
    assert (app.visibility, app.entry_point, app.latest_instance_id) == ("AUTHENTICATED", "run.sh", instance)
    assert app.running_commit_id == emu.world.project(emu.project_id).commits[0]
    page = client.apps.page(app, "/health")
    assert page.status == 200 and "paged-app" in page.text
    with pytest.raises(AuthenticationFailed):
        client.apps.page(app, authenticated=False)  # not PUBLIC: an anonymous visitor is refused
    client.apps.set_visibility(app_id, "PUBLIC")
    assert client.apps.page(app, authenticated=False).status == 200
    assert [i.id for i in client.apps.instances(app_id)] == [instance]
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


def test_injected_429_and_503_are_retried_with_retry_after(emu):
    envs = f"/v4/projects/{emu.project_id}/useableEnvironments"
    faults = {"seed": 1, "rules": [{"prefix": envs, "rate_429": 1.0, "retry_after": 3, "limit": 1},
                                   {"prefix": "/api/hardwaretiers", "rate_503": 1.0, "limit": 2}]}
    with Emulator(deploy_seconds=0.2, faults=faults) as emulator:
        client, sleeps = client_for(emulator)
        assert client.project_environments(emulator.project_id).environments
        assert sleeps == [3.0]
        assert client.all_hardware_tiers()
        assert sleeps == [3.0, 0.5, 1.0]


def test_a_service_account_token_is_the_recommended_credential_and_goes_as_bearer(emu):
    # Domino's credential for automation (public API ServiceAccounts): what PROJECT_ID_<ID> should hold.
    from domino_emulator.seed import ADMIN_API_KEY
    from tests.support.emulator import DominoSession

    admin = DominoSession(emu.url, ADMIN_API_KEY)
    accounts = "/api/serviceAccounts/v1/serviceAccounts"
    account = admin.ok("POST", accounts, {"username": "promoter", "email": "ops@example.com"})["serviceAccount"]
    token = admin.ok("POST", f"{accounts}/{account['idpId']}/tokens", {"name": "github"})["token"]
    DominoSession(emu.url).ok("PUT", f"/_emulator/serviceAccounts/{account['idpId']}/projects/{emu.project_id}", {})
    client = DominoClient.from_env({"DOMINO_API_HOST": emu.url}, token=token,
                                   token_source=f"PROJECT_ID_{emu.project_id}", sleep=Sleeps(), rng=MaxJitter())

    assert client.find_project(emu.owner, emu.project_name).id == emu.project_id
    assert client.current_user().user_name == "promoter"
    (sent,) = [r for r in emu.requests if r.route == "GET /api/users/v1/self"][-1:]
    assert sent.status == 200
    admin.ok("POST", f"{accounts}/{account['idpId']}/tokens/github/invalidate")
    with pytest.raises(AuthenticationFailed, match=f"PROJECT_ID_{emu.project_id}"):
        client.find_project(emu.owner, emu.project_name)
