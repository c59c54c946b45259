"""The request log and counters: what tests use to prove "nothing was written"."""

from __future__ import annotations

import requests

from domino_emulator import Emulator
from tests.support.emulator import MODEL_APIS, DominoSession


def test_read_only_traffic_counts_no_writes():
    with Emulator() as emu:
        domino = DominoSession(emu.url, emu.api_key)
        domino.get("/version")
        domino.get(f"/v4/gateway/projects/findProjectByOwnerAndName?ownerName={emu.owner}&projectName={emu.project_name}")
        domino.get(f"/v4/projects/{emu.project_id}/hardwareTiers")
        domino.get(f"{MODEL_APIS}?projectId={emu.project_id}")
        domino.get("/api/hardwaretiers/v1/hardwaretiers")

        assert emu.counters.writes() == 0
        assert emu.counters.reads() == emu.counters.total() == 5
        assert emu.counters.get("GET", "/v4/projects/{projectId}/hardwareTiers") == 1

        domino.post("/v4/jobs/start", {"projectId": emu.project_id, "commandToRun": "python a.py"})
        assert emu.counters.writes() == 1
        assert emu.requests[-1].route == "POST /v4/jobs/start"
        assert emu.requests[-1].body == {"projectId": emu.project_id, "commandToRun": "python a.py"}


def test_the_admin_routes_show_and_reset_the_log_without_being_logged():
    with Emulator() as emu:
        DominoSession(emu.url, emu.api_key).get(f"/v4/projects/{emu.project_id}")
        seen = requests.get(f"{emu.url}/_emulator/requests", timeout=5).json()

        assert seen["counters"] == {"total": 1, "writes": 0, "reads": 1,
                                    "byRoute": {"GET /v4/projects/{projectId}": 1}}
        assert [(r["method"], r["path"], r["status"]) for r in seen["requests"]] == [
            ("GET", f"/v4/projects/{emu.project_id}", 200)]

        assert requests.post(f"{emu.url}/_emulator/reset", timeout=5).ok
        assert emu.counters.total() == 0 and emu.requests == []
        emu.reset_log()
        assert requests.get(f"{emu.url}/_emulator/requests", timeout=5).json()["counters"]["total"] == 0


def test_record_responses_keeps_each_answer_masked_and_the_option_is_off_by_default():
    with Emulator() as quiet:
        DominoSession(quiet.url, quiet.api_key).get(f"/v4/projects/{quiet.project_id}")
        assert quiet.requests[-1].response is None

    with Emulator(record_responses=True) as emu:
        domino = DominoSession(emu.url, emu.api_key)
        project = domino.ok("GET", f"/v4/projects/{emu.project_id}")
        refused = DominoSession(emu.url).get(MODEL_APIS)
        created = domino.ok("POST", "/v4/jobs/start", {"projectId": emu.project_id, "commandToRun": "python a.py"})
        seen = requests.get(f"{emu.url}/_emulator/requests", timeout=5).json()["requests"]

        assert [r.response for r in emu.requests[:2]] == [project, refused.json()]
        assert emu.requests[2].response == created and emu.requests[2].body["commandToRun"] == "python a.py"
        assert seen[0]["response"] == project  # the same over HTTP, for out-of-process tests
        assert _masked({"token": "t", "items": [{"password": "p", "name": "n"}]}) == {
            "token": "***", "items": [{"password": "***", "name": "n"}]}


def _masked(value):
    from domino_emulator.recorder import RequestLog

    log = RequestLog(record_responses=True)
    return log.add(time=0.0, method="GET", path="/", query="", route=None, write=False, status=200, fault=None,
                   duration_ms=0.0, response=value).response
