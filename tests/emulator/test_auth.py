"""Credentials on the emulator follow Domino 6.x: 401 without one, 403 outside its projects."""

from __future__ import annotations

import uuid

import pytest

from domino_mlops.emulator import Emulator
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
