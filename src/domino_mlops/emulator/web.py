"""Requests, responses, errors and the route table: the emulator's tiny web framework.

Kept apart from ``server.py`` so route modules depend on plain data (``Request`` in,
``Response`` or JSON out) and never on ``http.server``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ApiError(Exception):
    """An answer other than success; rendered as the contract's ``{"message", "errors"}`` body."""

    def __init__(self, status: int, message: str, errors: list[str] | tuple[str, ...] = (),
                 *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = list(errors) or [message]
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"message": self.message, "errors": self.errors}


def not_found(what: str, ident: str) -> ApiError:
    return ApiError(404, f"{what} {ident!r} not found")


def bad_request(message: str, errors: list[str] | tuple[str, ...] = ()) -> ApiError:
    return ApiError(400, message, errors)


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]  # keys lower-cased
    body: bytes = b""
    params: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        if not self.body.strip():
            return None
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise bad_request(f"request body is not valid JSON: {exc}") from exc

    def json_object(self, *, required: bool = True) -> dict[str, Any]:
        data = self.json()
        if data is None and not required:
            return {}
        if not isinstance(data, dict):
            raise bad_request("request body must be a JSON object")
        return data


@dataclass(slots=True)
class Response:
    status: int = 200
    body: Any = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def text(cls, text: str, status: int = 200) -> Response:
        return cls(status, text, "text/plain; charset=utf-8")

    @classmethod
    def empty(cls, status: int = 204) -> Response:
        return cls(status, None, "")

    def encode(self) -> bytes:
        if self.body is None:
            return b""
        if self.content_type == "application/json":
            return json.dumps(self.body, default=_json_default).encode()
        return str(self.body).encode()


def _json_default(value: Any) -> Any:
    # numpy scalars and arrays reach here from model predictions; stay import-free of numpy.
    for attr in ("tolist", "item"):
        if hasattr(value, attr):
            return getattr(value, attr)()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


Handler = Callable[..., Any]


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    template: str  # e.g. /api/modelServing/v1/modelApis/{modelApiId}
    pattern: re.Pattern[str]
    handler: Handler
    write: bool  # changes state: counted by Counters.writes(), triggers a state-file save
    auth: bool  # needs a Domino credential (X-Domino-Api-Key or Bearer)
    locked: bool  # runs while holding the world lock

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"


class Router:
    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, method: str, template: str, handler: Handler, *, write: bool | None = None,
            auth: bool = True, locked: bool = True) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", re.escape(template).replace(r"\{", "{").replace(r"\}", "}"))
        self._routes.append(Route(
            method=method, template=template, pattern=re.compile(f"^{regex}$"), handler=handler,
            write=(method not in READ_METHODS) if write is None else write, auth=auth, locked=locked,
        ))

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route for ``method path`` and its unquoted path parameters; 404 or 405 otherwise."""
        allowed: list[str] = []
        for route in self._routes:
            found = route.pattern.match(path)
            if not found:
                continue
            if route.method == method:
                return route, {k: unquote(v) for k, v in found.groupdict().items()}
            allowed.append(route.method)
        if allowed:
            raise ApiError(405, f"{method} is not allowed on {path}; use {', '.join(sorted(set(allowed)))}",
                           headers={"Allow": ", ".join(sorted(set(allowed)))})
        raise ApiError(404, f"no such route: {method} {path}")
