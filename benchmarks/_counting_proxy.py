"""A pass-through HTTP proxy that counts requests by method and path, so a benchmark counts what
reached the server rather than trusting the client's own counters."""

from __future__ import annotations

import http.client
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_FORWARDED = ("Authorization", "X-Domino-Api-Key", "Content-Type", "Accept", "User-Agent")
_RETURNED = ("Content-Type", "Retry-After", "Location")


@dataclass
class Counts:
    by_path: Counter = field(default_factory=Counter)  # (method, path without query) -> requests
    lock: threading.Lock = field(default_factory=threading.Lock)

    def total(self) -> int:
        with self.lock:
            return sum(self.by_path.values())

    def snapshot(self) -> Counter:
        with self.lock:
            return Counter(self.by_path)

    def reset(self) -> None:
        with self.lock:
            self.by_path.clear()


@dataclass
class Proxy:
    url: str
    counts: Counts


@contextmanager
def counting_proxy(upstream: str) -> Iterator[Proxy]:
    target = urlsplit(upstream)
    counts = Counts()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the clients would have with the server

        def log_message(self, *args: object) -> None:
            pass

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            with counts.lock:
                counts.by_path[(self.command, urlsplit(self.path).path)] += 1
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=300)
            try:
                headers = {k: v for k in _FORWARDED if (v := self.headers.get(k)) is not None}
                connection.request(self.command, self.path, body=body, headers=headers)
                answer = connection.getresponse()
                data = answer.read()
            finally:
                connection.close()
            self.send_response(answer.status)
            for key in _RETURNED:
                if (value := answer.getheader(key)) is not None:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Proxy(f"http://127.0.0.1:{server.server_port}", counts)
    finally:
        server.shutdown()
        server.server_close()
