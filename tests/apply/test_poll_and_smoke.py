"""Adaptive polling and smoke-test checks, without servers."""

from __future__ import annotations

import pytest

from domino_mlops.apply.ledger import LedgerEntry, chain_key
from domino_mlops.apply.poll import PollSettings, PollTimeout, poll_until
from domino_mlops.apply.smoke import SmokeExpectation, check, close, request_data, shape_of
from domino_mlops.errors import SmokeTestFailed


class FakeClock:
    def __init__(self) -> None:
        self.now, self.sleeps = 0.0, []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_poll_backs_off_to_the_cap_and_reports_each_change() -> None:
    clock = FakeClock()
    states = iter(["Preparing", "Preparing", "Building", "Building", "Building", "Starting", "Running"])
    seen = []
    result = poll_until(lambda: next(states), lambda s: s == "Running",
                        settings=PollSettings(first=1, factor=2, cap=4, timeout=100),
                        on_change=seen.append, sleep=clock.sleep, clock=lambda: clock.now)
    assert result == "Running"
    assert seen == ["Preparing", "Building", "Starting", "Running"]
    assert clock.sleeps == [1, 2, 4, 4, 4, 4]


def test_poll_gives_up_at_the_deadline() -> None:
    clock = FakeClock()
    with pytest.raises(PollTimeout) as info:
        poll_until(lambda: "Building", lambda s: False, settings=PollSettings(first=1, factor=2, cap=8, timeout=10),
                   sleep=clock.sleep, clock=lambda: clock.now)
    assert info.value.last == "Building" and info.value.waited == pytest.approx(10)
    assert sum(clock.sleeps) == pytest.approx(10)  # the last sleep is trimmed to the deadline


def test_request_data_sends_one_row_as_named_values_and_several_as_columns() -> None:
    # Domino's model route takes {"data": {name: value}}: several rows travel as columns.
    split = {"columns": ["a", "b"], "data": [[1, 2], [3, 4], [5, 6]]}  # input_example=X.head(3)
    assert request_data(split) == {"a": [1, 3, 5], "b": [2, 4, 6]}
    assert request_data({"dataframe_split": split}) == {"a": [1, 3, 5], "b": [2, 4, 6]}
    assert request_data({"columns": ["a"], "data": [[1]]}) == {"a": 1}
    assert request_data([{"a": 1, "b": 2}, {"a": 3, "b": 4}]) == {"a": [1, 3], "b": [2, 4]}
    assert request_data({"dataframe_records": [{"a": 1}]}) == {"a": 1}
    assert request_data({"x": 1}) == {"x": 1}


@pytest.mark.parametrize("example, problem", [
    ([[1, 2], [3, 4]], "is not named arguments"),
    ([{"a": 1}, {"b": 2}], "row 1 has columns"),
], ids=["tensor", "rows-with-other-columns"])
def test_an_input_that_is_not_named_arguments_is_a_clear_smoke_failure(example, problem) -> None:
    with pytest.raises(SmokeTestFailed, match=problem) as info:
        request_data(example)
    assert info.value.hint


@pytest.mark.parametrize("data", [[1, 2], [[1, 2], [3]]], ids=["rows-not-lists", "short-row"])
def test_a_split_input_with_ragged_rows_is_a_clear_smoke_failure(data) -> None:
    with pytest.raises(SmokeTestFailed, match="2 columns but its row") as info:
        request_data({"columns": ["a", "b"], "data": data})
    assert "one value per column" in info.value.hint


def test_shape_and_tolerant_equality() -> None:
    assert shape_of([[1, 2], [3, 4]]) == (2, 2) and shape_of(3.0) == () and shape_of([]) == (0,)
    assert close([1.0000001, {"p": 2.0}], [1.0, {"p": 2.0}], 1e-6)
    assert not close([1.1], [1.0], 1e-6) and not close(True, 1, 1e-6)


def test_check_enforces_shape_value_and_latency() -> None:
    ticks = iter([0.0, 0.5])
    result = check("m", "api", lambda data: [42.0], SmokeExpectation({"x": 1}, expect=[42.0], expect_shape=(1,)),
                   clock=lambda: next(ticks))
    assert result.latency_ms == 500 and result.summary() == {"latency_ms": 500.0, "shape": [1]}
    with pytest.raises(SmokeTestFailed, match="expected \\[41.0\\]"):
        check("m", "api", lambda data: [42.0], SmokeExpectation({"x": 1}, expect=[41.0]))
    slow = iter([0.0, 2.0])
    with pytest.raises(SmokeTestFailed, match="bound is 100 ms"):
        check("m", "api", lambda data: [1], SmokeExpectation({}, max_latency_ms=100), clock=lambda: next(slow))
    with pytest.raises(SmokeTestFailed, match="answered null"):
        check("m", "api", lambda data: None, SmokeExpectation({}))


def test_ledger_keys_chain_so_a_repeat_later_is_a_new_entry() -> None:
    first = LedgerEntry("PROD", "m", "1", "2", "promote")
    key1 = chain_key(first, None)
    stored = LedgerEntry("PROD", "m", "1", "2", "promote", key=key1)
    back = LedgerEntry("PROD", "m", "2", "1", "rollback", key=chain_key(LedgerEntry("PROD", "m", "2", "1", "rollback"), stored))
    assert chain_key(first, None) == key1  # the same change again: found, not re-recorded
    assert chain_key(first, back) != key1  # promoting 1 -> 2 after the rollback: a new entry
    assert "token" not in " ".join(stored.tags())
