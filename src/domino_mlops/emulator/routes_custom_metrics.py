"""Custom metrics (public API, tag CustomMetrics): log values, read them by time range, send alerts.

Domino keeps custom metrics against a *monitored model* of its Model Monitor, named by
``modelMonitoringId``. No published route creates one (Model Monitor's own API does), so the
emulator keeps a registry of them: an admin adds one with ``POST /_emulator/monitoredModels``
(``{"projectId", "name"}`` -> ``{"id", ...}``) or ``Emulator.add_monitored_model``. Each belongs
to a project, and the caller must be able to see that project (docs/CONTRACT_DECISIONS.md):

- no credential: 401; a monitoring id the emulator does not know: 404 (the document's
  ``{"error"}``); one of a project the caller cannot see: 403; a Results Consumer (read-only
  role) may read values but neither log them nor send alerts (both change what Domino keeps);
- ``POST /api/metricValues/v1``: every value is checked first (an RFC 3339 timestamp with a
  zone, a finite number, a metric name), and the batch is kept whole or not at all; 201, no body;
- ``GET /api/metricValues/v1/{modelMonitoringId}/{metric}``: the values whose reference time is
  within [startingReferenceTimestampInclusive, endingReferenceTimestampInclusive], both ends
  included as the names say, oldest first; an unknown metric of a known model is an empty list;
- ``POST /api/metricAlerts/v1``: the target range must give the limit its condition compares with
  (the document: "lowerLimit, upperLimit, or both"); 200, no body. ``GET /_emulator/metricAlerts``
  (``?modelMonitoringId=`` to filter) shows what was sent.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timezone
from typing import Any

from domino_mlops.emulator import auth
from domino_mlops.emulator import records as r
from domino_mlops.emulator.auth import Principal
from domino_mlops.emulator.context import Context
from domino_mlops.emulator.web import EMULATOR_PREFIX, Request, Response, Router, bad_request
from domino_mlops.emulator.world import new_id

VALUES, ALERTS = "/api/metricValues/v1", "/api/metricAlerts/v1"
# RFC 3339 date-time, zone required (the document: "RFC3339 format with timezone"); Python's
# fromisoformat alone would also take a date, a week date or a time without a zone.
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
# Which limit each condition compares the value with (a guess: docs/CONTRACT_DECISIONS.md).
LIMITS = {"lessThan": ("upperLimit",), "lessThanEqual": ("upperLimit",), "greaterThan": ("lowerLimit",),
          "greaterThanEqual": ("lowerLimit",), "between": ("lowerLimit", "upperLimit")}


def register(router: Router) -> None:
    router.add("POST", VALUES, log_values)
    router.add("GET", VALUES + "/{modelMonitoringId}/{metric}", read_values)
    router.add("POST", ALERTS, send_alert)
    # What an admin does in Model Monitor, and what a test reads back (emulator-only).
    router.add("POST", EMULATOR_PREFIX + "/monitoredModels", add_monitored_model, auth=auth.NONE)
    router.add("GET", EMULATOR_PREFIX + "/monitoredModels", list_monitored_models, auth=auth.NONE)
    router.add("GET", EMULATOR_PREFIX + "/metricAlerts", list_alerts, auth=auth.NONE)


def log_values(ctx: Context, req: Request, who: Principal) -> Any:
    """``NewMetricValuesEnvelopeV1`` -> 201: all the values, or (400, 403, 404) none of them."""
    items = req.json_object()["newMetricValues"]
    for model_monitoring_id in dict.fromkeys(item["modelMonitoringId"] for item in items):
        _monitored(ctx, model_monitoring_id, who)
    problems, kept = [], []
    for i, item in enumerate(items):
        where = f"newMetricValues[{i}]"
        at = _time(item["referenceTimestamp"], f"{where}.referenceTimestamp", problems)
        _finite(item["value"], f"{where}.value", problems)
        if not item["metric"].strip():
            problems.append(f"{where}.metric must not be empty")
        if at is not None:
            kept.append(r.MetricValue(
                id=new_id(), model_monitoring_id=item["modelMonitoringId"], metric=item["metric"],
                value=float(item["value"]), reference_timestamp=_utc(at), at=at.timestamp(),
                tags=[{"key": t["key"], "value": t["value"]} for t in item.get("tags") or []], logged=ctx.now()))
    if problems:
        raise bad_request(problems[0], problems)
    for value in kept:
        ctx.world.metric_values[value.id] = value
    return Response.empty(201)


def read_values(ctx: Context, req: Request, who: Principal) -> Any:
    """-> ``MetricValuesEnvelopeV1``: the metric's values in the closed range, oldest first."""
    model = _monitored(ctx, req.params["modelMonitoringId"], who)
    problems: list[str] = []
    start = _time(req.query["startingReferenceTimestampInclusive"], "startingReferenceTimestampInclusive", problems)
    end = _time(req.query["endingReferenceTimestampInclusive"], "endingReferenceTimestampInclusive", problems)
    if start is not None and end is not None and start > end:
        problems.append("startingReferenceTimestampInclusive is after endingReferenceTimestampInclusive")
    if problems or start is None or end is None:
        raise bad_request(problems[0], problems)
    metric = req.params["metric"]
    found = sorted((v for v in ctx.world.metric_values.values()
                    if v.model_monitoring_id == model.id and v.metric == metric
                    and start.timestamp() <= v.at <= end.timestamp()), key=lambda v: (v.at, v.logged))
    return {"metadata": {"requestId": new_id(), "notices": []},
            "metricValues": [{"value": v.value, "referenceTimestamp": v.reference_timestamp, "tags": list(v.tags)}
                             for v in found]}


def send_alert(ctx: Context, req: Request, who: Principal) -> Any:
    """``MetricAlertRequestV1`` -> 200, no body; the alert is kept for ``GET /_emulator/metricAlerts``."""
    body = req.json_object()
    model = _monitored(ctx, body["modelMonitoringId"], who)
    target = body["targetRange"]
    problems: list[str] = []
    _finite(body["value"], "value", problems)
    for name in ("lowerLimit", "upperLimit"):
        if name in target:
            _finite(target[name], f"targetRange.{name}", problems)
    given = [name for name in ("lowerLimit", "upperLimit") if name in target]
    if not given:
        problems.append("targetRange: lowerLimit, upperLimit, or both must be provided")
    else:
        condition = target["condition"]
        missing = [name for name in LIMITS[condition] if name not in target]
        if missing:
            problems.append(f"targetRange: condition {condition} needs {' and '.join(missing)}")
        if len(given) == 2 and not problems and target["lowerLimit"] > target["upperLimit"]:
            problems.append("targetRange: lowerLimit is above upperLimit")
    if not body["metric"].strip():
        problems.append("metric must not be empty")
    if problems:
        raise bad_request(problems[0], problems)
    alert = r.MetricAlert(id=new_id(), model_monitoring_id=model.id, metric=body["metric"], value=float(body["value"]),
                          target_range=dict(target), description=body.get("description", ""), sent=ctx.now(),
                          sent_by=who.username)
    ctx.world.metric_alerts[alert.id] = alert
    return Response.empty(200)


def add_monitored_model(ctx: Context, req: Request, who: None) -> Any:
    """``{"projectId", "name", "id"?}`` -> 201 the monitored model (Model Monitor's registration)."""
    body = req.json_object()
    project = ctx.world.project(str(body.get("projectId", "")))
    name, wanted = body.get("name"), body.get("id")
    if not isinstance(name, str) or not name.strip():
        raise bad_request("body.name must be a non-empty string")
    if wanted is not None and (not isinstance(wanted, str) or not wanted.strip() or "/" in wanted):
        raise bad_request("body.id, when given, must be a non-empty string without '/'")
    if wanted in ctx.world.monitored_models:
        raise bad_request(f"monitored model {wanted!r} exists already")
    model = r.MonitoredModel(id=wanted or new_id(), project_id=project.id, name=name, created=ctx.now())
    ctx.world.monitored_models[model.id] = model  # a write: the server saves the state file
    return Response(201, _model_view(model))


def list_monitored_models(ctx: Context, req: Request, who: None) -> Any:
    return {"monitoredModels": [_model_view(m) for m in ctx.world.monitored_models.values()]}


def list_alerts(ctx: Context, req: Request, who: None) -> Any:
    wanted = req.query.get("modelMonitoringId")
    alerts = sorted((a for a in ctx.world.metric_alerts.values() if wanted in (None, a.model_monitoring_id)),
                    key=lambda a: a.sent)
    return {"metricAlerts": [{"modelMonitoringId": a.model_monitoring_id, "metric": a.metric, "value": a.value,
                              "targetRange": a.target_range, "description": a.description, "sent": a.sent,
                              "sentBy": a.sent_by} for a in alerts]}


def _monitored(ctx: Context, model_monitoring_id: str, who: Principal) -> r.MonitoredModel:
    model = ctx.world.monitored_model(model_monitoring_id)
    who.require(model.project_id)
    return model


def _model_view(model: r.MonitoredModel) -> dict[str, Any]:
    return {"id": model.id, "projectId": model.project_id, "name": model.name}


def _time(text: str, where: str, problems: list[str]) -> datetime | None:
    """An RFC 3339 timestamp with its zone, or None with the problem noted."""
    if _RFC3339.match(text):
        try:
            return datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
        except ValueError:
            pass  # the right shape, an impossible date (month 13)
    problems.append(f"{where} is not an RFC 3339 timestamp with a time zone: {text[:40]!r}")
    return None


def _finite(value: Any, where: str, problems: list[str]) -> None:
    # JSON has no NaN or infinity, but Python's parser takes them: refuse what Domino could not store.
    if not math.isfinite(value):
        problems.append(f"{where} must be a finite number")


def _utc(when: datetime) -> str:
    return when.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
