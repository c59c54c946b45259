"""Credentials on the emulator follow Domino 6.x: 401 without one, 403 outside its projects."""

from __future__ import annotations

import uuid

import pytest

from domino_emulator import Emulator
from tests.support.emulator import MODEL_APIS, NO_ID, DominoSession


@pytest.fixture(scope="module")
def emu():
    with Emulator(deploy_seconds=0.2) as running:  # no MLflow needed to check credentials
        yield running


def test_no_credential_is_401_in_the_shape_of_each_api_and_version_is_public(emu):
    anonymous = DominoSession(emu.url)
    v4 = anonymous.get(f"/v4/projects/{emu.project_id}")
    public = anonymous.get(MODEL_APIS)

    assert v4.status_code == 401 and set(v4.json()) == {"message"}  # domino.api.ErrorResponse
    assert public.status_code == 401 and set(public.json()) == {"errors", "requestId"}  # FailureEnvelopeV1
    assert public.json()["errors"] and str(uuid.UUID(public.json()["requestId"])) == public.json()["requestId"]
    assert anonymous.get("/version").json()["version"] == "6.1.0"


def test_an_unknown_key_is_401(emu):
    assert DominoSession(emu.url, "no-such-key").get(f"/v4/projects/{emu.project_id}").status_code == 401
    assert DominoSession(emu.url, bearer="no-such-token").get(f"/v4/projects/{emu.project_id}").status_code == 401


def test_another_projects_key_is_403(emu):
    other = DominoSession(emu.url, emu.api_key_for("other-user/other-project"))

    assert other.get(f"/v4/projects/{emu.project_id}").status_code == 403
    assert other.get(f"/v4/projects/{emu.project_id}/hardwareTiers").status_code == 403
    assert other.get(f"{MODEL_APIS}?projectId={emu.project_id}").status_code == 403
    lookup = other.get(f"/v4/gateway/projects/findProjectByOwnerAndName?ownerName={emu.owner}"
                       f"&projectName={emu.project_name}")
    assert lookup.status_code == 403
    assert other.post("/v4/jobs/start", {"projectId": emu.project_id, "commandToRun": "x"}).status_code == 403
    assert emu.counters.writes() == 1  # the refused start was still a write attempt, and nothing ran
    assert not emu.world.jobs


def test_an_api_key_sent_as_bearer_is_403(emu):
    response = DominoSession(emu.url, bearer=emu.api_key).get(f"/v4/projects/{emu.project_id}")

    assert response.status_code == 403
    assert "X-Domino-Api-Key" in response.json()["message"]


def test_a_bearer_token_and_an_admin_key_are_accepted(emu):
    assert DominoSession(emu.url, bearer=emu.token).get(f"/v4/projects/{emu.project_id}").ok
    admin = DominoSession(emu.url, "LOCAL-TEST-API-KEY-admin-not-a-secret")
    assert admin.get(f"/v4/projects/{emu.project_id}").ok
    assert admin.get(f"/v4/projects/{emu.world.find_project('other-user', 'other-project').id}").ok


def test_unknown_ids_are_404_after_authentication(emu):
    domino = DominoSession(emu.url, emu.api_key)

    assert domino.get(f"{MODEL_APIS}/{NO_ID}").status_code == 404
    assert DominoSession(emu.url).get(f"{MODEL_APIS}/{NO_ID}").status_code == 401
    unknown = domino.get("/no/such/route")
    assert unknown.status_code == 404 and set(unknown.json()) == {"errors", "requestId"}  # Domino's gateway
    wrong_method = domino.delete("/version")
    assert wrong_method.status_code == 405 and set(wrong_method.json()) == {"message"}  # the route's own shape


def test_public_errors_take_the_shape_each_status_declares_and_v4_keeps_its_own(emu):
    domino = DominoSession(emu.url, emu.api_key)
    missing = domino.get(f"/api/jobs/beta/jobs/{NO_ID}")  # public getJobDetails: 404 is {"error"}
    assert missing.status_code == 404 and set(missing.json()) == {"error"} and NO_ID in missing.json()["error"]
    denied = DominoSession(emu.url).get(f"/api/jobs/beta/jobs/{NO_ID}")  # its 401 is FailureEnvelopeV1
    assert denied.status_code == 401 and set(denied.json()) == {"errors", "requestId"}
    v4 = domino.get(f"/v4/projects/{NO_ID}")
    assert v4.status_code == 404 and set(v4.json()) == {"message"}


def test_an_unknown_project_lookup_is_the_403_the_v4_document_allows(emu):
    domino = DominoSession(emu.url, emu.api_key)
    answer = domino.get("/v4/gateway/projects/findProjectByOwnerAndName?ownerName=nobody&projectName=nothing")
    assert answer.status_code == 403 and set(answer.json()) == {"message"}  # declared: 200, 403, 500


def test_a_service_account_token_is_a_bearer_credential_in_the_accounts_projects(emu):
    from domino_emulator.seed import ADMIN_API_KEY

    admin = DominoSession(emu.url, ADMIN_API_KEY)
    accounts = "/api/serviceAccounts/v1/serviceAccounts"
    user = f"deployer-{uuid.uuid4().hex[:6]}"
    account = admin.ok("POST", accounts, {"username": user, "email": "ops@example.com"})["serviceAccount"]
    assert DominoSession(emu.url, emu.api_key).post(accounts, {"username": "x", "email": "x@y"}).status_code == 403
    issued = admin.ok("POST", f"{accounts}/{account['idpId']}/tokens", {"name": "ci"})
    bot = DominoSession(emu.url, bearer=issued["token"])
    assert bot.ok("GET", "/api/users/v1/self")["user"]["userName"] == user
    assert bot.get(f"/v4/projects/{emu.project_id}").status_code == 403  # a collaborator of nothing yet
    emu_admin = DominoSession(emu.url)
    assert emu_admin.put(f"/_emulator/serviceAccounts/{account['idpId']}/projects/{emu.project_id}").ok
    assert bot.ok("GET", f"/v4/projects/{emu.project_id}")["id"] == emu.project_id
    admin.ok("POST", f"{accounts}/{account['idpId']}/tokens/ci/invalidate")
    assert bot.get(f"/v4/projects/{emu.project_id}").status_code == 401
