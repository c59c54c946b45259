"""Requests, responses, errors and the route table: the emulator's tiny web framework.

Kept apart from ``server.py`` so route modules depend on plain data (``Request`` in,
``Response`` or JSON out) and never on ``http.server``. Every Domino route is registered under
its template in the contract (``domino_emulator.contract``), so the route table cannot drift from
what Domino publishes; only ``/_emulator`` routes live outside it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from domino_emulator.contract import SUBPATHS, ContractRoute, load_contract

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
EMULATOR_PREFIX = "/_emulator"


class ApiError(Exception):
    """An answer other than success. ``errors`` lists every problem (``message`` sums them up);
    the server renders both in the error shape of the route's source (see ``failures.py``)."""

    def __init__(self, status: int, message: str, errors: list[str] | tuple[str, ...] = (),
                 *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = list(errors) or [message]
        self.headers = dict(headers or {})


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
    query_string: str = ""

    def json(self) -> Any:
        if not self.body.strip():
            return None
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise bad_request(f"request body is not valid JSON: {exc}") from exc

    def page(self, default_limit: int, max_limit: int) -> tuple[int, int]:
        """``offset`` and ``limit`` from the query (the contract check made them integers)."""
        offset, limit = int(self.query.get("offset", 0)), int(self.query.get("limit", default_limit))
        if offset < 0 or limit < 1:
            raise bad_request("offset must be >= 0 and limit >= 1")
        return offset, min(limit, max_limit)

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
    template: str  # the contract's path, e.g. /api/modelServing/v1/modelApis/{modelApiId}
    pattern: re.Pattern[str]
    handler: Handler
    write: bool  # changes state: counted by Counters.writes(), triggers a state-file save
    auth: Any  # "domino", "none", or an auth.ModelAccess (see auth.authorize)
    locked: bool  # runs while holding the world lock
    contract: ContractRoute | None  # None only for /_emulator routes

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"

    @property
    def source(self) -> str:
        """Whose error shape this route answers with: "public", "v4", "unpublished" or "emulator"."""
        return self.contract.source if self.contract else "emulator"

    @property
    def literal_parts(self) -> int:
        return len([p for p in self.template.split("/") if p and not p.startswith("{")])


class Router:
    def __init__(self) -> None:
        self._routes: list[Route] = []

    @property
    def routes(self) -> tuple[Route, ...]:
        return tuple(self._routes)

    def add(self, method: str, template: str, handler: Handler, *, write: bool | None = None,
            auth: Any = "domino", locked: bool = True) -> None:
        contract = None
        if not template.startswith(EMULATOR_PREFIX + "/"):
            contract = load_contract().by_shape(method, template)
            if contract is None or contract.path != template:
                # A Domino route the contract does not list is a guess; name it in the extractor first.
                raise ValueError(f"{method} {template} is not a contract route"
                                 + (f" (the contract spells it {contract.path})" if contract else ""))
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
        tail = SUBPATHS if contract is not None and contract.subpaths else ""
        self._routes.append(Route(
            method=method, template=template, pattern=re.compile(f"^{regex}{tail}$"), handler=handler,
            write=(method not in READ_METHODS) if write is None else write, auth=auth, locked=locked,
            contract=contract,
        ))

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        """The route for ``method path`` and its unquoted path parameters; 404 or 405 otherwise.

        A literal segment wins over a parameter (``POST /v4/jobs/restart`` is not a job id), and a
        path some route serves with another method is a 405, never a wrong handler.
        """
        found = [(r, m) for r in self._routes if (m := r.pattern.match(path))]
        same = sorted(((r, m) for r, m in found if r.method == method), key=lambda rm: -rm[0].literal_parts)
        if same:
            route, hit = same[0]
            return route, {k: unquote(v) for k, v in hit.groupdict().items()}
        if found:
            allowed = ", ".join(sorted({r.method for r, _ in found}))
            raise ApiError(405, f"{method} is not allowed on {path}; use {allowed}", headers={"Allow": allowed})
        raise ApiError(404, f"no such route: {method} {path}")

    def source_of(self, path: str) -> str:
        """The error shape for a path no route of this method serves: that of a route serving
        the path with another method, else the public API's (Domino's gateway answers unknown paths)."""
        found = [r for r in self._routes if r.pattern.match(path)]
        return max(found, key=lambda r: r.literal_parts).source if found else "public"
