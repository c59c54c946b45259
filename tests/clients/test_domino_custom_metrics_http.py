"""Custom metrics: the HTTP edge cases a real server will not produce on demand (``responses``).

The client against the emulator over real HTTP is tests/clients/test_domino_custom_metrics.py.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from domino_mlops.clients.domino_custom_metrics import MAX_BATCH, MetricAlert, MetricValue, TargetRange
from domino_mlops.errors import (
    BadResponse,
    ConfigError,
    MetricsRefused,
    MetricValuesPartlyLogged,
    NotFound,
    PermissionDenied,
)
from tests.clients.domino_fakes import API_KEY, HOST, make_client, nonconforming_requests

VALUES = f"{HOST}/api/metricValues/v1"
ALERTS = f"{HOST}/api/metricAlerts/v1"
MM = "6601c0ffee0000000000mm01"
AT = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
META = {"requestId": "r1", "notices": []}


def _value(i: int = 0, **kw) -> MetricValue:
    return MetricValue(**{"model_monitoring_id": MM, "metric": "accuracy", "value": 0.5 + i / 10_000,
                          "reference_timestamp": AT + timedelta(seconds=i), **kw})


def test_log_values_sends_the_published_body_once(rsps):
    client, _ = make_client()
    rsps.post(VALUES, status=201)
    paris = timezone(timedelta(hours=2))
    client.custom_metrics.log_values([
        _value(tags=(("region", "eu"),)),
        MetricValue(MM, "latency_ms", 12, datetime(2025, 3, 1, 14, 0, 1, 500, tzinfo=paris)),
    ])
    assert len(rsps.calls) == 1
    assert json.loads(rsps.calls[0].request.body) == {"newMetricValues": [
        {"modelMonitoringId": MM, "metric": "accuracy", "value": 0.5, "referenceTimestamp": "2025-03-01T12:00:00Z",
         "tags": [{"key": "region", "value": "eu"}]},
        {"modelMonitoringId": MM, "metric": "latency_ms", "value": 12,
         "referenceTimestamp": "2025-03-01T12:00:01.000500Z"},  # UTC, with the zone RFC 3339 requires
    ]}
    assert nonconforming_requests(rsps) == []


def test_nothing_to_log_sends_nothing(rsps):
    client, _ = make_client()
    client.custom_metrics.log_values([])
    assert len(rsps.calls) == 0


def test_a_large_batch_is_split_in_order(rsps):
    client, _ = make_client()
    rsps.post(VALUES, status=201)
    client.custom_metrics.log_values([_value(i) for i in range(MAX_BATCH * 2 + 1)])
    sizes = [len(json.loads(c.request.body)["newMetricValues"]) for c in rsps.calls]
    assert sizes == [MAX_BATCH, MAX_BATCH, 1]
    assert json.loads(rsps.calls[2].request.body)["newMetricValues"][0]["value"] == _value(MAX_BATCH * 2).value


def test_a_later_part_failing_says_how_many_went_in(rsps):
    client, _ = make_client()
    rsps.post(VALUES, status=201)
    rsps.post(VALUES, status=400, json={"error": "metric name too long"})
    with pytest.raises(MetricValuesPartlyLogged) as caught:
        client.custom_metrics.log_values([_value(i) for i in range(MAX_BATCH + 3)])
    assert (caught.value.logged, caught.value.total, caught.value.exit_code) == (MAX_BATCH, MAX_BATCH + 3, 2)
    assert f"after the first {MAX_BATCH}" in caught.value.hint and "metric name too long" in str(caught.value)


@pytest.mark.parametrize("bad, match", [
    (_value(value=float("nan")), "not a finite number"),
    (_value(value=float("inf")), "not a finite number"),
    (_value(value=True), "not a finite number"),
    (_value(reference_timestamp=datetime(2025, 3, 1)), "not a timezone-aware datetime"),
    (_value(model_monitoring_id=""), "model monitoring id is empty"),
    (_value(metric=" "), "metric name is empty"),
    (_value(tags=(("k", 1),)), "not a \\(key, value\\) pair of strings"),
])
def test_bad_values_send_nothing_at_all(rsps, bad, match):
    client, _ = make_client()
    with pytest.raises(ConfigError, match=match) as caught:
        client.custom_metrics.log_values([_value(1), bad])  # the good one is not sent either
    assert caught.value.exit_code == 2 and caught.value.hint
    assert len(rsps.calls) == 0


def test_a_400_with_the_documents_error_body_is_one_clear_error(rsps):
    client, _ = make_client()
    rsps.post(VALUES, status=400, json={"error": "newMetricValues[0].value: must be a number"})
    with pytest.raises(MetricsRefused) as caught:
        client.custom_metrics.log_values([_value()])
    error = caught.value
    assert error.exit_code == 2
    assert str(error) == ("Domino refused metric values (400 at POST /api/metricValues/v1): "
                          "newMetricValues[0].value: must be a number")
    assert "target range" in error.hint and "\n" not in str(error)


def test_a_403_names_the_monitored_model_and_not_the_key(rsps):
    client, _ = make_client()
    rsps.post(VALUES, status=403, json={"errors": ["forbidden"], "requestId": "r"})
    with pytest.raises(PermissionDenied) as caught:
        client.custom_metrics.log_values([_value()])
    assert f"monitored model {MM!r}" in str(caught.value) and API_KEY not in str(caught.value) + caught.value.hint


def test_a_404_says_the_monitoring_id_is_unknown(rsps):
    client, _ = make_client()
    rsps.post(ALERTS, status=404, json={"error": "model monitoring id not found"})
    alert = MetricAlert(MM, "accuracy", 0.2, TargetRange("greaterThan", lower_limit=0.8))
    with pytest.raises(NotFound) as caught:
        client.custom_metrics.send_alert(alert)
    assert f"no monitored model {MM!r}" in str(caught.value) and "not a Model API id" in caught.value.hint


def test_send_alert_sends_the_published_body(rsps):
    client, _ = make_client()
    rsps.post(ALERTS, status=200)
    client.custom_metrics.send_alert(MetricAlert(MM, "accuracy", 0.2, TargetRange("between", 0.8, 1.0), "drifted"))
    client.custom_metrics.send_alert(MetricAlert(MM, "accuracy", 0.2, TargetRange("greaterThanEqual", 0.8)))
    assert [json.loads(c.request.body) for c in rsps.calls] == [
        {"modelMonitoringId": MM, "metric": "accuracy", "value": 0.2, "description": "drifted",
         "targetRange": {"condition": "between", "lowerLimit": 0.8, "upperLimit": 1.0}},
        {"modelMonitoringId": MM, "metric": "accuracy", "value": 0.2,
         "targetRange": {"condition": "greaterThanEqual", "lowerLimit": 0.8}},
    ]
    assert nonconforming_requests(rsps) == []


@pytest.mark.parametrize("target, match", [
    (TargetRange("outside", 0, 1), "not one Domino knows"),
    (TargetRange("between", lower_limit=0.1), "needs an upper limit"),
    (TargetRange("lessThan", lower_limit=0.1), "needs an upper limit"),
    (TargetRange("greaterThan"), "needs a lower limit"),
    (TargetRange("between", 2, 1), "above its upper limit"),
    (TargetRange("lessThan", upper_limit=float("nan")), "not a finite number"),
])
def test_an_alert_whose_range_cannot_be_judged_is_refused_before_sending(rsps, target, match):
    client, _ = make_client()
    with pytest.raises(ConfigError, match=match):
        client.custom_metrics.send_alert(MetricAlert(MM, "accuracy", 0.2, target))
    assert len(rsps.calls) == 0


def test_read_values_asks_the_inclusive_range_and_parses_the_answer(rsps):
    client, _ = make_client()
    rsps.get(f"{VALUES}/{MM}/accuracy", json={"metadata": META, "metricValues": [
        {"value": 0.91, "referenceTimestamp": "2025-03-01T14:00:00+02:00", "tags": [{"key": "k", "value": "v"}]},
        {"value": 1, "referenceTimestamp": "2025-03-01T12:00:05Z", "tags": []},
    ]})
    got = client.custom_metrics.read_values(MM, "accuracy", start=AT, end=AT + timedelta(minutes=1))
    query = rsps.calls[0].request.url.split("?", 1)[1]
    assert query == ("startingReferenceTimestampInclusive=2025-03-01T12%3A00%3A00Z"
                     "&endingReferenceTimestampInclusive=2025-03-01T12%3A01%3A00Z")
    assert got == (MetricValue(MM, "accuracy", 0.91, AT, (("k", "v"),)),
                   MetricValue(MM, "accuracy", 1.0, AT + timedelta(seconds=5)))
    assert got[0].reference_timestamp.tzinfo == timezone.utc
    assert nonconforming_requests(rsps) == []


def test_read_values_quotes_the_path(rsps):
    client, _ = make_client()
    rsps.get(f"{VALUES}/a%2Fb/p99%20latency", json={"metadata": META, "metricValues": []})
    assert client.custom_metrics.read_values("a/b", "p99 latency", start=AT, end=AT) == ()


@pytest.mark.parametrize("body, problem", [
    ("<html>login</html>", "not JSON"),
    ({"metricValues": []}, "$.metadata is missing"),
    ({"metadata": META, "metricValues": {}}, "$.metricValues should be a list"),
    ({"metadata": META, "metricValues": [{"referenceTimestamp": "2025-03-01T12:00:00Z", "tags": []}]},
     "$.metricValues[0].value is missing"),
    ({"metadata": META, "metricValues": [{"value": "1", "referenceTimestamp": "2025-03-01T12:00:00Z"}]},
     "$.metricValues[0].value should be a number"),
    ({"metadata": META, "metricValues": [{"value": 1, "referenceTimestamp": "yesterday"}]},
     "not an RFC 3339 timestamp"),
    ({"metadata": META, "metricValues": [{"value": 1, "referenceTimestamp": "2025-03-01T12:00:00"}]},
     "has no time zone"),
    ({"metadata": META, "metricValues": [{"value": 1, "referenceTimestamp": "2025-03-01T12:00:00Z",
                                          "tags": [{"key": "k"}]}]}, "$.metricValues[0].tags[0].value is missing"),
])
def test_a_garbage_answer_is_a_bad_response_naming_the_field(rsps, body, problem):
    client, _ = make_client()
    if isinstance(body, str):
        rsps.get(f"{VALUES}/{MM}/accuracy", body=body, content_type="text/html")
    else:
        rsps.get(f"{VALUES}/{MM}/accuracy", json=body)
    with pytest.raises(BadResponse) as caught:
        client.custom_metrics.read_values(MM, "accuracy", start=AT, end=AT)
    assert problem in str(caught.value) and caught.value.exit_code == 1


def test_a_range_that_ends_before_it_starts_or_has_no_zone_asks_nothing(rsps):
    client, _ = make_client()
    with pytest.raises(ConfigError, match="starts .* after it ends"):
        client.custom_metrics.read_values(MM, "accuracy", start=AT, end=AT - timedelta(seconds=1))
    with pytest.raises(ConfigError, match="timezone-aware"):
        client.custom_metrics.read_values(MM, "accuracy", start=datetime(2025, 3, 1), end=AT)
    assert len(rsps.calls) == 0
