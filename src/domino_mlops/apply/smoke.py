"""Smoke test a deployed model: send a known input, check the shape, values and latency.

The input comes from the manifest entry (`smoke_test.input`) or, failing that, from the input
example logged with the MLflow model. MLflow stores a DataFrame example in "split" form
({"columns": [...], "data": [[...]]}), often of several rows (``input_example=X.head(3)``).
Domino's model route takes ``{"data": {...}}``, an object of named arguments: one row goes as
``{column: value}``, several as columns ``{column: [value, ...]}`` (docs/CONTRACT_DECISIONS.md).

Calling a model is the one POST this project sends again as it is (clients/http.py): a prediction
changes nothing on Domino, so a call that fails transiently is retried within the smoke test's
time budget, and only a model that answers wrongly, too slowly, or never fails the test.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from domino_mlops.clients.http import Retries, transient
from domino_mlops.errors import DominoMlopsError, SmokeTestFailed


@dataclass(frozen=True, slots=True)
class SmokeExpectation:
    input: Any
    expect: Any = None
    expect_shape: tuple[int, ...] | None = None
    tolerance: float = 1e-6
    max_latency_ms: int | None = None
    timeout_seconds: float | None = None  # the budget for transient failures; None: one call only


@dataclass(frozen=True, slots=True)
class SmokeResult:
    latency_ms: float
    shape: tuple[int, ...]
    result: Any

    def summary(self) -> dict[str, Any]:
        return {"latency_ms": round(self.latency_ms, 1), "shape": list(self.shape)}


def request_data(example: Any) -> dict[str, Any]:
    """Turn an MLflow input example (or a manifest's smoke input) into the ``data`` object of a
    Domino model request: one row as ``{column: value}``, several rows as ``{column: [values]}``."""
    if isinstance(example, dict) and "dataframe_split" in example:
        return request_data(example["dataframe_split"])
    if isinstance(example, dict) and "dataframe_records" in example:
        return request_data(example["dataframe_records"])
    if isinstance(example, dict) and set(example) >= {"columns", "data"} and isinstance(example["data"], list):
        columns = example["columns"]
        for number, row in enumerate(example["data"]):
            if not isinstance(row, list) or len(row) != len(columns):
                raise SmokeTestFailed(
                    f"the smoke-test input has {len(columns)} columns but its row {number} is {_short(row)}",
                    hint="Give every row of `data` one value per column, or write smoke_test.input as "
                         "{column: value} in the manifest.")
        return _rows_to_data([dict(zip(columns, row, strict=True)) for row in example["data"]])
    if isinstance(example, list) and example and all(isinstance(row, dict) for row in example):
        return _rows_to_data(example)
    if isinstance(example, dict):
        return example
    raise SmokeTestFailed(
        f"the smoke-test input {_short(example)} is not named arguments",
        hint="Domino's model route takes {\"data\": {name: value}}: write smoke_test.input in the manifest "
             "as {column: value} (one row) or {column: [values]} (several rows).")


def _rows_to_data(rows: list[dict[str, Any]]) -> dict[str, Any]:
    if len(rows) == 1:
        return rows[0]
    columns = list(rows[0])
    for number, row in enumerate(rows[1:], start=1):
        if list(row) != columns:
            raise SmokeTestFailed(f"the smoke-test input's row {number} has columns {sorted(row)}, "
                                  f"row 0 has {sorted(columns)}", hint="Give every row the same columns.")
    return {column: [row[column] for row in rows] for column in columns}


def check(model: str, where: str, call: Any, expectation: SmokeExpectation,
          clock: Any = time.perf_counter, *, sleep: Any = time.sleep, retries: Retries | None = None) -> SmokeResult:
    """Call the model (`call(data) -> result`) and hold its answer to the expectation.

    A call that fails transiently (connection error, 429, 502/503/504) is sent again with backoff
    and jitter, honouring Retry-After, while the retries fit in the smoke test's time budget
    (``expectation.timeout_seconds``, or ``retries``). The latency held to ``max_latency_ms`` is
    that of the attempt that answered, not of the retries before it.
    """
    prefix = f"smoke test of {model} on {where}"
    data = request_data(expectation.input)
    if retries is None and expectation.timeout_seconds is not None:
        retries = Retries(expectation.timeout_seconds)
    while True:
        start = clock()
        try:
            result = call(data)
            break
        except DominoMlopsError as exc:
            if retries is None or not transient(exc):
                raise
            delay = retries.next_delay(exc, took=clock() - start)
            if delay is None:
                raise SmokeTestFailed(
                    f"{prefix}: no answer within the smoke test's {retries.budget:g} s "
                    f"({retries.count + 1} calls); the last: {exc}",
                    hint="Domino kept failing the call; check the Model API's instances in Domino, or raise "
                         "smoke_test.timeout_seconds in the environments file, then re-run.") from exc
            sleep(delay)
    latency_ms = (clock() - start) * 1000.0
    shape = shape_of(result)
    if expectation.expect_shape is not None and shape != tuple(expectation.expect_shape):
        raise SmokeTestFailed(f"{prefix}: result shape {list(shape)}, expected {list(expectation.expect_shape)}")
    if expectation.expect is not None and not close(result, expectation.expect, expectation.tolerance):
        raise SmokeTestFailed(f"{prefix}: result {_short(result)}, expected {_short(expectation.expect)}")
    if expectation.max_latency_ms is not None and latency_ms > expectation.max_latency_ms:
        raise SmokeTestFailed(f"{prefix}: answered in {latency_ms:.0f} ms, the bound is "
                              f"{expectation.max_latency_ms} ms",
                              hint="Raise max_latency_ms, or check the hardware tier's size.")
    if result is None:
        raise SmokeTestFailed(f"{prefix}: the model answered null")
    return SmokeResult(latency_ms, shape, result)


def shape_of(value: Any) -> tuple[int, ...]:
    """[[1, 2], [3, 4]] -> (2, 2); a scalar -> ()."""
    shape: list[int] = []
    while isinstance(value, list):
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return tuple(shape)


def close(actual: Any, expected: Any, tolerance: float) -> bool:
    """Equality that forgives float noise, element by element."""
    if isinstance(expected, bool) or isinstance(actual, bool):  # bool is an int in Python: True == 1
        return type(actual) is type(expected) and actual == expected
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return math.isclose(actual, expected, rel_tol=tolerance, abs_tol=tolerance)
    if isinstance(expected, list) and isinstance(actual, list):
        return len(actual) == len(expected) and all(close(a, e, tolerance) for a, e in zip(actual, expected, strict=True))
    if isinstance(expected, dict) and isinstance(actual, dict):
        return actual.keys() == expected.keys() and all(close(actual[k], expected[k], tolerance) for k in expected)
    return actual == expected


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
