"""The one place requests are checked against the contract, before any handler runs.

Domino validates request bodies (and typed query parameters) against the schemas it publishes
and answers 400; so does the emulator, listing every problem at once. Handlers then only make
the checks no schema can (an unknown project, a hardware tier the project may not use, ...).
"""

from __future__ import annotations

from typing import Any

from domino_emulator.contract import ContractRoute, load_contract
from domino_emulator.web import ApiError, Request, bad_request


def check_request(route: ContractRoute, req: Request) -> None:
    """Raise the contract's 400 when the body or a query parameter breaks the route's schemas."""
    body: Any = None
    if route.request is not None:
        try:
            body = req.json()
        except ApiError:
            raise bad_request("request body is not valid JSON") from None
    problems = load_contract().check_request(route, body, query=req.query_string)
    if problems:
        raise bad_request(f"invalid request to {route.key}", problems)
