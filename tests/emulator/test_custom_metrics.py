"""The emulator's custom metrics routes over real HTTP: validation with the document's error
bodies, who may use a monitored model, the inclusive time range, alerts kept for tests, state."""

from __future__ import annotations

import json

import pytest
import requests

from domino_mlops.emulator import Emulator
from domino_mlops.emulator.seed import OTHER_API_KEY, READER_API_KEY
from tests.support.emulator import NO_ID, DominoSession

VALUES, ALERTS = "/api/metricValues/v1", "/api/metricAlerts/v1"


def _value(mm: str, at: str = "2025-03-01T12:00:00Z", value: object = 0.9, **kw) -> dict:
    return {"modelMonitoringId": mm, "metric": "accuracy", "value": value, "referenceTimestamp": at, **kw}


def _read(domino: DominoSession, mm: str, start: str, end: str, metric: str = "accuracy") -> requests.Response:
    return domino.get(f"{VALUES}/{mm}/{metric}", params={"startingReferenceTimestampInclusive": start,
                                                          "endingReferenceTimestampInclusive": end})


@pytest.fixture
def mm(emu) -> str:
    return emu.add_monitored_model(emu.project_id, "exported-churn")


def test_values_are_read_back_within_the_inclusive_range_oldest_first(emu, domino, mm):
    logged = domino.post(VALUES, {"newMetricValues": [
        _value(mm, "2025-03-01T12:00:02Z", 0.7),
        _value(mm, "2025-03-01T14:00:00+02:00", 0.9, tags=[{"key": "region", "value": "eu"}]),  # = 12:00:00Z
        _value(mm, "2025-03-01T12:00:03Z", 0.1),
        {**_value(mm, "2025-03-01T12:00:01Z", 5), "metric": "latency_ms"},
    ]})
    assert (logged.status_code, logged.content) == (201, b"")
    answer = _read(domino, mm, "2025-03-01T12:00:00Z", "2025-03-01T12:00:02Z")
    assert answer.status_code == 200
    body = answer.json()
    assert set(body["metadata"]) == {"requestId", "notices"}
    assert body["metricValues"] == [  # both ends included; 12:00:03 is outside; latency_ms is another metric
        {"value": 0.9, "referenceTimestamp": "2025-03-01T12:00:00Z", "tags": [{"key": "region", "value": "eu"}]},
        {"value": 0.7, "referenceTimestamp": "2025-03-01T12:00:02Z", "tags": []},
    ]
    assert _read(domino, mm, "2025-03-01T12:00:00Z", "2025-03-01T12:00:03Z", metric="nothing").json()[
        "metricValues"] == []


@pytest.mark.parametrize("item, problem", [
    ({"referenceTimestamp": "2025-03-01T12:00:00"}, "not an RFC 3339 timestamp with a time zone"),
    ({"referenceTimestamp": "2025-03-01"}, "not an RFC 3339 timestamp with a time zone"),
    ({"referenceTimestamp": "2025-13-01T12:00:00Z"}, "not an RFC 3339 timestamp with a time zone"),
    ({"metric": "  "}, "metric must not be empty"),
    ({"value": "0.9"}, "'0.9' is not of type 'number'"),
    ({"value": None}, "None is not of type 'number'"),
])
def test_a_bad_value_refuses_the_whole_batch_with_the_documents_400(domino, mm, item, problem):
    answer = domino.post(VALUES, {"newMetricValues": [_value(mm, value=0.5), {**_value(mm), **item}]})
    assert answer.status_code == 400
    assert set(answer.json()) == {"error"} and problem in answer.json()["error"]  # the document's 400 body
    assert _read(domino, mm, "2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z").json()["metricValues"] == []


def test_nan_which_python_parses_but_json_forbids_is_a_400(emu, mm):
    body = '{"newMetricValues": [{"modelMonitoringId": "%s", "metric": "a", "value": NaN, ' \
           '"referenceTimestamp": "2025-03-01T12:00:00Z"}]}' % mm
    answer = requests.post(emu.url + VALUES, data=body, timeout=10,
                           headers={"X-Domino-Api-Key": emu.api_key, "Content-Type": "application/json"})
    assert answer.status_code == 400 and "must be a finite number" in answer.json()["error"]


def test_who_may_use_a_monitored_model(emu, domino, mm):
    batch = {"newMetricValues": [_value(mm)]}
    assert requests.post(emu.url + VALUES, json=batch, timeout=10).status_code == 401
    other = DominoSession(emu.url, OTHER_API_KEY)
    refused = other.post(VALUES, batch)
    assert refused.status_code == 403 and set(refused.json()) == {"errors", "requestId"}  # FailureEnvelopeV1
    assert _read(other, mm, "2025-03-01T12:00:00Z", "2025-03-01T12:00:00Z").status_code == 403
    unknown = domino.post(VALUES, {"newMetricValues": [_value(mm), _value(NO_ID)]})
    assert unknown.status_code == 404 and NO_ID in unknown.json()["error"]
    reader = DominoSession(emu.url, READER_API_KEY)  # a Results Consumer reads, but logs nothing
    assert reader.post(VALUES, batch).status_code == 403
    assert _read(reader, mm, "2025-03-01T12:00:00Z", "2025-03-01T12:00:00Z").json()["metricValues"] == []


@pytest.mark.parametrize("query, problem", [
    ({"startingReferenceTimestampInclusive": "2025-03-01T12:00:00Z"},
     "'endingReferenceTimestampInclusive' is required"),
    ({"startingReferenceTimestampInclusive": "yesterday", "endingReferenceTimestampInclusive": "2025-03-01T12:00:00Z"},
     "startingReferenceTimestampInclusive is not an RFC 3339 timestamp"),
    ({"startingReferenceTimestampInclusive": "2025-03-02T00:00:00Z",
      "endingReferenceTimestampInclusive": "2025-03-01T00:00:00Z"}, "is after endingReferenceTimestampInclusive"),
])
def test_a_bad_time_range_is_a_400(domino, mm, query, problem):
    answer = domino.get(f"{VALUES}/{mm}/accuracy", params=query)
    assert answer.status_code == 400 and problem in answer.json()["error"]


def test_alerts_are_checked_and_kept_for_tests_to_read(emu, domino, mm):
    alert = {"modelMonitoringId": mm, "metric": "accuracy", "value": 0.5, "description": "drifted",
             "targetRange": {"condition": "between", "lowerLimit": 0.8, "upperLimit": 1.0}}
    sent = domino.post(ALERTS, alert)
    assert (sent.status_code, sent.content) == (200, b"")
    kept = requests.get(emu.url + "/_emulator/metricAlerts", params={"modelMonitoringId": mm}, timeout=10).json()
    assert [(a["metric"], a["value"], a["targetRange"], a["description"], a["sentBy"])
            for a in kept["metricAlerts"]] == [("accuracy", 0.5, alert["targetRange"], "drifted", emu.owner)]
    assert requests.get(emu.url + "/_emulator/metricAlerts", params={"modelMonitoringId": NO_ID},
                        timeout=10).json() == {"metricAlerts": []}


@pytest.mark.parametrize("target, problem", [
    ({"condition": "lessThan"}, "lowerLimit, upperLimit, or both must be provided"),  # the document's rule
    ({"condition": "lessThan", "lowerLimit": 1}, "condition lessThan needs upperLimit"),
    ({"condition": "greaterThanEqual", "upperLimit": 1}, "condition greaterThanEqual needs lowerLimit"),
    ({"condition": "between", "lowerLimit": 1}, "condition between needs upperLimit"),
    ({"condition": "between", "lowerLimit": 2, "upperLimit": 1}, "lowerLimit is above upperLimit"),
    ({"condition": "outside", "lowerLimit": 1}, "is not one of"),  # the document's enum
])
def test_an_alert_whose_range_cannot_be_judged_is_a_400_and_not_kept(emu, domino, mm, target, problem):
    answer = domino.post(ALERTS, {"modelMonitoringId": mm, "metric": "accuracy", "value": 0.5, "targetRange": target})
    assert answer.status_code == 400 and problem in answer.json()["error"]
    assert requests.get(emu.url + "/_emulator/metricAlerts", timeout=10).json() == {"metricAlerts": []}


def test_monitored_models_are_registered_by_the_admin_route_and_survive_a_restart(tmp_path):
    state = tmp_path / "state.json"
    with Emulator(deploy_seconds=0.2, state_file=state) as emu:
        made = requests.post(emu.url + "/_emulator/monitoredModels", timeout=10,
                             json={"projectId": emu.project_id, "name": "exported", "id": "mm-exported"})
        assert made.status_code == 201 and made.json() == {"id": "mm-exported", "projectId": emu.project_id,
                                                           "name": "exported"}
        assert requests.post(emu.url + "/_emulator/monitoredModels", timeout=10,
                             json={"projectId": NO_ID, "name": "x"}).status_code == 404
        domino = DominoSession(emu.url, emu.api_key)
        assert domino.post(VALUES, {"newMetricValues": [_value("mm-exported")]}).status_code == 201
        emu.restart()
        assert _read(domino, "mm-exported", "2025-03-01T12:00:00Z", "2025-03-01T12:00:00Z").json()[
            "metricValues"][0]["value"] == 0.9
    assert {m["id"] for m in json.loads(state.read_text())["monitored_models"]} == {"mm-exported"}
