"""Prediction records as the image's client/spool.py writes them, parsed once into frozen values."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Record:
    id: str
    seq: int
    ts: float  # seconds since the epoch, when the prediction was answered
    model: str
    version: str
    latency_ms: float
    rows: int
    status: int
    inputs: tuple[tuple[tuple[str, Any], ...], ...] = ()  # rows as (column, value) pairs, when captured

    @property
    def key(self) -> tuple[str, str]:
        return self.model, self.version

    @property
    def failed(self) -> bool:
        """A 4xx (input the model could not take) or a 5xx (the model failed) counts as an error."""
        return self.status >= 400


class UnreadableRecord(ValueError):
    """A spool message that is not a record (another writer, a truncated body): skipped, counted."""


def parse_record(raw: Mapping[str, Any]) -> Record:
    try:
        ts, latency = float(raw["ts"]), float(raw["latency_ms"])
        if not (math.isfinite(ts) and math.isfinite(latency)):
            raise ValueError("not finite")
        rows = raw.get("inputs") or ()
        inputs = tuple(tuple(sorted(row.items())) for row in rows if isinstance(row, Mapping))
        return Record(str(raw["id"]), int(raw.get("seq", 0)), ts, str(raw["model"]), str(raw["version"]),
                      latency, int(raw.get("rows", 0)), int(raw["status"]), inputs)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UnreadableRecord(f"not a prediction record: {type(exc).__name__} {exc}") from exc
