"""Pure: records -> one set of metric values per interval and model version; alert ranges.

Metrics per interval: request_count, error_rate (share of 4xx/5xx answers), latency_p50_ms and
latency_p95_ms (nearest rank), and with captured inputs drift_<feature> per numeric feature: how
far the interval's mean moved from the reference's, in the reference's standard deviations (its
absolute mean when it has no spread, e.g. a one-row input example; 1 when that is 0 too). A
simple figure on purpose: it needs no binning choice and reads the same for every feature.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domino_mlops.desired.targets import AlertRange
from domino_mlops.monitor.records import Record


@dataclass(frozen=True, slots=True)
class IntervalMetrics:
    model: str
    version: str
    start: float  # the interval's start, seconds since the epoch (the values' referenceTimestamp)
    values: tuple[tuple[str, float], ...]
    record_ids: tuple[str, ...]


def interval_of(ts: float, interval: int, after: float | None = None) -> float:
    """The start of the interval holding ``ts``; a record late for an interval already flushed
    (``after``) goes into the next one, so no interval gets a second value."""
    start = math.floor(ts / interval) * interval
    return start if after is None or start > after else after + interval


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def metrics_of(records: Sequence[Record], reference: Mapping[str, tuple[float, float]] | None = None
               ) -> tuple[tuple[str, float], ...]:
    """The metric values of one interval's records (at least one)."""
    latencies = [r.latency_ms for r in records]
    values = [("request_count", float(len(records))),
              ("error_rate", sum(r.failed for r in records) / len(records)),
              ("latency_p50_ms", percentile(latencies, 0.50)),
              ("latency_p95_ms", percentile(latencies, 0.95))]
    if reference:
        values += drift_of(records, reference)
    return tuple(values)


def drift_of(records: Iterable[Record], reference: Mapping[str, tuple[float, float]]) -> list[tuple[str, float]]:
    columns: dict[str, list[float]] = {}
    for record in records:
        for row in record.inputs:
            for name, value in row:
                if _number(value):
                    columns.setdefault(name, []).append(float(value))
    drift = []
    for name, (mean, spread) in sorted(reference.items()):
        seen = columns.get(name)
        if seen:
            scale = spread or abs(mean) or 1.0
            drift.append((metric_name(f"drift_{name}"), abs(sum(seen) / len(seen) - mean) / scale))
    return drift


def reference_stats(rows: Sequence[Mapping[str, Any]]) -> dict[str, tuple[float, float]]:
    """Per numeric column of the reference rows: (mean, population standard deviation)."""
    columns: dict[str, list[float]] = {}
    for row in rows:
        for name, value in row.items():
            if _number(value):
                columns.setdefault(name, []).append(float(value))
    stats = {}
    for name, seen in columns.items():
        mean = sum(seen) / len(seen)
        stats[name] = (mean, math.sqrt(sum((v - mean) ** 2 for v in seen) / len(seen)))
    return stats


def rows_of_example(payload: Any) -> list[dict[str, Any]]:
    """Rows from MLflow's input example forms (split {columns, data}, records, columns, one row, or
    the serving example's dataframe_split / dataframe_records / inputs wrapper)."""
    if isinstance(payload, dict):
        for wrapper in ("dataframe_split", "dataframe_records", "inputs", "data"):
            if wrapper in payload and len(payload) == 1:
                return rows_of_example(payload[wrapper])
        if isinstance(payload.get("columns"), list) and isinstance(payload.get("data"), list):
            return [dict(zip(payload["columns"], row)) for row in payload["data"] if isinstance(row, list)]
        if payload and all(isinstance(v, list) for v in payload.values()):
            return [dict(zip(payload, row)) for row in zip(*payload.values())]
        return [payload] if payload else []
    if isinstance(payload, list):
        return [row for row in payload if isinstance(row, dict)]
    return []


def out_of_range(value: float, target: AlertRange) -> bool:
    """True when ``value`` is not where ``target`` says it belongs (Domino's TargetRange reading)."""
    low, high = target.lower_limit, target.upper_limit
    inside = {"lessThan": lambda: value < high, "lessThanEqual": lambda: value <= high,
              "greaterThan": lambda: value > low, "greaterThanEqual": lambda: value >= low,
              "between": lambda: low <= value <= high}[target.condition]()
    return not inside


def metric_name(text: str) -> str:
    """A feature's name as part of a metric name: letters, digits, '_', '.', '-'."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
