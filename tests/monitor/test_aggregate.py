"""The agent's pure parts: intervals (late records never reopen a flushed one), statistics,
drift against a reference, alert ranges as Domino reads them, MLflow's input example forms."""

from __future__ import annotations

import pytest

from domino_mlops.desired.targets import AlertRange
from domino_mlops.monitor.aggregate import (
    drift_of,
    interval_of,
    metrics_of,
    out_of_range,
    reference_stats,
    rows_of_example,
)
from domino_mlops.monitor.records import Record, UnreadableRecord, parse_record


def record(i: int, latency: float, status: int = 200, inputs=()) -> Record:
    return Record(f"id{i}", i, 1000.0 + i, "m", "1", latency, 1, status, inputs)


def test_a_record_late_for_a_flushed_interval_goes_into_the_next() -> None:
    assert interval_of(125.0, 60) == 120.0
    assert interval_of(125.0, 60, after=60.0) == 120.0
    assert interval_of(125.0, 60, after=120.0) == 180.0  # 120 already has its value in Domino


def test_count_error_rate_and_latency_percentiles() -> None:
    records = [record(i, float(i + 1), 500 if i < 2 else 200) for i in range(20)]
    values = dict(metrics_of(records))
    assert values == {"request_count": 20.0, "error_rate": 0.1, "latency_p50_ms": 10.0, "latency_p95_ms": 19.0}


def test_drift_is_the_mean_shift_in_reference_spreads() -> None:
    reference = reference_stats([{"age": 40, "sex": 1}, {"age": 60, "sex": 1}, {"name": "x"}])
    assert reference == {"age": (50.0, 10.0), "sex": (1.0, 0.0)}
    seen = [record(0, 1, inputs=((("age", 70), ("sex", 2)),))]
    assert dict(drift_of(seen, reference)) == {"drift_age": 2.0, "drift_sex": 1.0}


@pytest.mark.parametrize("condition, lower, upper, value, out", [
    ("lessThan", None, 500, 499, False), ("lessThan", None, 500, 500, True),
    ("lessThanEqual", None, 500, 500, False), ("greaterThan", 1, None, 1, True),
    ("greaterThanEqual", 1, None, 1, False), ("between", 1, 2, 2.5, True), ("between", 1, 2, 1, False),
])
def test_out_of_range_reads_the_condition_as_where_the_value_belongs(condition, lower, upper, value, out) -> None:
    assert out_of_range(value, AlertRange(condition, lower, upper)) is out


@pytest.mark.parametrize("payload", [
    {"columns": ["a", "b"], "data": [[1, 2]]}, {"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2]]}},
    [{"a": 1, "b": 2}], {"a": [1], "b": [2]}, {"a": 1, "b": 2}, {"inputs": {"a": 1, "b": 2}},
])
def test_every_input_example_form_gives_rows(payload) -> None:
    assert rows_of_example(payload) == [{"a": 1, "b": 2}]


def test_a_message_that_is_not_a_record_is_unreadable() -> None:
    with pytest.raises(UnreadableRecord):
        parse_record({"id": "x", "ts": "never"})
