"""Error bodies in the shape each part of Domino answers with.

- the public API (``/api/...``, document "Domino Public API"): what the route declares for the
  status: ``{"error": "..."}`` (its 400, 404 and 500 answers) or ``FailureEnvelopeV1``,
  ``{"errors": [...], "requestId": "<uuid>"}``, one entry per problem (401, 403, 413, 422, 429,
  and every status a route declares nothing for);
- the v4 API and the older unpublished routes: ``domino.api.ErrorResponse``, ``{"message": "..."}``,
  so every problem goes into the one message;
- emulator-only routes (``/_emulator``): ``{"message", "errors"}``, which is no Domino shape.
"""

from __future__ import annotations

import uuid
from typing import Any

from domino_emulator.web import ApiError, Response, Route


def error_body(source: str, exc: ApiError, declared: Any = None) -> dict[str, Any]:
    """``declared``: the route's published schema for this status, if any."""
    message = exc.message
    details = [e for e in exc.errors if e != message]
    if details:
        message = f"{message}: {'; '.join(details)}"
    if source == "public":
        if isinstance(declared, dict) and "error" in declared.get("properties", {}):
            return {"error": message}
        return {"errors": list(exc.errors), "requestId": str(uuid.uuid4())}
    if source == "emulator":
        return {"message": message, "errors": list(exc.errors)}
    return {"message": message}


def error_response(source: str, exc: ApiError, declared: Any = None) -> Response:
    return Response(exc.status, error_body(source, exc, declared), headers=exc.headers)


def route_error(route: Route, exc: ApiError) -> Response:
    """An error of a matched route, in the shape its document declares for the status."""
    declared = route.contract.responses.get(str(exc.status)) if route.contract is not None else None
    return error_response(route.source, exc, declared)


def fault_response(source: str, action: str, retry_after: int) -> Response:
    """An injected 429 or 503, shaped like the route it hit."""
    if action == "429":
        exc = ApiError(429, "rate limited (injected by the emulator)", headers={"Retry-After": str(retry_after)})
    else:
        exc = ApiError(503, "service unavailable (injected by the emulator)")
    return error_response(source, exc)
