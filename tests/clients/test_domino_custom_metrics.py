"""The custom metrics client against the emulator over real HTTP: what it logs is what it reads
back, alerts arrive, and the emulator's refusals become our errors (HTTP edge cases:
test_domino_custom_metrics_http.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
import requests

from domino_mlops.clients.domino import DominoClient
from domino_mlops.clients.domino_custom_metrics import MAX_BATCH, MetricAlert, MetricValue, TargetRange
from domino_mlops.contract import load_contract
from domino_mlops.emulator import Emulator
from domino_mlops.emulator.seed import OTHER_API_KEY, READER_API_KEY
from domino_mlops.errors import AuthenticationFailed, NotFound, PermissionDenied
from tests.support.emulator import NO_ID

AT = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(deploy_seconds=0.2) as emulator:
        yield emulator


def client_for(emu: Emulator, key: str | None = None) -> DominoClient:
    return DominoClient.from_env({"DOMINO_API_HOST": emu.url, "DOMINO_USER_API_KEY": key or emu.api_key})


def test_what_is_logged_is_read_back_within_the_range(emu):
    mm = emu.add_monitored_model(emu.project_id, "logged")
    client = client_for(emu)
    values = [MetricValue(mm, "accuracy", 0.9 - i / 100, AT + timedelta(minutes=i), (("region", "eu"),))
              for i in range(4)]
    client.custom_metrics.log_values([*values, MetricValue(mm, "latency_ms", 12.5, AT)])
    got = client.custom_metrics.read_values(mm, "accuracy", start=AT + timedelta(minutes=1),
                                            end=AT + timedelta(minutes=2))
    assert got == tuple(values[1:3])  # both ends included; the other metric stays apart


def test_a_large_batch_goes_in_parts_and_arrives_whole(emu):
    mm = emu.add_monitored_model(emu.project_id, "large")
    emu.reset_log()
    values = [MetricValue(mm, "rows", float(i), AT + timedelta(seconds=i)) for i in range(MAX_BATCH + 7)]
    client_for(emu).custom_metrics.log_values(values)
    posts = [r for r in emu.requests if r.route == "POST /api/metricValues/v1"]
    assert [len(r.body["newMetricValues"]) for r in posts] == [MAX_BATCH, 7]
    assert client_for(emu).custom_metrics.read_values(mm, "rows", start=AT, end=AT + timedelta(hours=1)) == tuple(
        values)


def test_an_alert_reaches_domino_as_sent(emu):
    mm = emu.add_monitored_model(emu.project_id, "alerted")
    alert = MetricAlert(mm, "accuracy", 0.42, TargetRange("greaterThanEqual", lower_limit=0.8), "accuracy fell")
    client_for(emu).custom_metrics.send_alert(alert)
    kept = requests.get(emu.url + "/_emulator/metricAlerts", params={"modelMonitoringId": mm}, timeout=10).json()
    assert [(a["value"], a["targetRange"], a["description"]) for a in kept["metricAlerts"]] == [
        (0.42, {"condition": "greaterThanEqual", "lowerLimit": 0.8}, "accuracy fell")]


def test_every_request_sent_is_the_published_one(emu):
    mm = emu.add_monitored_model(emu.project_id, "conform")
    emu.reset_log()
    client = client_for(emu)
    client.custom_metrics.log_values([MetricValue(mm, "a", 1, AT, (("k", "v"),))])
    client.custom_metrics.read_values(mm, "a", start=AT, end=AT)
    client.custom_metrics.send_alert(MetricAlert(mm, "a", 1, TargetRange("between", 2, 3)))
    contract, problems = load_contract(), []
    for record in emu.requests:
        route = contract.match(record.method, record.path)
        problems += contract.check_request(route, record.body, query=record.query, path=record.path,
                                           strict_query=True)
    assert problems == [] and [r.status for r in emu.requests] == [201, 200, 200]


def test_refusals_become_our_errors(emu):
    mm = emu.add_monitored_model(emu.project_id, "guarded")
    one = [MetricValue(mm, "a", 1, AT)]
    with pytest.raises(NotFound, match=f"no monitored model '{NO_ID}'"):
        client_for(emu).custom_metrics.read_values(NO_ID, "a", start=AT, end=AT)
    with pytest.raises(PermissionDenied, match=f"monitored model '{mm}'"):
        client_for(emu, OTHER_API_KEY).custom_metrics.log_values(one)
    with pytest.raises(PermissionDenied):  # a Results Consumer may read, not log
        client_for(emu, READER_API_KEY).custom_metrics.log_values(one)
    assert client_for(emu, READER_API_KEY).custom_metrics.read_values(mm, "a", start=AT, end=AT) == ()
    with pytest.raises(AuthenticationFailed):
        client_for(emu, "LOCAL-TEST-API-KEY-nobody").custom_metrics.send_alert(
            MetricAlert(mm, "a", 1, TargetRange("lessThan", upper_limit=0)))
