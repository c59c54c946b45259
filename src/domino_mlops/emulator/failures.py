"""Error bodies in the shape each part of Domino answers with.

- the public API (``/api/...``, document "Domino Public API"): ``FailureEnvelopeV1``,
  ``{"errors": [...], "requestId": "<uuid>"}``, one entry per problem;
- the v4 API and the older unpublished routes: ``domino.api.ErrorResponse``, ``{"message": "..."}``,
  so every problem goes into the one message;
- emulator-only routes (``/_emulator``): ``{"message", "errors"}``, which is no Domino shape.
"""

from __future__ import annotations

import uuid
from typing import Any

from domino_mlops.emulator.web import ApiError, Response


def error_body(source: str, exc: ApiError) -> dict[str, Any]:
    if source == "public":
        return {"errors": list(exc.errors), "requestId": str(uuid.uuid4())}
    message = exc.message
    details = [e for e in exc.errors if e != message]
    if details:
        message = f"{message}: {'; '.join(details)}"
    if source == "emulator":
        return {"message": message, "errors": list(exc.errors)}
    return {"message": message}


def error_response(source: str, exc: ApiError) -> Response:
    return Response(exc.status, error_body(source, exc), headers=exc.headers)


def fault_response(source: str, action: str, retry_after: int) -> Response:
    """An injected 429 or 503, shaped like the route it hit."""
    if action == "429":
        exc = ApiError(429, "rate limited (injected by the emulator)", headers={"Retry-After": str(retry_after)})
    else:
        exc = ApiError(503, "service unavailable (injected by the emulator)")
    return error_response(source, exc)
