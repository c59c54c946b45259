"""A small, real HTTP fake of GitHub's issue-comments API, recording every request.

Enough of https://docs.github.com/rest/issues/comments for the PR comment: list (paged with
per_page/page), create, get and update. Tokens are ``write`` or ``read``: an unknown token gets
401, a read-only one (what a pull request from a fork gets) 403 on every write.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

_LIST = re.compile(r"^/repos/([^/]+)/([^/]+)/issues/(\d+)/comments$")
_ONE = re.compile(r"^/repos/([^/]+)/([^/]+)/issues/comments/(\d+)$")


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    token: str | None
    headers: dict[str, str]
    body: Any


@dataclass
class FakeGitHub:
    url: str = ""
    tokens: dict[str, str] = field(default_factory=dict)  # token -> "write" | "read"
    comments: dict[tuple[str, int], list[dict[str, Any]]] = field(default_factory=dict)  # (repo, pr) -> comments
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _next_id: int = 1000

    def seed(self, repo: str, number: int, body: str, *, user: str = "someone") -> dict[str, Any]:
        with self.lock:
            return self._add(repo, number, body, user)

    def thread(self, repo: str, number: int) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(c) for c in self.comments.get((repo, number), [])]

    def calls(self, method: str | None = None) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if method in (None, r.method)]

    def _add(self, repo: str, number: int, body: str, user: str) -> dict[str, Any]:
        self._next_id += 1
        comment = {"id": self._next_id, "body": body, "user": {"login": user},
                   "html_url": f"https://github.com/{repo}/pull/{number}#issuecomment-{self._next_id}"}
        self.comments.setdefault((repo, number), []).append(comment)
        return comment

    # --- request handling (runs on the server threads) --------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], token: str | None,
               body: Any) -> tuple[int, Any]:
        access = self.tokens.get(token or "")
        if access is None:
            return 401, {"message": "Bad credentials"}
        if method in ("POST", "PATCH") and access != "write":
            return 403, {"message": "Resource not accessible by integration"}
        if (match := _LIST.match(path)) is not None:
            repo, number = f"{match[1]}/{match[2]}", int(match[3])
            if method == "GET":
                per_page, page = int(query.get("per_page", 30)), int(query.get("page", 1))
                items = self.comments.get((repo, number), [])
                return 200, items[(page - 1) * per_page: page * per_page]
            if method == "POST":
                return 201, self._add(repo, number, str(body.get("body", "")), "github-actions[bot]")
        if (match := _ONE.match(path)) is not None:
            repo, wanted = f"{match[1]}/{match[2]}", int(match[3])
            for (where, _), items in self.comments.items():
                for comment in items:
                    if where == repo and comment["id"] == wanted:
                        if method == "PATCH":
                            comment["body"] = str(body.get("body", ""))
                        return 200, comment
            return 404, {"message": "Not Found"}
        return 404, {"message": "Not Found"}


@contextmanager
def fake_github(tokens: dict[str, str] | None = None, *, host: str = "127.0.0.1") -> Iterator[FakeGitHub]:
    """``with fake_github({"t0ken": "write"}) as gh:`` -> a running fake at ``gh.url``."""
    fake = FakeGitHub(tokens=dict(tokens or {}))

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            auth = self.headers.get("Authorization", "")
            token = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            headers = {k: v for k, v in self.headers.items() if k.lower() != "authorization"}
            with fake.lock:
                fake.requests.append(Recorded(self.command, parts.path, query, token, headers, body))
                status, payload = fake.handle(self.command, parts.path, query, token, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = _handle

    server = ThreadingHTTPServer((host, 0), Handler)
    fake.url = f"http://{host}:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
