"""Domino custom metrics (public API, tag CustomMetrics): log values, read them back, send alerts.

A model served outside Domino (an exported image) is still monitored in Domino: Model Monitor
keeps a *monitored model* with its own id (``modelMonitoringId``, not a Model API id), and these
three routes log a metric's values against it, read them back by time range and send an alert
when a value leaves its target range. Reached as ``DominoClient.custom_metrics``.

Everything is checked before the first request (finite values, timezone-aware timestamps, a
target range that gives its condition's limit), so bad input sends nothing. Domino keeps every
value it is sent, so a log is never retried blindly (http.py retries no POST): a batch split into
parts that fails after its first part says how many went in (MetricValuesPartlyLogged).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from domino_mlops.clients.domino import urls as urls
from domino_mlops.clients.http import HttpClient
from domino_mlops.clients.json_fields import Fields, bad
from domino_mlops.errors import (
    ConfigError,
    DominoMlopsError,
    MetricsRefused,
    MetricValuesPartlyLogged,
    NotFound,
    PermissionDenied,
    RemoteError,
)

# TargetRangeV1.condition in the public document, in its order.
CONDITIONS = ("lessThan", "lessThanEqual", "greaterThan", "greaterThanEqual", "between")
# The document sets no batch size; a few hundred values keep one body far below any proxy's
# limit (a guess: docs/CONTRACT_DECISIONS.md, custom metrics).
MAX_BATCH = 500


@dataclass(frozen=True, slots=True)
class MetricValue:
    """One value of one metric of a monitored model, at the time it describes."""

    model_monitoring_id: str
    metric: str
    value: float
    reference_timestamp: datetime  # timezone-aware UTC
    tags: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class TargetRange:
    """Where a metric's value belongs: ``condition`` is one of CONDITIONS."""

    condition: str
    lower_limit: float | None = None
    upper_limit: float | None = None


@dataclass(frozen=True, slots=True)
class MetricAlert:
    """A value out of its target range, for Domino to notify the monitored model's subscribers."""

    model_monitoring_id: str
    metric: str
    value: float
    target_range: TargetRange
    description: str = ""


class CustomMetrics:
    """Custom metrics of monitored models. Reached as ``DominoClient.custom_metrics``.

    .. code-block:: python
        :caption: Example, against the emulator (``Emulator.add_monitored_model`` made the id)

        from datetime import datetime, timezone
        from domino_mlops.clients.domino.custom_metrics import MetricValue

        at = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
        client.custom_metrics.log_values([MetricValue(monitoring_id, "accuracy", 0.93, at)])
        print(client.custom_metrics.read_values(monitoring_id, "accuracy", start=at, end=at)[0].value)

    .. code-block:: text
        :caption: Output

        0.93
    """

    def __init__(self, http: HttpClient) -> None:
        self._http = http

    def log_values(self, values: Sequence[MetricValue]) -> None:
        """Log ``values`` with one POST (parts of MAX_BATCH when there are more); nothing for none."""
        for item in values:
            _check_value(item)
        for start in range(0, len(values), MAX_BATCH):
            part = values[start:start + MAX_BATCH]
            body = {"newMetricValues": [_value_body(item) for item in part]}
            try:
                self._send(urls.metric_values(), body, "metric values", _ids(part))
            except DominoMlopsError as exc:
                if start == 0:
                    raise
                raise MetricValuesPartlyLogged(start, len(values), exc) from exc

    def read_values(self, model_monitoring_id: str, metric: str, *, start: datetime,
                    end: datetime) -> tuple[MetricValue, ...]:
        """The values of ``metric`` whose reference time is in [start, end], both ends included."""
        _check_id(model_monitoring_id, metric)
        for name, when in (("start", start), ("end", end)):
            _check_time(when, f"the {name} of the time range")
        if start > end:
            raise ConfigError(f"the time range starts ({_rfc3339(start)}) after it ends ({_rfc3339(end)})",
                              hint="Pass start <= end; both ends are included.")
        path = urls.metric_values_of(model_monitoring_id, metric, start=_rfc3339(start), end=_rfc3339(end))
        try:
            reply = self._http.call("GET", path)
        except DominoMlopsError as exc:
            raise _explained(exc, f"the values of metric {metric!r}", (model_monitoring_id,)) from exc
        fields = Fields(reply.body, reply.endpoint)
        fields.req_obj("metadata")  # required by MetricValuesEnvelopeV1: an answer without it is not one
        return fields.parse_items("metricValues", lambda item, endpoint, path: _parse_value(
            item, endpoint, path, model_monitoring_id, metric), required=True)

    def send_alert(self, alert: MetricAlert) -> None:
        """Ask Domino to send a metric-out-of-range alert to the monitored model's subscribers."""
        _check_id(alert.model_monitoring_id, alert.metric)
        _check_number(alert.value, f"the value of the alert on {alert.metric!r}")
        _check_target_range(alert.target_range)
        self._send(urls.metric_alerts(), _alert_body(alert), f"the alert on metric {alert.metric!r}",
                   (alert.model_monitoring_id,))

    def _send(self, path: str, body: dict[str, Any], what: str, ids: tuple[str, ...]) -> None:
        try:
            self._http.call("POST", path, json=body, expect="none")
        except DominoMlopsError as exc:
            raise _explained(exc, what, ids) from exc


def _value_body(item: MetricValue) -> dict[str, Any]:
    """``NewMetricValueV1``; ``tags`` only when there are some (the document makes them optional)."""
    body: dict[str, Any] = {"modelMonitoringId": item.model_monitoring_id, "metric": item.metric,
                            "value": item.value, "referenceTimestamp": _rfc3339(item.reference_timestamp)}
    if item.tags:
        body["tags"] = [{"key": key, "value": value} for key, value in item.tags]
    return body


def _alert_body(alert: MetricAlert) -> dict[str, Any]:
    """``MetricAlertRequestV1``; optional keys (limits, ``description``) only when given."""
    target = alert.target_range
    limits = {"lowerLimit": target.lower_limit, "upperLimit": target.upper_limit}
    body: dict[str, Any] = {"modelMonitoringId": alert.model_monitoring_id, "metric": alert.metric,
                            "value": alert.value, "targetRange": {
                                "condition": target.condition, **{k: v for k, v in limits.items() if v is not None}}}
    if alert.description:
        body["description"] = alert.description
    return body


def _rfc3339(when: datetime) -> str:
    """``2025-03-01T12:00:00Z``: UTC, as the document's RFC 3339 timestamps (with a zone) ask."""
    return when.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _check_value(item: MetricValue) -> None:
    """ConfigError (exit 2) for a value Domino would refuse, or JSON cannot carry (NaN, infinity)."""
    _check_id(item.model_monitoring_id, item.metric)
    _check_number(item.value, f"the value of {item.metric!r}")
    _check_time(item.reference_timestamp, f"the reference timestamp of {item.metric!r}")
    for tag in item.tags:
        if len(tag) != 2 or not all(isinstance(part, str) for part in tag):
            raise ConfigError(f"a tag of {item.metric!r} is {tag!r}, not a (key, value) pair of strings",
                              hint="Pass tags as ((key, value), ...) with string keys and values.")


def _check_target_range(target: TargetRange) -> None:
    """The condition is the document's; the limits are those it compares with (between: both, lower <= upper)."""
    if target.condition not in CONDITIONS:
        raise ConfigError(f"the alert condition {target.condition!r} is not one Domino knows",
                          hint=f"Use one of {', '.join(CONDITIONS)}.")
    for name, limit in (("lower", target.lower_limit), ("upper", target.upper_limit)):
        if limit is not None:
            _check_number(limit, f"the {name} limit")
    need = {"lessThan": ("upper",), "lessThanEqual": ("upper",), "greaterThan": ("lower",),
            "greaterThanEqual": ("lower",), "between": ("lower", "upper")}[target.condition]
    given = {"lower": target.lower_limit, "upper": target.upper_limit}
    missing = [name for name in need if given[name] is None]
    if missing:
        named = " and ".join({"lower": "a lower", "upper": "an upper"}[name] for name in missing)
        raise ConfigError(f"the alert condition {target.condition!r} needs {named} limit",
                          hint="lessThan(Equal) compares with upper_limit, greaterThan(Equal) with lower_limit, "
                               "between with both.")
    if target.lower_limit is not None and target.upper_limit is not None and target.lower_limit > target.upper_limit:
        raise ConfigError(f"the target range's lower limit {target.lower_limit} is above its upper limit "
                          f"{target.upper_limit}", hint="Swap the limits.")


def _check_id(model_monitoring_id: str, metric: str) -> None:
    for what, text in (("model monitoring id", model_monitoring_id), ("metric name", metric)):
        if not isinstance(text, str) or not text.strip():
            raise ConfigError(f"the {what} is empty", hint="Use the id Domino's Model Monitor shows for the "
                              "monitored model (not a Model API id) and a metric name.")


def _check_number(value: object, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{what} is {value!r}, not a finite number",
                          hint="Domino stores numbers only; JSON cannot carry NaN or infinity.")


def _check_time(when: object, what: str) -> None:
    if not isinstance(when, datetime) or when.tzinfo is None or when.utcoffset() is None:
        raise ConfigError(f"{what} is {when!r}, not a timezone-aware datetime",
                          hint="Use datetime.now(timezone.utc) or attach a tzinfo: Domino needs the zone.")


def _ids(values: Sequence[MetricValue]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(item.model_monitoring_id for item in values))


def _explained(exc: DominoMlopsError, what: str, ids: tuple[str, ...]) -> DominoMlopsError:
    """Domino's generic answers, said in this API's terms: which monitored model, and what to do."""
    named = ", ".join(repr(i) for i in ids)
    if isinstance(exc, RemoteError) and exc.status == 400:
        return MetricsRefused(what, exc.endpoint, exc.detail)
    if isinstance(exc, NotFound):
        return NotFound(f"Domino has no monitored model {named} for {what} (404)",
                        hint="Use the model monitoring id from Domino's Model Monitor (the monitored model's "
                             "page), not a Model API id; register the model there first.")
    if isinstance(exc, PermissionDenied):
        return PermissionDenied(exc.service, exc.credential, endpoint=exc.endpoint,
                                target=f"monitored model {named}")
    return exc


def _parse_value(payload: object, endpoint: str, path: str, model_monitoring_id: str,
                 metric: str) -> MetricValue:
    """``MetricValueV1``: the answer names neither model nor metric; the request did."""
    fields = Fields(payload, endpoint, path)
    value = fields.opt_number("value")
    if value is None:
        raise bad(endpoint, f"{path}.value is missing")
    stamp = fields.req_str("referenceTimestamp")
    try:
        when = datetime.fromisoformat(stamp)
    except ValueError:
        raise bad(endpoint, f"{path}.referenceTimestamp is not an RFC 3339 timestamp: {stamp[:40]!r}") from None
    if when.tzinfo is None:
        raise bad(endpoint, f"{path}.referenceTimestamp has no time zone: {stamp[:40]!r}")
    tags = tuple((Fields(tag, endpoint, f"{path}.tags[{i}]").req_str("key"),
                  Fields(tag, endpoint, f"{path}.tags[{i}]").req_str("value"))
                 for i, tag in enumerate(fields.opt_list("tags")))
    return MetricValue(model_monitoring_id, metric, value, when.astimezone(timezone.utc), tags)
