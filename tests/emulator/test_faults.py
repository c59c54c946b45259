"""Injected faults repeat from a seed, and a dropped connection really drops."""

from __future__ import annotations

import time

import pytest
import requests

from domino_emulator import Emulator, FaultPlan, FaultRule
from domino_emulator.clock import ManualClock
from domino_mlops.errors import ConfigError
from tests.support.emulator import MODEL_APIS, DominoSession, model_api_body

FLAKY = {"seed": 42, "rules": [{"prefix": "/v4/projects", "rate_429": 0.3, "rate_503": 0.3, "retry_after": 2}]}


def _statuses(emu: Emulator, n: int = 30) -> list[int]:
    domino = DominoSession(emu.url, emu.api_key)
    return [domino.get(f"/v4/projects/{emu.project_id}").status_code for _ in range(n)]


def test_the_same_seed_gives_the_same_faults_in_the_same_order():
    with Emulator(faults=FLAKY) as first:
        one = _statuses(first)
    with Emulator(faults=FLAKY) as second:
        two = _statuses(second)
    with Emulator(faults={**FLAKY, "seed": 43}) as third:
        other = _statuses(third)

    assert one == two
    assert {200, 429, 503} <= set(one)
    assert one != other


def test_a_429_carries_retry_after_and_the_error_shape_of_the_route_it_hit():
    with Emulator(faults={"rules": [{"prefix": "/", "rate_429": 1.0, "retry_after": 3, "methods": ["GET"]}]}) as emu:
        domino = DominoSession(emu.url, emu.api_key)
        v4 = domino.get(f"/v4/projects/{emu.project_id}")
        public = domino.get(MODEL_APIS)
        nowhere = domino.get("/no/such/route")
        assert v4.status_code == public.status_code == nowhere.status_code == 429
        assert v4.headers["Retry-After"] == "3"
        assert set(v4.json()) == {"message"}
        assert set(public.json()) == set(nowhere.json()) == {"errors", "requestId"}  # no route: the gateway's
        assert DominoSession(emu.url).post("/version").status_code == 405  # other methods are untouched
        assert [r.fault for r in emu.requests] == ["429", "429", "429", None]


def test_a_dropped_connection_gets_no_answer_at_all():
    with Emulator(faults={"rules": [{"prefix": "/version", "drop_rate": 1.0, "limit": 1}]}) as emu:
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{emu.url}/version", timeout=5)
        assert requests.get(f"{emu.url}/version", timeout=5).status_code == 200  # the limit was one fault
        assert [(r.status, r.fault) for r in emu.requests] == [(None, "drop"), (200, None)]


def test_faults_change_at_runtime_from_python_and_over_http():
    with Emulator() as emu:
        domino = DominoSession(emu.url, emu.api_key)
        emu.set_faults(rate_503=1.0, prefix="/v4/projects", methods=["GET"])
        assert domino.get(f"/v4/projects/{emu.project_id}").status_code == 503

        emu.set_faults(None)
        assert domino.get(f"/v4/projects/{emu.project_id}").status_code == 200

        plan = {"seed": 1, "rules": [{"prefix": "/", "latency_ms": 150}]}
        answer = requests.put(f"{emu.url}/_emulator/faults", json=plan, timeout=5).json()
        assert answer["rules"][0]["latency_ms"] == 150
        started = time.perf_counter()
        assert domino.get("/version").ok
        assert time.perf_counter() - started >= 0.15
        refused = requests.put(f"{emu.url}/_emulator/faults", json={"rules": [{"rate_429": 2}]}, timeout=5)
        assert refused.status_code == 400


def test_slow_deploys_add_to_the_deploy_time():
    plan = FaultPlan(seed=0, rules=(FaultRule(prefix="/nothing"),), slow_deploy_seconds=30)
    clock = ManualClock()
    with Emulator(deploy_seconds=0.1, faults=plan, clock=clock) as emu:
        domino = DominoSession(emu.url, emu.api_key)
        body = model_api_body(emu.project_id, "slow", "m", 1, environment_id=next(iter(emu.world.environments)))
        created = domino.ok("POST", MODEL_APIS, body)
        clock.advance(0.3)  # three times the normal deploy time; preparing alone takes 20 % of 30.1 s

        api = domino.ok("GET", f"{MODEL_APIS}/{created['id']}")
        assert api["activeVersion"]["deployment"] == {"status": "Preparing to build", "isPending": True}
        clock.advance(6.0)
        assert domino.ok("GET", f"{MODEL_APIS}/{created['id']}")["activeVersion"]["deployment"]["status"] == "Building"


def test_a_bad_plan_is_a_config_error():
    with pytest.raises(ConfigError, match="add up to at most 1"):
        FaultPlan.parse({"rules": [{"rate_429": 0.7, "rate_503": 0.7}]})
    with pytest.raises(ConfigError, match="unknown fault rule keys"):
        FaultPlan.parse('{"rules": [{"rate_500": 0.1}]}')



def test_omit_active_version_leaves_it_out_of_the_create_answer_only(emu, domino) -> None:
    # The public ModelApi marks activeVersion optional: clients must cope with a create without it.
    body = model_api_body(emu.project_id, "no-active", "m", 1, environment_id=next(iter(emu.world.environments)))
    emu.set_faults(omit_active_version=True)
    created = domino.ok("POST", MODEL_APIS, body)
    assert "activeVersion" not in created
    assert domino.ok("GET", f"{MODEL_APIS}/{created['id']}")["activeVersion"]["id"]
    with pytest.raises(ConfigError, match="omit_active_version must be true or false"):
        FaultPlan.parse({"omit_active_version": "yes"})
