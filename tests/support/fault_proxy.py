"""A fault-injecting HTTP proxy on loopback, in front of a real server (the real `mlflow server`):
for MLflow what the Domino emulator's fault plans are for Domino (emulator/src/domino_emulator/faults.py).

It answers a share of requests with 500 or 503 (with ``Retry-After``), resets connections before
forwarding (nothing happened) or after forwarding (it happened, and the answer is lost: the case
that tells a safe retry from a blind one), and slows answers down. Everything is counted.

Seeded and deterministic: whether a request is faulted depends only on the seed, the request
(method, path, query, and body without its timestamps) and how often that same request was seen
before, not on which thread sent it first. Parallel applies therefore meet the same faults on the
same requests, run after run, as long as they send the same requests.

.. code-block:: python

    with fault_proxy(mlflow_uri, seed=7, rate_500=0.1, reset_rate=0.05, lost_rate=0.05) as proxy:
        os.environ["MLFLOW_TRACKING_URI"] = proxy.url
        ...
        proxy.counters.faults()        # {"500": 12, "reset": 5, "lost": 4}
        proxy.counters.writes()        # writes that reached MLflow
        proxy.set_faults(None)         # a clean network from now on

It also stands in for the gateway in front of a tracking server that restarts: ``hold_at`` holds
a request at a known point (the first tag write, say) while the test stops the server; meanwhile
the proxy answers 502, as a gateway whose upstream is down does (``counters.upstream_errors()``);
``forwarded`` lists, in order, the writes the server accepted; ``stop`` cuts open connections.
``crash_at_write`` is the emulator's crash point (emulator/crash.py) for MLflow: it holds the Nth
write, unforwarded or forwarded with its answer held, while a crash test kills the client.
"""

from __future__ import annotations

import hashlib
import json
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

import requests

from domino_emulator.crash import CrashPoint
from domino_emulator.server import ClosingHTTPServer

# Fields MLflow stamps with the time of the call: a retry of the same request must look the same.
_VOLATILE = frozenset({"start_time", "end_time", "timestamp"})
# MLflow's POSTs that only read.
_READ_ONLY_POST_SUFFIXES = ("/search",)
_HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "host",
                         "proxy-connection", "te", "trailer", "upgrade", "content-encoding"})


@dataclass(frozen=True, slots=True)
class ProxyFaults:
    """Shares of requests to fault (they add up to at most 1) and the latency added to every answer."""

    seed: int = 0
    rate_500: float = 0.0
    rate_503: float = 0.0
    reset_rate: float = 0.0  # the connection is reset before the request reaches the server
    lost_rate: float = 0.0  # the request reaches the server, then the connection is reset: no answer
    latency_ms: float = 0.0  # added to every answer; a request's share of it is seeded too
    retry_after: int = 1  # seconds, sent with each 503
    paths: tuple[str, ...] = ()  # fault only requests whose path contains one of these (empty: all)
    limit: int | None = None  # at most this many faults (latency is not a fault)

    def __post_init__(self) -> None:
        rates = (self.rate_500, self.rate_503, self.reset_rate, self.lost_rate)
        if any(r < 0 for r in rates) or sum(rates) > 1.0 or self.latency_ms < 0:
            raise ValueError(f"bad proxy faults {self}: rates must be >= 0 and add up to at most 1")

    def decide(self, key: str, seen: int) -> tuple[str | None, float]:
        """(fault or None, latency in seconds) for the ``seen``-th sending of the request ``key``."""
        digest = hashlib.sha256(f"{self.seed}|{key}|{seen}".encode()).digest()
        draw, share = (int.from_bytes(digest[i:i + 8], "big") / 2**64 for i in (0, 8))
        latency = self.latency_ms / 1000.0 * (0.5 + share)  # between half and one and a half times
        for fault, rate in (("500", self.rate_500), ("503", self.rate_503), ("reset", self.reset_rate),
                            ("lost", self.lost_rate)):
            if draw < rate:
                return fault, latency
            draw -= rate
        return None, latency


class ProxyCounters:
    """Requests by route and by fault, and the writes that reached the server (the emulator's
    ``Counters``, for MLflow)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: Counter[str] = Counter()
        self._faults: Counter[str] = Counter()
        self._writes: Counter[str] = Counter()  # forwarded writes, by route
        self._upstream_errors = 0  # requests answered 502 because the server could not be reached

    def upstream_error(self) -> None:
        with self._lock:
            self._upstream_errors += 1

    def upstream_errors(self) -> int:
        with self._lock:
            return self._upstream_errors

    def add(self, route: str, fault: str | None, write: bool) -> None:
        with self._lock:
            self._routes[route] += 1
            if fault:
                self._faults[fault] += 1
            if write and fault not in ("500", "503", "reset"):  # these never reach the server
                self._writes[route] += 1

    def total(self) -> int:
        with self._lock:
            return sum(self._routes.values())

    def by_route(self) -> dict[str, int]:
        with self._lock:
            return dict(self._routes)

    def faults(self) -> dict[str, int]:
        with self._lock:
            return dict(self._faults)

    def writes(self) -> int:
        """Writes that reached MLflow (a write answered with an injected 500/503 or reset first did not)."""
        with self._lock:
            return sum(self._writes.values())

    def writes_by_route(self) -> dict[str, int]:
        with self._lock:
            return dict(self._writes)

    def clear(self) -> None:
        with self._lock:
            self._routes.clear()
            self._faults.clear()
            self._writes.clear()
            self._upstream_errors = 0


class FaultProxy:
    """The running proxy: its URL, its counters, and the faults it injects (changeable)."""

    def __init__(self, upstream: str, faults: ProxyFaults, *, port: int = 0) -> None:
        self.upstream = upstream.rstrip("/")
        self.counters = ProxyCounters()
        self.forwarded: list[tuple[str, str, Any]] = []  # (method, path, JSON body) of each write the server accepted
        self._faults = faults
        self._seen: Counter[str] = Counter()
        self._injected = 0
        self._lock = threading.Lock()
        self._local = threading.local()
        self._hold: tuple[str, CrashPoint] | None = None
        self._write_hold: CrashPoint | None = None
        self._server = ClosingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="mlflow-fault-proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def faults(self) -> ProxyFaults:
        return self._faults

    def set_faults(self, faults: ProxyFaults | None = None, **changes: Any) -> ProxyFaults:
        """Replace the faults (None: none); keyword arguments change the current ones."""
        with self._lock:
            self._faults = replace(self._faults, **changes) if changes else (faults or ProxyFaults())
            self._seen.clear()  # the seeded sequence starts again, as the emulator's does
            self._injected = 0
            return self._faults

    def start(self) -> FaultProxy:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and cut every open connection (a held request's too)."""
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        self._thread.join(timeout=10)

    @contextmanager
    def hold_at(self, path: str, *, nth: int = 1) -> Iterator[CrashPoint]:
        """Hold the ``nth`` request whose path contains ``path`` before it is forwarded, until the
        block ends (``point.reached`` is set while it is held)."""
        point = CrashPoint(nth)
        self._hold = (path, point)
        try:
            yield point
        finally:
            self._hold = None
            point.release()

    @contextmanager
    def crash_at_write(self, nth: int, *, after: bool = False) -> Iterator[CrashPoint]:
        """Hold the ``nth`` write from now on: before it reaches MLflow (``after=False``) or once
        MLflow applied it, with its answer held (``after=True``), until the block ends."""
        point = CrashPoint(nth, after=after)
        self._write_hold = point
        try:
            yield point
        finally:
            self._write_hold = None
            point.release()

    def write_held(self, method: str, path: str) -> CrashPoint | None:
        point = self._write_hold
        if point is not None and _is_write(method, path) and point.arrive(f"{method} {path}"):
            return point
        return None

    def held(self, path: str) -> CrashPoint | None:
        """The hold this request meets, if it is the one to hold."""
        hold = self._hold
        if hold is not None and hold[0] in path and hold[1].arrive(path):
            return hold[1]
        return None

    def accepted(self, method: str, path: str, body: bytes) -> None:
        try:
            value = json.loads(body) if body else None
        except ValueError:
            value = None
        with self._lock:
            self.forwarded.append((method, path, value))

    # --- what the handler asks ---------------------------------------------------------------

    def decide(self, method: str, path: str, body: bytes) -> tuple[str | None, float, int]:
        key = f"{method} {path} {_stable_body(body)}"
        with self._lock:
            seen = self._seen[key]
            self._seen[key] += 1
            faults = self._faults
            fault, latency = faults.decide(key, seen)
            if faults.paths and not any(part in path for part in faults.paths):
                fault = None
            if fault and faults.limit is not None:
                if self._injected >= faults.limit:
                    fault = None
                else:
                    self._injected += 1
        return fault, latency, faults.retry_after

    def session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session


@contextmanager
def fault_proxy(upstream: str, faults: ProxyFaults | None = None, *, port: int = 0,
                **rates: Any) -> Iterator[FaultProxy]:
    """A proxy to ``upstream`` on loopback (``port``, else a free one), for the duration of the block."""
    proxy = FaultProxy(upstream, faults or ProxyFaults(**rates), port=port).start()
    try:
        yield proxy
    finally:
        proxy.stop()


def _stable_body(body: bytes) -> str:
    """The body as the fault decision sees it: JSON without the fields MLflow stamps with the time."""
    if not body:
        return ""
    try:
        value = json.loads(body)
    except ValueError:
        return hashlib.sha256(body).hexdigest()
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if k not in _VOLATILE}
    return json.dumps(value, sort_keys=True)


def _is_write(method: str, path: str) -> bool:
    if method in ("GET", "HEAD", "OPTIONS"):
        return False
    return not (method == "POST" and path.endswith(_READ_ONLY_POST_SUFFIXES))


def _handler_for(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as MLflow's pooled sessions expect
        timeout = 60

        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path = urlsplit(self.path).path
            fault, latency, retry_after = proxy.decide(self.command, self.path, body)
            proxy.counters.add(f"{self.command} {path}", fault, _is_write(self.command, path))
            time.sleep(latency)
            if fault == "reset":
                return self._reset()
            if fault in ("500", "503"):
                return self._reply(int(fault), {"error_code": "TEMPORARILY_UNAVAILABLE",
                                                "message": f"injected {fault}"},
                                   {"Retry-After": str(retry_after)} if fault == "503" else {})
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            point = proxy.held(path)
            if point is not None:
                point.hold()  # the test stops the server meanwhile
            crash = proxy.write_held(self.command, path)
            if crash is not None and not crash.after:
                crash.hold()  # the client is killed before its write reaches MLflow
                return self._reset()
            try:
                upstream = proxy.session().request(self.command, proxy.upstream + self.path, data=body,
                                                   headers=headers, timeout=60, allow_redirects=False)
            except requests.RequestException as exc:
                proxy.counters.upstream_error()
                return self._reply(502, {"error_code": "BAD_GATEWAY", "message": f"upstream: {exc}"})
            if _is_write(self.command, path) and upstream.status_code < 400:
                proxy.accepted(self.command, path, body)
            if fault == "lost":
                return self._reset()
            if crash is not None:
                crash.hold()  # applied; the client is killed before it hears back
                return self._reset()
            self.send_response(upstream.status_code)
            for name, value in upstream.headers.items():
                if name.lower() not in _HOP_BY_HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(upstream.content)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(upstream.content)

        def _reset(self) -> None:
            # SO_LINGER 0: closing sends RST, so the client sees "connection reset by peer".
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True

        def _reply(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except OSError:  # the proxy stopped and cut this connection meanwhile
                self.close_connection = True

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = _handle  # noqa: N815

    return Handler
