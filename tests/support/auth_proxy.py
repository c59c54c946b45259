"""A bearer-token proxy in front of a real MLflow server, like Domino's MLflow proxy.

Each token may touch the models of one project (a set of model names). Unknown or missing token
-> 401; a known token asking about another project's model -> 403; a read-only token (MLflow's
READ permission, what plan jobs hold) asking to change anything -> 403. Every request's token is
recorded so tests can assert which credential each call used.
"""

from __future__ import annotations

import ast
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import requests


@dataclass
class ProxyLog:
    calls: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)  # method, path, token, model
    lock: threading.Lock = field(default_factory=threading.Lock)

    def tokens_for(self, model: str) -> set[str | None]:
        with self.lock:
            return {token for _, _, token, name in self.calls if name == model}


@dataclass
class AuthProxy:
    url: str
    log: ProxyLog


@contextmanager
def auth_proxy(upstream: str, grants: dict[str, set[str] | None], *,
               read_only: frozenset[str] = frozenset()) -> Iterator[AuthProxy]:
    """grants: token -> model names it may touch (None: every model); read_only: tokens that may
    only read."""
    log = ProxyLog()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            auth = self.headers.get("Authorization", "")
            token = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
            models = _model_names(self.path, body)
            with log.lock:  # one record per model a call names (a batched search names many)
                log.calls.extend((self.command, self.path, token, model) for model in models or [None])
            if token not in grants:
                return self._reply(401, {"error_code": "UNAUTHENTICATED", "message": "bad token"})
            if grants[token] is not None and any(model not in grants[token] for model in models):
                return self._reply(403, {"error_code": "PERMISSION_DENIED", "message": "not your project"})
            if token in read_only and not _is_read(self.command, self.path):
                return self._reply(403, {"error_code": "PERMISSION_DENIED", "message": "READ permission only"})
            upstream_response = requests.request(self.command, upstream + self.path, data=body,
                                                 headers={"Content-Type": "application/json"}, timeout=30)
            self.send_response(upstream_response.status_code)
            self.send_header("Content-Type", upstream_response.headers.get("Content-Type", "application/json"))
            self.send_header("Content-Length", str(len(upstream_response.content)))
            self.end_headers()
            self.wfile.write(upstream_response.content)

        def _reply(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_DELETE = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield AuthProxy(f"http://127.0.0.1:{server.server_port}", log)
    finally:
        server.shutdown()
        server.server_close()


def _is_read(method: str, path: str) -> bool:
    """MLflow's REST API reads with GET, and searches runs and experiments with POST."""
    return method == "GET" or urlsplit(path).path.endswith("/search")


def _model_names(path: str, body: bytes) -> list[str]:
    query = parse_qs(urlsplit(path).query)
    if "name" in query:
        return [query["name"][0]]
    if "filter" in query:  # searches: name='x', or a batch: name IN ('x','y') (a Python literal)
        text = query["filter"][0]
        if text.startswith("name IN ("):
            names = ast.literal_eval(text[len("name IN "):])
            return [names] if isinstance(names, str) else list(names)
        if "=" in text:
            return [text.split("=", 1)[1].strip().strip("'\"")]
    if body:
        try:
            payload = json.loads(body)
        except ValueError:
            return []
        if isinstance(payload, dict) and isinstance(payload.get("name"), str):
            return [payload["name"]]
    return []
