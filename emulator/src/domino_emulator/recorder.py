"""The request log and per-route counters that tests read ("no write happened").

Emulator-only admin routes (``/_emulator/...``) are never recorded: reading the log must not
change it. Request bodies are kept for assertions, with secret-looking fields masked; with
``record_responses`` the parsed JSON of every answer is kept too (masked the same way), so a
test can hold recorded traffic to the contract. Both live as long as their record: the log is
bounded, and so is what it keeps.
"""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import asdict, dataclass
from typing import Any

_SECRET_KEYS = frozenset({"password", "token", "apikey", "api_key", "secret"})


@dataclass(frozen=True, slots=True)
class RequestRecord:
    seq: int
    time: float
    method: str
    path: str
    query: str
    route: str | None  # the route template, e.g. "GET /v4/jobs/{jobId}"; None if no route matched
    write: bool
    status: int | None  # None when the connection was dropped
    fault: str | None  # "429", "503", "drop" when injected
    duration_ms: float
    body: Any = None  # the request's parsed JSON body (None: none sent), secrets masked
    response: Any = None  # parsed JSON of the answer, secrets masked (with record_responses)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Counters:
    """Counts by route, kept apart from the bounded log so they never undercount."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_key: Counter[tuple[str, str, bool]] = Counter()

    def add(self, method: str, route: str, write: bool) -> None:
        with self._lock:
            self._by_key[(method, route, write)] += 1

    def clear(self) -> None:
        with self._lock:
            self._by_key.clear()

    def total(self) -> int:
        with self._lock:
            return sum(self._by_key.values())

    def writes(self) -> int:
        """Requests to routes that change state (creates, updates, starts, stops, deletes)."""
        with self._lock:
            return sum(n for (_, _, write), n in self._by_key.items() if write)

    def reads(self) -> int:
        return self.total() - self.writes()

    def by_route(self) -> dict[str, int]:
        """``{"GET /version": 2, "POST /v4/jobs/start": 1, ...}``"""
        merged: Counter[str] = Counter()
        with self._lock:
            for (_, route, _), n in self._by_key.items():
                merged[route] += n
        return dict(merged)

    def get(self, method: str, template: str) -> int:
        """How often ``method template`` was called, e.g. ``get("POST", "/v4/jobs/start")``."""
        return self.by_route().get(f"{method} {template}", 0)

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total(), "writes": self.writes(), "reads": self.reads(), "byRoute": self.by_route()}


class RequestLog:
    def __init__(self, capacity: int = 10_000, *, record_responses: bool = False) -> None:
        self.record_responses = record_responses
        self._lock = threading.Lock()
        self._records: deque[RequestRecord] = deque(maxlen=capacity)
        self._seq = 0
        self.counters = Counters()

    def add(self, *, time: float, method: str, path: str, query: str, route: str | None, write: bool,
            status: int | None, fault: str | None, duration_ms: float, body: Any = None,
            response: Any = None) -> RequestRecord:
        with self._lock:
            self._seq += 1
            record = RequestRecord(self._seq, time, method, path, query, route, write, status, fault,
                                   round(duration_ms, 3), _mask(body),
                                   _mask(response) if self.record_responses else None)
            self._records.append(record)
        self.counters.add(method, route or f"{method} {path}", write)
        return record

    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records.clear()
        self.counters.clear()


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "***" if k.lower() in _SECRET_KEYS else _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    return value
