"""A total deadline for one HTTP exchange, from connecting to the last byte of the answer.

requests' read timeout restarts with every byte that arrives, so a server (or a proxy gone
wrong) that drips one byte a second never times out, whether it drips the headers or the
body. Here a watchdog timer shuts the connection's socket down when the exchange's time is up:
the blocked read returns at once, and the caller, seeing ``Deadline.expired``, reports the
deadline instead of whatever the broken read looked like (a short body can look complete).

How the socket is found: `DeadlineAdapter` mounts urllib3 pools whose connections tell the
deadline of the current thread (if any) that they are in use, on connect and on each request.
Connections outside a deadline, and every other session, are untouched.

One watchdog thread serves every deadline of the process (`_Watchdog`): a timer thread per
exchange cost a thread start on every request, and with many workers busy each start waited
for the interpreter lock (the rollout benchmark found workers spending more time starting
timers than on some Domino calls).

.. code-block:: python

    session.mount("https://", DeadlineAdapter())
    with Deadline(60.0) as deadline:
        response = session.get(url, timeout=(5, 30), stream=True)
        body = response.content
    if deadline.expired: ...   # the server was still sending after 60 s
"""

from __future__ import annotations

import heapq
import socket
import threading
import time
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import ProxyManager

_current = threading.local()


class Deadline:
    """Seconds for everything done inside the ``with`` block on this thread's watched connections."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._connections: list[Any] = []
        self._expired = False

    @property
    def expired(self) -> bool:
        with self._lock:
            return self._expired

    def __enter__(self) -> Deadline:
        _current.deadline = self
        _WATCHDOG.add(self, time.monotonic() + self.seconds)
        return self

    def __exit__(self, *exc_info: object) -> None:
        _WATCHDOG.remove(self)
        _current.deadline = None
        with self._lock:
            self._connections.clear()  # the watchdog keeps a finished deadline until its time: not its sockets

    def watch(self, connection: Any) -> None:
        with self._lock:
            if not any(known is connection for known in self._connections):
                self._connections.append(connection)
            if self._expired:  # connected after the time was up: stop it before it reads
                _shut(connection)

    def _expire(self) -> None:
        with self._lock:
            self._expired = True
            for connection in self._connections:
                _shut(connection)


class _Watchdog:
    """Expires deadlines when their time is up: one thread for all of them, started on first use
    (a daemon: it never keeps the process alive), asleep until the earliest expiry."""

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._due: list[tuple[float, int, Deadline]] = []  # a heap by expiry; the id breaks ties
        self._cancelled: set[int] = set()
        self._thread: threading.Thread | None = None

    def add(self, deadline: Deadline, at: float) -> None:
        with self._wake:
            heapq.heappush(self._due, (at, id(deadline), deadline))
            self._cancelled.discard(id(deadline))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="http-deadlines", daemon=True)
                self._thread.start()
            if self._due[0][2] is deadline:
                self._wake.notify()  # the new one is due first: sleep less

    def remove(self, deadline: Deadline) -> None:
        with self._wake:
            self._cancelled.add(id(deadline))  # taken off the heap when it comes up (no search)

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._due and id(self._due[0][2]) in self._cancelled:
                    self._cancelled.discard(id(heapq.heappop(self._due)[2]))
                if not self._due:
                    self._wake.wait()
                    continue
                at, _, deadline = self._due[0]
                left = at - time.monotonic()
                if left > 0:
                    self._wake.wait(left)
                    continue
                heapq.heappop(self._due)
            deadline._expire()  # outside the lock: shutting a socket down may take a moment


_WATCHDOG = _Watchdog()


def _shut(connection: Any) -> None:
    # http.client drops `sock` as soon as an answer will end with the connection (no length):
    # the answer still reads from it, so the socket kept at connect time is the one to stop.
    sock = getattr(connection, "sock", None) or getattr(connection, "_deadline_sock", None)
    if sock is None:
        return  # still connecting (bounded by the connect timeout); `watch` shuts it once connected
    try:
        sock.shutdown(socket.SHUT_RDWR)  # wakes a blocked recv; close() from another thread may not
    except OSError:
        pass  # already closed: nothing left to stop


def _in_use(connection: Any) -> None:
    deadline = getattr(_current, "deadline", None)
    if deadline is not None:
        deadline.watch(connection)


class _Watched:
    """Mixed into urllib3's connections: report use to the current thread's deadline."""

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        self._deadline_sock = self.sock  # type: ignore[attr-defined]
        _in_use(self)

    def request(self, *args: Any, **kwargs: Any) -> Any:
        _in_use(self)  # a kept-alive connection is reused without connecting again
        return super().request(*args, **kwargs)  # type: ignore[misc]


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


_POOLS = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """requests' adapter whose connections a `Deadline` can stop (direct and through HTTP proxies)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        if type(manager) is ProxyManager:  # a SOCKS manager brings its own connection classes
            manager.pool_classes_by_scheme = dict(_POOLS)
        return manager
