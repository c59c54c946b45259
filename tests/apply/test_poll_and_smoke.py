"""Adaptive polling and smoke-test checks, without servers."""

from __future__ import annotations

import pytest

from domino_mlops.state.ledger import LedgerEntry, chain_key
from domino_mlops.apply.poll import PollSettings, PollTimeout, poll_until
from domino_mlops.apply.smoke import SmokeExpectation, check, close, request_data, shape_of
from domino_mlops.errors import AuthenticationFailed, RemoteError, SmokeTestFailed, Unreachable


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
                        settings=PollSettings(first=1, factor=2, cap=4, timeout=100, phases=()),
                        on_change=seen.append, sleep=clock.sleep, clock=lambda: clock.now)
    assert result == "Running"
    assert seen == ["Preparing", "Building", "Starting", "Running"]
    assert clock.sleeps == [1, 2, 4, 4, 4, 4]


def test_poll_gives_up_at_the_deadline() -> None:
    clock = FakeClock()
    with pytest.raises(PollTimeout) as info:
        poll_until(lambda: "Building", lambda s: False,
                   settings=PollSettings(first=1, factor=2, cap=8, timeout=10, phases=()),
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


class FlakyModel:
    """Fails with each error in turn (each failed call taking ``slow`` seconds), then answers in ``fast``."""

    def __init__(self, clock: FakeClock, errors: list[Exception], *, slow: float = 3.0, fast: float = 0.05) -> None:
        self.clock, self.errors, self.slow, self.fast, self.calls = clock, errors, slow, fast, 0

    def __call__(self, data: dict) -> list[float]:
        self.calls += 1
        if self.errors:
            self.clock.now += self.slow
            raise self.errors.pop(0)
        self.clock.now += self.fast
        return [42.0]


def rate_limited(seconds: float) -> RemoteError:
    return RemoteError("Domino", 429, "POST /models/m1/latest/model", "slow down", retry_after=seconds)


def test_a_smoke_call_that_fails_transiently_is_repeated_and_timed_on_the_attempt_that_answered() -> None:
    clock = FakeClock()
    model = FlakyModel(clock, [rate_limited(2), Unreachable("Domino", "http://d/models/m1", "connection reset"),
                               RemoteError("Domino", 503, "POST /models/m1/latest/model")])
    expectation = SmokeExpectation({"x": 1}, expect=[42.0], max_latency_ms=100, timeout_seconds=30)

    result = check("m", "api", model, expectation, clock=lambda: clock.now, sleep=clock.sleep)

    assert model.calls == 4
    assert clock.sleeps[0] == 2.0  # the server's Retry-After, not backoff
    assert len(clock.sleeps) == 3 and 0 <= clock.sleeps[1] <= 1.0 and 0 <= clock.sleeps[2] <= 2.0  # full jitter
    assert result.latency_ms == pytest.approx(50)  # 11 s went by, but the model answered in 50 ms


def test_a_smoke_call_that_keeps_failing_fails_the_test_once_its_budget_is_spent() -> None:
    clock = FakeClock()
    model = FlakyModel(clock, [rate_limited(4) for _ in range(10)])
    expectation = SmokeExpectation({"x": 1}, timeout_seconds=20)

    with pytest.raises(SmokeTestFailed, match=r"smoke test of m on api: no answer within the smoke test's 20 s "
                                              r"\(3 calls\); the last: Domino answered 429") as info:
        check("m", "api", model, expectation, clock=lambda: clock.now, sleep=clock.sleep)

    assert model.calls == 3 and clock.now <= 20  # 3 s + 4 s + 3 s + 4 s + 3 s; one more round would pass 20 s
    assert "smoke_test.timeout_seconds" in info.value.hint


@pytest.mark.parametrize("error", [AuthenticationFailed("Domino", "DOMINO_MODEL_TOKENS"),
                                   RemoteError("Domino", 500, "POST /models/m1/latest/model", "model error")],
                         ids=["401", "500"])
def test_a_smoke_call_refused_or_broken_is_not_repeated(error) -> None:
    clock = FakeClock()
    model = FlakyModel(clock, [error])
    with pytest.raises(type(error)):
        check("m", "api", model, SmokeExpectation({"x": 1}, timeout_seconds=30), clock=lambda: clock.now,
              sleep=clock.sleep)
    assert model.calls == 1 and clock.sleeps == []


def test_without_a_budget_a_smoke_call_is_made_once() -> None:
    clock = FakeClock()
    model = FlakyModel(clock, [rate_limited(1)])
    with pytest.raises(RemoteError):
        check("m", "api", model, SmokeExpectation({"x": 1}), clock=lambda: clock.now, sleep=clock.sleep)
    assert model.calls == 1


def test_ledger_keys_chain_so_a_repeat_later_is_a_new_entry() -> None:
    first = LedgerEntry("PROD", "m", "1", "2", "promote")
    key1 = chain_key(first, None)
    stored = LedgerEntry("PROD", "m", "1", "2", "promote", key=key1)
    back = LedgerEntry("PROD", "m", "2", "1", "rollback", key=chain_key(LedgerEntry("PROD", "m", "2", "1", "rollback"), stored))
    assert chain_key(first, None) == key1  # the same change again: found, not re-recorded
    assert chain_key(first, back) != key1  # promoting 1 -> 2 after the rollback: a new entry
    assert "token" not in " ".join(stored.tags())
