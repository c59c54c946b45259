"""A real HTTP server on loopback that answers every request the way a broken or hostile
server would: HTML error pages, truncated JSON, wrong shapes, huge bodies, bodies or headers
dripped one byte at a time, silence, a dropped connection.

`responses` mocks requests' adapter, so it cannot show what a socket does: a read timeout that
restarts with each dripped byte, a Content-Length that is never met, a body that never ends.
This server can.

.. code-block:: python

    with hostile_server() as server:
        server.answer("drip")                  # every request from now on
        client = HttpClient(server.url, ...)
        ...
        server.requests                        # [("GET", "/v4/projects/abc"), ...]
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HTML = (b"<!DOCTYPE html><html><head><title>Sign in</title></head>"
        b"<body><h1>Please sign in</h1><form action=/login></form></body></html>")

SCENARIOS = (
    "json",          # `status` with `body` as application/json (any bytes: wrong shapes, garbage)
    "html",          # `status` with an HTML login page
    "truncated",     # Content-Length promises twice the body; half is sent, then the connection closes
    "drip",          # valid headers, then the body one byte per `interval`, never finishing
    "drip-headers",  # the status line and headers one byte per `interval`, never finishing
    "huge",          # a JSON list of `huge_bytes` (with Content-Length), sent as fast as it is read
    "endless",       # chunked, no length, a JSON list that never ends
    "close",         # read the request, close without a word
    "silent",        # read the request, say nothing, keep the connection open
)


class HostileServer:
    def __init__(self, server: ThreadingHTTPServer) -> None:
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_port}"
        self.scenario, self.status, self.body = "json", 200, b"{}"
        self.headers: dict[str, str] = {}
        self.interval = 0.05
        self.huge_bytes = 64 * 1024 * 1024
        self.requests: list[tuple[str, str]] = []
        self.stopping = threading.Event()

    def answer(self, scenario: str, *, status: int = 200, body: bytes | str = b"{}",
               headers: dict[str, str] | None = None) -> None:
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}; one of {SCENARIOS}")
        self.scenario, self.status = scenario, status
        self.body = body.encode() if isinstance(body, str) else body
        self.headers = dict(headers or {})


def _handler(state: HostileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            state.requests.append((self.command, self.path))
            try:
                getattr(self, "_" + state.scenario.replace("-", "_"))()
            except (BrokenPipeError, ConnectionResetError, socket.timeout):
                pass  # the client gave up, as it should
            self.close_connection = True

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

        def _head(self, status: int, content_type: str, length: int | None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            # Every connection is closed after its answer (close_connection below): say so, or the
            # client may send its next request down a connection the server is closing (a race).
            self.send_header("Connection", "close")
            if length is not None:
                self.send_header("Content-Length", str(length))
            for name, value in state.headers.items():
                self.send_header(name, value)
            self.end_headers()

        def _json(self) -> None:
            self._head(state.status, "application/json", len(state.body))
            self.wfile.write(state.body)

        def _html(self) -> None:
            self._head(state.status, "text/html; charset=utf-8", len(HTML))
            self.wfile.write(HTML)

        def _truncated(self) -> None:
            self._head(state.status, "application/json", 2 * len(state.body))
            self.wfile.write(state.body[: len(state.body) // 2 or 1])
            self.wfile.flush()

        def _drip(self) -> None:
            self._head(state.status, "application/json", None)  # ends when the connection does
            self.wfile.flush()
            self._trickle(b"[" + b"0," * 10**6)

        def _drip_headers(self) -> None:
            self._trickle(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Slow: " + b"a" * 10**6)

        def _trickle(self, data: bytes) -> None:
            for byte in data:
                if state.stopping.wait(state.interval):
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()

        def _huge(self) -> None:
            self._head(state.status, "application/json", state.huge_bytes)
            block = b"0," * (512 * 1024)
            sent = 0
            self.wfile.write(b"[")
            sent += 1
            while sent + len(block) < state.huge_bytes - 2 and not state.stopping.is_set():
                self.wfile.write(block)
                sent += len(block)
            self.wfile.write(b" " * (state.huge_bytes - sent - 2) + b"0]")

        def _endless(self) -> None:
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            block = b"0," * (512 * 1024)
            chunk = f"{len(block):x}\r\n".encode() + block + b"\r\n"
            self.wfile.write(b"1\r\n[\r\n")
            while not state.stopping.is_set():
                self.wfile.write(chunk)

        def _close(self) -> None:
            pass  # close_connection does the rest

        def _silent(self) -> None:
            state.stopping.wait()

    return Handler


@contextmanager
def hostile_server() -> Iterator[HostileServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), None)  # type: ignore[arg-type]
    server.daemon_threads = True
    state = HostileServer(server)
    server.RequestHandlerClass = _handler(state)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.stopping.set()  # ends every drip, endless body and silence
        server.shutdown()
        server.server_close()
