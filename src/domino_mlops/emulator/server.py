"""The HTTP server: parse a request, apply faults, route it, check it, answer JSON, record it.

Every request to a Domino route goes the same way, in ``_dispatch``: the caller is authorized
(``auth.authorize``), the body and query are checked against the contract (``validate``), and
only then does the handler run. Errors take the shape of the route's source (``failures``).

Stdlib ``ThreadingHTTPServer`` on purpose: no new dependency, and one thread per connection is
plenty for a loopback emulator. HTTP/1.1 keep-alive is on, as clients pool connections.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from domino_mlops.emulator import (
    auth,
    lifecycle,
    routes_admin,
    routes_app_pages,
    routes_apps,
    routes_apps_public,
    routes_async,
    routes_custom_metrics,
    routes_jobs,
    routes_legacy,
    routes_metrics,
    routes_models,
    routes_platform,
    routes_predict,
    routes_scheduled_jobs,
    routes_service_accounts,
    routes_v1_models,
    routes_versions,
    validate,
)
from domino_mlops.emulator.context import Context
from domino_mlops.emulator.failures import error_response, fault_response, route_error
from domino_mlops.emulator.faults import Decision
from domino_mlops.emulator.web import EMULATOR_PREFIX, READ_METHODS, ApiError, Request, Response, Route, Router

logger = logging.getLogger(__name__)

MAX_BODY = 10 * 1024 * 1024


def build_router() -> Router:
    router = Router()
    for module in (routes_platform, routes_models, routes_versions, routes_legacy, routes_metrics, routes_v1_models,
                   routes_predict, routes_async, routes_jobs, routes_scheduled_jobs, routes_apps, routes_app_pages,
                   routes_apps_public, routes_service_accounts, routes_custom_metrics, routes_admin):
        module.register(router)
    return router


class ClosingHTTPServer(ThreadingHTTPServer):
    """A ``ThreadingHTTPServer`` whose stop cuts the connections it has open.

    ``shutdown()`` and ``server_close()`` only stop accepting: a kept-alive connection goes on
    being served by its handler thread, so a client's pooled connection would still reach a
    server that has "stopped" (and, for the emulator, one that no longer saves its state).
    ``close_connections()`` shuts each one down, as a process that goes away does; the client
    sees the connection end, and its next one is refused until something listens again.
    """

    daemon_threads = True  # an idle keep-alive connection must not hold up shutdown
    allow_reuse_address = True  # a restart takes its port back at once

    def __init__(self, address: tuple[str, int], handler: Any) -> None:
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> int:
        """Cut every open connection; return how many there were."""
        with self._open_lock:
            cut, self._open = list(self._open), set()
        for sock in cut:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # closed meanwhile
        return len(cut)


class EmulatorHTTPServer(ClosingHTTPServer):
    def __init__(self, address: tuple[str, int], ctx: Context, router: Router) -> None:
        super().__init__(address, _Handler)
        self.ctx = ctx
        self.router = router


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "DominoEmulator/1"
    timeout = 60  # an abandoned connection frees its thread
    disable_nagle_algorithm = True  # headers and body go out in two writes: avoid a 40 ms delayed-ACK stall
    server: EmulatorHTTPServer

    def do_GET(self) -> None:  # noqa: N802 - the names http.server dispatches to
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        logger.debug("%s " + format, self.address_string(), *args)

    def _handle(self) -> None:
        started = time.perf_counter()
        ctx, router = self.server.ctx, self.server.router
        if ctx.closed:  # stopped: a request that slipped in as it stopped gets no answer
            self.close_connection = True
            return
        parts = urlsplit(self.path)
        path, method = parts.path, self.command
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            body = self._read_body(headers)
        except ApiError as exc:
            self._send(error_response(router.source_of(path), exc))
            return
        req = Request(method=method, path=path, query=dict(parse_qsl(parts.query)), headers=headers, body=body,
                      query_string=parts.query)
        admin = path.startswith(EMULATOR_PREFIX + "/")
        decision = Decision() if admin else ctx.faults.decide(method, path)
        if decision.latency_s:
            time.sleep(decision.latency_s)
        route: Route | None
        try:
            route, params = router.match(method, path)
            unmatched = None
        except ApiError as exc:  # still recorded, and still faulted: a real gateway does not know routes
            route, params, unmatched = None, {}, error_response(router.source_of(path), exc)
        response: Response | None
        if decision.action == "drop":
            self.close_connection = True  # no answer at all: the client sees the connection end
            response = None
        elif decision.action in ("429", "503"):
            response = fault_response(route.source if route else router.source_of(path), decision.action,
                                      decision.retry_after)
        elif route is None:
            response = unmatched
        else:
            point = ctx.crash_point
            held = point is not None and not admin and route.write and point.arrive(route.key)
            if held and not point.after:  # type: ignore[union-attr]
                point.hold()  # type: ignore[union-attr]  # the client dies meanwhile; the write never happens
                self.close_connection = True
                return
            response = self._dispatch(ctx, route, Request(method, path, req.query, headers, body, params,
                                                          parts.query))
            if response is None:  # the emulator stopped meanwhile: no answer, as from a server gone
                self.close_connection = True
            if held:
                point.hold()  # type: ignore[union-attr]  # applied; the client dies before it hears back
        if not admin:  # recorded before answering: a caller that got its answer finds it in the log
            self._record(ctx, req, route, response, decision, started)
        if response is not None:
            try:
                self._send(response)
            except OSError:
                self.close_connection = True  # the client is gone (a crash test killed it)

    def _dispatch(self, ctx: Context, route: Route, req: Request) -> Response | None:
        try:
            with ctx.world.lock:
                if ctx.closed:  # stopped while this request waited: its write would not be saved
                    return None
                lifecycle.settle(ctx.world, ctx.now())
                who = auth.authorize(ctx.world, route, req.headers, req.params)  # 401/403 before 400
                if route.contract is not None:
                    validate.check_request(route.contract, req)
                if route.locked:
                    result = route.handler(ctx, req, who)
                    response = result if isinstance(result, Response) else Response(200, result)
                    if route.write and response.status < 400:
                        ctx.persist()
                    return response
            result = route.handler(ctx, req, who)
            return result if isinstance(result, Response) else Response(200, result)
        except ApiError as exc:
            return route_error(route, exc)
        except Exception as exc:  # noqa: BLE001 - a bug in a handler is a 500, not a dead connection
            logger.exception("emulator route %s failed", route.key)
            return route_error(route, ApiError(500, f"emulator error: {type(exc).__name__}: {exc}"))

    def _read_body(self, headers: dict[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            self.close_connection = True
            raise ApiError(411, "chunked request bodies are not supported; send Content-Length")
        try:
            length = int(headers.get("content-length", "0") or 0)
        except ValueError:
            self.close_connection = True
            raise ApiError(400, "bad Content-Length") from None
        if length > MAX_BODY:
            self.close_connection = True
            raise ApiError(413, f"request body over {MAX_BODY} bytes")
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, response: Response) -> None:
        payload = response.encode()
        self.send_response(response.status)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _record(self, ctx: Context, req: Request, route: Route | None, response: Response | None,
                decision: Decision, started: float) -> None:
        write = route.write if route else req.method not in READ_METHODS
        try:  # every body sent is kept (a model call writes nothing, but its request is checked too)
            body = req.json()
        except ApiError:
            body = "<not JSON>"
        record = ctx.log.add(
            time=time.time(), method=req.method, path=req.path, query=urlsplit(self.path).query,
            route=route.key if route else None, write=write,
            status=response.status if response else None, fault=decision.action,
            duration_ms=(time.perf_counter() - started) * 1000, body=body,
            response=_parsed(response) if ctx.log.record_responses else None,
        )
        logger.info("%s %s -> %s%s", req.method, self.path, record.status or "dropped",
                    f" (injected {decision.action})" if decision.action else "")


def _parsed(response: Response | None) -> object:
    """The answer's JSON as a client parses it (numpy values and all turned plain), or None."""
    if response is None or response.body is None or response.content_type != "application/json":
        return None
    return json.loads(response.encode())
