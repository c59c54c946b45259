"""The monitor agent: read the spool, aggregate per interval, log Domino custom metrics, alert, ack.

Order of one interval of one model version (why each interval reaches Domino once, and no
acknowledged record is lost):
  1. state: "posting interval I with these record ids" (not posted yet);
  2. alerts for values out of range (at least once: a crash here sends them again, never never);
  3. POST the values (referenceTimestamp = I; http.py never retries a POST blindly);
  4. state: I flushed, its ids counted; 5. ack the records in the spool. The ids stay counted
     until the version's next interval is posted, so a redelivered record is not counted twice.
A restart after 3 but before 4 finds the posting, asks Domino whether request_count has a value
at I for that version, and if so takes it as posted instead of posting twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from domino_mlops.clients.domino.custom_metrics import CustomMetrics, MetricAlert, MetricValue, TargetRange
from domino_mlops.desired.targets import AlertRange
from domino_mlops.monitor.aggregate import IntervalMetrics, interval_of, metrics_of, out_of_range
from domino_mlops.monitor.records import Record, UnreadableRecord, parse_record
from domino_mlops.monitor.state import AgentState, Posting

log = logging.getLogger(__name__)


class Spool(Protocol):
    def read(self, limit: int = ...) -> list[tuple[Any, dict[str, Any]]]: ...
    def ack(self, receipts: Sequence[Any]) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class AgentSettings:
    model_monitoring_id: str
    state_path: Path
    interval: int = 60
    alerts: tuple[tuple[str, AlertRange], ...] = ()
    reference: Mapping[str, tuple[float, float]] | None = None  # feature -> (mean, std), for drift
    max_records: int = 100_000  # read per pass: bounds the agent's memory


@dataclass(frozen=True, slots=True)
class PassResult:
    read: int
    flushed: tuple[IntervalMetrics, ...]
    alerts: tuple[MetricAlert, ...]
    recounted: int  # records already counted before a restart, acknowledged without counting again
    unreadable: int
    held: int  # records of intervals still open, kept unacknowledged


class Agent:
    def __init__(self, settings: AgentSettings, spool: Spool, metrics: CustomMetrics) -> None:
        self.settings, self._spool, self._metrics = settings, spool, metrics
        self.state = AgentState.load(settings.state_path)
        # Read but not acknowledged, by record id: a RabbitMQ channel hands a message out once
        # per connection, a SQLite spool again on every read; keyed by id, both come out the same.
        self._held: dict[str, tuple[Any, Record]] = {}

    def run_once(self, now: float, *, flush_open: bool = False) -> PassResult:
        """Read what the spool has, flush every interval that has ended by ``now`` (every one with
        ``flush_open``), acknowledge what was flushed; the rest stays in the spool."""
        fresh, unreadable, recounted = self._read()
        recounted += self._settle_postings()
        groups: dict[tuple[str, str, float], list[Record]] = {}
        for _receipt, record in self._held.values():
            after = self.state.flushed.get(_key(record.key))
            groups.setdefault((*record.key, interval_of(record.ts, self.settings.interval, after)), []).append(record)
        flushed, alerts = [], []
        for (model, version, start), records in sorted(groups.items(), key=lambda g: (g[0][2], g[0][:2])):
            if flush_open or start + self.settings.interval <= now:
                metrics = IntervalMetrics(model, version, start, metrics_of(records, self.settings.reference),
                                          tuple(r.id for r in records))
                alerts += self._flush(metrics)
                flushed.append(metrics)
        return PassResult(fresh, tuple(flushed), tuple(alerts), recounted, unreadable, len(self._held))

    def run(self, stop: threading.Event, clock: Callable[[], float], poll_seconds: float) -> None:
        """Pass after pass until ``stop`` is set; then one last pass that flushes open intervals."""
        while not stop.is_set():
            self.run_once(clock())
            stop.wait(poll_seconds)
        self.run_once(clock(), flush_open=True)

    def _read(self) -> tuple[int, int, int]:
        counted = self.state.counted_ids()
        fresh = unreadable = recounted = 0
        done = []
        for receipt, raw in self._spool.read(self.settings.max_records):
            try:
                record = parse_record(raw)
            except UnreadableRecord as exc:
                log.warning("spool record skipped: %s", exc)
                unreadable += 1
                done.append(receipt)
                continue
            if record.id in counted:
                recounted += 1
                done.append(receipt)
            elif record.id not in self._held:
                fresh += 1
                self._held[record.id] = (receipt, record)
            else:
                self._held[record.id] = (receipt, record)
        if done:
            self._spool.ack(done)
        return fresh, unreadable, recounted

    def _settle_postings(self) -> int:
        """After a restart: a posting not known to be posted is checked against Domino; when its
        values are there, its records are acknowledged without counting. Returns how many."""
        dropped = 0
        for key, posting in list(self.state.postings.items()):
            if not posting.posted:
                model, version = key.split("@", 1)
                if self._in_domino(model, version, posting.interval):
                    posting.posted = True
                    self.state.flushed[key] = posting.interval
                    self.state.save()
                    dropped += self._drop_counted()
                else:
                    del self.state.postings[key]
                    self.state.save()
            # A posted one stays until the next interval of its version replaces it: a broker
            # hands back a dead reader's messages only once it notices the reader is gone.
        return dropped

    def _drop_counted(self) -> int:
        counted = self.state.counted_ids()
        receipts = [receipt for rid, (receipt, _r) in self._held.items() if rid in counted]
        if receipts:
            self._spool.ack(receipts)
        for rid in counted:
            self._held.pop(rid, None)
        return len(receipts)

    def _flush(self, metrics: IntervalMetrics) -> list[MetricAlert]:
        key = _key((metrics.model, metrics.version))
        self.state.postings[key] = Posting(metrics.start, list(metrics.record_ids))
        self.state.save()
        alerts = self._alerts(metrics)
        for alert in alerts:
            self._metrics.send_alert(alert)
        at = datetime.fromtimestamp(metrics.start, timezone.utc)
        tags = (("model", metrics.model), ("version", metrics.version))
        self._metrics.log_values([MetricValue(self.settings.model_monitoring_id, name, value, at, tags)
                                  for name, value in metrics.values])
        self.state.postings[key].posted = True
        self.state.flushed[key] = metrics.start
        self.state.save()
        self._spool.ack([self._held[rid][0] for rid in metrics.record_ids])
        for rid in metrics.record_ids:
            del self._held[rid]
        return alerts

    def _alerts(self, metrics: IntervalMetrics) -> list[MetricAlert]:
        ranges = dict(self.settings.alerts)
        found = []
        for name, value in metrics.values:
            target = ranges.get(name)
            if target is not None and out_of_range(value, target):
                when = datetime.fromtimestamp(metrics.start, timezone.utc).isoformat()
                found.append(MetricAlert(
                    self.settings.model_monitoring_id, name, value,
                    TargetRange(target.condition, target.lower_limit, target.upper_limit),
                    f"{metrics.model} version {metrics.version}: {name} {value:g} in the interval from {when}"))
        return found

    def _in_domino(self, model: str, version: str, start: float) -> bool:
        at = datetime.fromtimestamp(start, timezone.utc)
        values = self._metrics.read_values(self.settings.model_monitoring_id, "request_count", start=at, end=at)
        return any(("model", model) in v.tags and ("version", version) in v.tags for v in values)


def _key(key: tuple[str, str]) -> str:
    return f"{key[0]}@{key[1]}"
