"""Judge a wave by what its new Model API versions serve: Domino's own request and resource
metrics (``GET /v4/modelManager/{modelId}/{modelVersionId}/httpRequests`` and ``.../usage``),
read ``count`` times, ``interval_seconds`` apart, over the last ``window_minutes`` (environments
file: ``domino.analysis``). apply/model_run.py calls it after each wave; a breach is an
``AnalysisFailed``, which puts the run's data planes back like a failed smoke test.

A measurement with fewer requests than ``min_requests`` in its window is inconclusive: it can
neither pass nor breach the request conditions (the resource conditions are judged anyway, a
pod's memory needs no callers). What an inconclusive measurement does is the environment's
``inconclusive`` policy: ``fail`` (put back), ``pass`` (go on, with a warning), ``extend`` (measure
again, up to ``max_extensions`` more, then fail).

Time passes through an injected ``sleep`` (DeployRequest.sleep, as the bake's), so tests move a
clock instead of waiting on it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domino_mlops.clients.domino.serving_types import RequestCount
from domino_mlops.desired.environments import Analysis, Traffic
from domino_mlops.errors import AnalysisFailed, AnalysisInconclusive, DominoMlopsError

# Metric names, in the summary's column order.
METRICS = ("error_rate", "error_rate_increase", "memory", "cpu")
_CONDITION = {"max_error_rate": "error_rate", "max_error_rate_increase": "error_rate_increase",
              "max_memory_fraction": "memory", "max_cpu": "cpu"}


@dataclass(frozen=True, slots=True)
class Target:
    """One new Model API version of a wave, and the version it replaced (the baseline)."""

    model_api_name: str
    model_api_id: str
    version_id: str
    previous_version_id: str | None = None


@dataclass(frozen=True, slots=True)
class Measurement:
    """What one reading of a version's metrics found (None: not measured, or no data)."""

    requests: int
    errors: int
    error_rate: float | None
    error_rate_increase: float | None
    memory: float | None
    cpu: float | None
    inconclusive: bool

    def value(self, metric: str) -> float | None:
        return getattr(self, metric)

    def summary(self) -> dict[str, Any]:
        """Short, for the MLflow tag and the ledger (a tag value is limited in size)."""
        values = {m: round(v, 4) for m in METRICS if (v := self.value(m)) is not None}
        return {"requests": self.requests, "errors": self.errors, **values,
                **({"inconclusive": True} if self.inconclusive else {})}


@dataclass(frozen=True, slots=True)
class Verdict:
    """A version's analysis: its measurements (the last decides what is shown) and any warning."""

    target: Target
    measurements: tuple[Measurement, ...]
    warning: str = ""

    @property
    def last(self) -> Measurement:
        return self.measurements[-1]


def _is_error(status: int, analysis: Analysis) -> bool:
    return status >= 500 or (analysis.count_4xx and 400 <= status < 500)


def _rate(counts: tuple[RequestCount, ...], analysis: Analysis) -> tuple[int, int, float | None]:
    requests = sum(c.count for c in counts)
    errors = sum(c.count for c in counts if _is_error(c.status, analysis))
    return requests, errors, (errors / requests if requests else None)


def measure(domino: Any, target: Target, analysis: Analysis) -> Measurement:
    """One reading: the version's requests over the window (and its predecessor's, when a rise is
    a condition), and its pods' highest cpu and memory."""
    requests, errors, rate = _rate(domino.deployments.http_requests(
        target.model_api_id, target.version_id, minutes=analysis.window_minutes), analysis)
    increase = None
    if analysis.max_error_rate_increase is not None and rate is not None:
        baseline = 0.0  # a brand-new data plane has no predecessor: any error is a rise
        if target.previous_version_id:
            _, _, before = _rate(domino.deployments.http_requests(
                target.model_api_id, target.previous_version_id, minutes=analysis.window_minutes), analysis)
            baseline = before or 0.0
        increase = max(0.0, rate - baseline)
    memory = cpu = None
    if analysis.max_memory_fraction is not None or analysis.max_cpu is not None:
        used = domino.deployments.usage(target.model_api_id, target.version_id)
        if used:
            # The window's snapshots only: usage has no time range, so count back from the newest.
            newest = max(u.timestamp for u in used)
            recent = [u for u in used if _minutes_between(u.timestamp, newest) < analysis.window_minutes] or list(used)
            memory, cpu = max(u.memory for u in recent), max(u.cpu for u in recent)
    inconclusive = requests < analysis.min_requests
    return Measurement(requests, errors, None if inconclusive else rate, None if inconclusive else increase,
                       memory, cpu, inconclusive)


def _minutes_between(earlier: str, later: str) -> float:
    """ISO times as Domino writes them ("2026-01-02T03:04:05.000Z"); unreadable ones count as recent."""
    try:
        a, b = (datetime.fromisoformat(t.replace("Z", "+00:00")) for t in (earlier, later))
    except ValueError:
        return 0.0
    return (b - a).total_seconds() / 60.0


def breach(model: str, target: Target, m: Measurement, analysis: Analysis) -> AnalysisFailed | None:
    """The first condition the measurement breaks, as the error that says so."""
    for condition, threshold in analysis.conditions():
        value = m.value(_CONDITION[condition])
        if value is not None and value > threshold:
            return AnalysisFailed(model, target.model_api_name, target.version_id, condition, value, threshold,
                                  requests=m.requests)
    return None


def analyse(model: str, target: Target, analysis: Analysis, domino: Any, sleep: Callable[[float], None],
            say: Callable[[str], None]) -> Verdict:
    """Measure ``target`` ``count`` times (more under ``extend``); raise AnalysisFailed on a
    breach, AnalysisInconclusive when the policy says so; the verdict otherwise."""
    taken: list[Measurement] = []
    conclusive, extensions, warning = 0, 0, ""
    while conclusive < analysis.count:
        if analysis.interval_seconds:  # 0: at once (the injected clock is not asked to wait nothing)
            sleep(analysis.interval_seconds)
        m = measure(domino, target, analysis)
        taken.append(m)
        found = breach(model, target, m, analysis)
        if found is not None:
            found.measurements = tuple(taken)
            raise found
        say(f"{target.model_api_name}: analysis {len(taken)}: {_line(m)}")
        if not m.inconclusive or analysis.inconclusive == "pass":
            if m.inconclusive:
                warning = (f"{target.model_api_name}: {m.requests} request(s) in {analysis.window_minutes} min, "
                           f"below min_requests {analysis.min_requests}; counted as passed (inconclusive: pass)")
            conclusive += 1
            continue
        if analysis.inconclusive == "extend" and extensions < analysis.max_extensions:
            extensions += 1
            continue
        error = AnalysisInconclusive(model, target.model_api_name, target.version_id, m.requests,
                                     analysis.min_requests, analysis.window_minutes, analysis.inconclusive,
                                     extensions)
        error.measurements = tuple(taken)
        raise error
    return Verdict(target, tuple(taken), warning)


def _line(m: Measurement) -> str:
    parts = [f"{m.requests} request(s), {m.errors} error(s)"]
    parts += [f"{name} {value:.4g}" for name in METRICS if (value := m.value(name)) is not None]
    return ", ".join(parts) + (" (inconclusive)" if m.inconclusive else "")


def send_traffic(call: Callable[[Mapping[str, Any]], object], data: Mapping[str, Any], traffic: Traffic,
                 sleep: Callable[[float], None]) -> tuple[int, DominoMlopsError | None]:
    """Synthetic calls at ``rate_per_second`` for ``duration`` (at most MAX_TRAFFIC_CALLS); the
    first failed call stops them (a load test is not what a broken version needs). Returns the
    calls answered and the failure that stopped them, if one did."""
    pause = 1.0 / traffic.rate_per_second
    for sent in range(traffic.calls):
        if sent:
            sleep(pause)
        try:
            call(data)
        except DominoMlopsError as exc:
            return sent, exc
    return traffic.calls, None
