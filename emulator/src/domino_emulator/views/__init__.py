"""Records -> the JSON shapes of Domino's published schemas (``domino_emulator.contract``), by noun.

Each function answers one schema, named in its docstring. Times follow the schema that carries
them: the v4 API and Model APIs send epoch milliseconds (numbers), the public jobs, hardware tier
and environment schemas ISO 8601 strings (``format: date-time``). Optional fields the emulator
has nothing to say about are left out rather than sent as null.
"""

from __future__ import annotations

import time
import uuid
from typing import Any


def ms(when: float | None) -> int | None:
    return None if when is None else int(when * 1000)


def iso(when: float) -> str:
    """``2022-03-12T02:13:44.467Z``, the form of the public document's examples."""
    millis = int(round(when * 1000)) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(when)) + f".{millis:03d}Z"


def metadata() -> dict[str, Any]:
    """``MetadataV1``: every public envelope carries a request id."""
    return {"requestId": str(uuid.uuid4()), "notices": []}


def paged_metadata(offset: int, limit: int, total: int) -> dict[str, Any]:
    """``PaginatedMetadataV1``: ``MetadataV1`` and ``PaginationV1`` flattened (allOf), which is
    what the client generated from the document reads (the contract's override drops the
    undefined ``pagination`` key the document also requires)."""
    return {**metadata(), "offset": offset, "limit": limit, "totalCount": total}


def log_line(entry: dict[str, Any], stream: str = "stdout") -> dict[str, Any]:
    """``ModelApiVersionLogLine`` from a stored ``{"time", "log"}`` entry."""
    nanos = int(entry["time"] * 1_000_000_000)
    return {"log": entry["log"], "streamType": stream, "tags": [], "timeNano": nanos, "timestamp": nanos // 1_000_000}
