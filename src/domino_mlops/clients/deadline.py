"""A total deadline for one HTTP exchange, from connecting to the last byte of the answer.

requests' read timeout restarts with every byte that arrives, so a server (or a proxy gone
wrong) that drips one byte a second never times out, whether it drips the headers or the
body. Here a watchdog timer shuts the connection's socket down when the exchange's time is up:
the blocked read returns at once, and the caller, seeing ``Deadline.expired``, reports the
deadline instead of whatever the broken read looked like (a short body can look complete).

How the socket is found: `DeadlineAdapter` mounts urllib3 pools whose connections tell the
deadline of the current thread (if any) that they are in use, on connect and on each request.
Connections outside a deadline, and every other session, are untouched.

.. code-block:: python

    session.mount("https://", DeadlineAdapter())
    with Deadline(60.0) as deadline:
        response = session.get(url, timeout=(5, 30), stream=True)
        body = response.content
    if deadline.expired: ...   # the server was still sending after 60 s
"""

from __future__ import annotations

import socket
import threading
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
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    @property
    def expired(self) -> bool:
        with self._lock:
            return self._expired

    def __enter__(self) -> Deadline:
        _current.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()
        _current.deadline = None

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
