"""Analysis-gated waves (apply/analysis.py): after each wave, every new Model API version is
measured against the environment's `domino.analysis` with Domino's own metrics (the v4 model
manager's httpRequests and usage routes), which the emulator serves from the calls it really
answered. A breach puts back every data plane the run changed, leaves MLflow unmarked, exits 1.

Against a real MLflow server and the Domino emulator over HTTP. Time passes through the injected
``sleep`` (DeployRequest.sleep): the test's clock records each wait, and may act as the model's
real callers meanwhile; nothing waits on the wall clock.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml

from domino_mlops import api
from domino_mlops.connections import Connections
from domino_mlops.desired.load import read_desired
from domino_mlops.errors import AnalysisFailed, AnalysisInconclusive
from domino_emulator.local.models import SAMPLE_PATIENT
from domino_mlops.plan.digest import plan_digest
from domino_mlops.plan.render import plan_to_markdown
from domino_mlops.report.results import result_to_markdown
from tests.apply.conftest import events_to
from tests.apply.test_rollout import active, upgraded

CLI = str(Path(sys.executable).with_name("domino-mlops"))


def analyse_prod(pipeline, **analysis) -> None:
    """Give PROD this analysis in the workspace's environments file."""
    path = pipeline.root / "scripts" / "environments.yaml"
    document = yaml.safe_load(path.read_text())
    prod = next(e for e in document["environments"] if e["name"] == "PROD")
    prod["domino"]["analysis"] = analysis
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def apply_prod(pipeline, action: str = "rollout", sleep=None, events: list[str] | None = None, retry_failed=False):
    """PROD through the facade; the plan and the apply's result (None: nothing was applied)."""
    outcome = pipeline.call(action, api.DeployRequest("PROD", retry_failed=retry_failed, sleep=sleep or (lambda _: None)),
                            events_to(lambda model, message: (events if events is not None else []).append(message)))
    return outcome.plan, outcome.result


def answered(pipeline, model_api_name: str) -> dict[int, int]:
    """What the emulator counted for the Model API's active version, by status (the last hour)."""
    found = pipeline.domino.model_apis.find(pipeline.project_id, model_api_name)
    counts: dict[int, int] = {}
    for c in pipeline.domino.deployments.http_requests(found.id, found.active_version.id, minutes=60):
        counts[c.status] = counts.get(c.status, 0) + c.count
    return counts


def test_a_breach_of_max_error_rate_in_wave_one_puts_back_and_marks_nothing(pipeline) -> None:
    model, v1, v2 = upgraded(pipeline, "breach")
    analyse_prod(pipeline, window_minutes=5, interval_seconds=60, count=3, min_requests=2,
                 conditions={"max_error_rate": 0.05}, traffic={"rate_per_second": 5, "duration": 4})
    # Version 2 answers every second call with a 500: the smoke test's call passes, the traffic's
    # first call fails (and stops the traffic), so wave 1 has served 2 requests, 1 of them a 500.
    pipeline.emu.set_faults({"model_error_share": {f"{model}/{v2}": 0.5}})
    tags_before = pipeline.tags(model, v2)
    slept: list[float] = []
    events: list[str] = []

    plan, result = apply_prod(pipeline, sleep=slept.append, events=events)

    assert result.exit_code == 1 and slept == [60.0]  # the first measurement breached: no more
    (outcome,) = [m for m in result.models if m.model == model]
    error = outcome.error
    assert isinstance(error, AnalysisFailed)
    assert (error.condition, error.measured, error.threshold) == ("max_error_rate", 0.5, 0.05)
    assert f"max_error_rate breached by version {error.version_id}: measured 0.5, threshold 0.05" in str(error)
    assert {p.model_api_name: p.status for p in outcome.data_planes} == {
        f"{model}-prod": "put back", f"{model}-prod-prod-small": "not reached"}
    assert active(pipeline, f"{model}-prod") == int(v1) and active(pipeline, f"{model}-prod-prod-small") == int(v1)
    assert pipeline.aliases(model)["production"] == v1
    assert pipeline.tags(model, v2) == tags_before  # no status, no analysis tag, no Domino ids
    ledger = [e for e in pipeline.ledger(model) if e["environment"] == "PROD"]
    assert [(e["kind"], e["action"], e["to"]) for e in ledger] == [("model", "rollout", v1),
                                                                    ("analysis", "breach", v2)]
    assert ledger[-1]["analysis"] == f"breach max_error_rate 0.5>0.05 v{error.version_id}"
    assert any("synthetic traffic: 0 call(s) answered, stopped by a failed call" in e and "500" in e for e in events)
    assert any(e.startswith(f"{model}-prod: previous version") and "is serving again" in e for e in events)
    table = result_to_markdown(result, title="rollout").split("#### Analysis", 1)[1]
    assert "| error_rate | error_rate_increase | memory | cpu |" in table
    assert f"| {error.version_id} | 2 | **0.5** > 0.05 |" in table and "breach: max_error_rate, put back" in table

    # A re-run does not deploy the put-back version again: the plan holds it back and says why.
    pipeline.emu.set_faults(None)
    replanned, rerun = apply_prod(pipeline, sleep=slept.append)
    (held,) = [c for c in replanned.changes if c.model == model]
    assert "failed its analysis in PROD" in held.held_back and "--retry-failed-builds" in held.held_back
    assert rerun is None and active(pipeline, f"{model}-prod") == int(v1)  # nothing applied
    # Asked to, it goes again; fixed, it passes, and the environment moves.
    _, retried = apply_prod(pipeline, sleep=slept.append, retry_failed=True)
    assert retried.exit_code == 0 and pipeline.aliases(model)["production"] == v2


def test_synthetic_traffic_gives_a_quiet_environment_metrics_and_a_pass_is_recorded(pipeline) -> None:
    model, _, v2 = upgraded(pipeline, "traffic")
    analyse_prod(pipeline, window_minutes=10, interval_seconds=60, count=2, min_requests=15,
                 conditions={"max_error_rate": 0.01, "max_memory_fraction": 0.9, "max_cpu": 1.0},
                 traffic={"rate_per_second": 5, "duration": 4})
    slept: list[float] = []

    _, result = apply_prod(pipeline, sleep=slept.append)

    assert result.exit_code == 0, [str(m.error) for m in result.models]
    # Per wave: 20 calls 0.2 s apart, then two measurements a minute apart; nothing waited for real.
    assert slept == ([0.2] * 19 + [60.0, 60.0]) * 2
    assert answered(pipeline, f"{model}-prod") == {200: 21}  # the smoke call and the traffic
    assert pipeline.aliases(model)["production"] == v2
    tag = json.loads(pipeline.tags(model, v2)["domino_mlops.PROD.analysis"])
    assert set(tag) == {f"{model}-prod", f"{model}-prod-prod-small"}
    for measured in tag.values():
        assert measured["n"] == 2 and measured["requests"] == 21 and measured["error_rate"] == 0.0
        assert 0 < measured["memory"] < 0.9 and 0 < measured["cpu"] < 1.0
    (last,) = [e for e in pipeline.ledger(model) if e["environment"] == "PROD" and e["to"] == v2]
    assert json.loads(last["analysis"]) == tag


def _callers(pipeline, model: str, slept: list[float], *, on: int):
    """The injected clock, acting as the model's real callers on its ``on``-th wait of each wave:
    five calls to each of the model's PROD Model APIs that run."""
    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) % on:
            return
        for name in (f"{model}-prod", f"{model}-prod-prod-small"):
            found = pipeline.domino.model_apis.find(pipeline.project_id, name)
            if found is not None:
                for _ in range(5):
                    requests.post(f"{pipeline.emu.url}/models/{found.id}/latest/model",
                                  json={"data": SAMPLE_PATIENT}, timeout=30)
    return sleep


@pytest.mark.parametrize("policy", ["fail", "pass", "extend"])
def test_too_few_requests_is_inconclusive_and_the_policy_decides(pipeline, policy: str) -> None:
    model, v1, v2 = upgraded(pipeline, f"quiet-{policy}")
    analyse_prod(pipeline, window_minutes=10, interval_seconds=60, count=1, min_requests=5, inconclusive=policy,
                 **({"max_extensions": 2} if policy == "extend" else {}), conditions={"max_error_rate": 0.05})
    slept: list[float] = []

    # Only the smoke test's call: 1 request, below 5. Under extend, callers arrive during the
    # second wait of each wave (the first extension), and that measurement decides.
    _, result = apply_prod(pipeline, sleep=_callers(pipeline, model, slept, on=2) if policy == "extend"
                           else slept.append)

    (outcome,) = [m for m in result.models if m.model == model]
    if policy == "fail":
        assert result.exit_code == 1 and slept == [60.0]
        assert isinstance(outcome.error, AnalysisInconclusive)
        assert "1 request(s) in 10 min, below min_requests 5" in str(outcome.error)
        assert active(pipeline, f"{model}-prod") == int(v1) and pipeline.aliases(model)["production"] == v1
        assert [e["action"] for e in pipeline.ledger(model) if e["kind"] == "analysis"] == ["inconclusive"]
    elif policy == "pass":
        assert result.exit_code == 0 and slept == [60.0, 60.0]  # one measurement per wave
        assert any("below min_requests 5; counted as passed" in w for w in outcome.warnings)
        assert pipeline.aliases(model)["production"] == v2
    else:
        assert result.exit_code == 0 and slept == [60.0, 60.0] * 2  # one extension per wave
        assert [len(v.measurements) for v in outcome.analysis] == [2, 2]
        assert [v.measurements[0].inconclusive for v in outcome.analysis] == [True, True]
        assert [v.last.requests for v in outcome.analysis] == [6, 6]
        assert pipeline.aliases(model)["production"] == v2


@pytest.mark.parametrize(("condition", "threshold", "faults", "measured"), [
    ("max_memory_fraction", 0.9, {"model_memory_factor": "{model}/{v2}=10"}, 1.0),  # the memory knob
    # v2 fails 1 of its 2 calls (smoke, traffic); v1, which it replaced, failed none: a rise of 0.5.
    ("max_error_rate_increase", 0.1, {"model_error_share": "{model}/{v2}=0.5"}, 0.5),
    ("max_cpu", 0.01, {}, 0.0225),  # at rest 0.02 cores, and the smoke call's share of its minute
])
def test_each_condition_breaches_in_a_promote_and_the_model_goes_back(pipeline, condition, threshold, faults,
                                                                      measured) -> None:
    """The last wave's path of a promote (each model on its own), one condition at a time."""
    model, v1, v2 = upgraded(pipeline, "condition")
    traffic = {"traffic": {"rate_per_second": 1, "duration": 1}} if "model_error_share" in faults else {}
    analyse_prod(pipeline, interval_seconds=0, conditions={condition: threshold}, **traffic)
    knobs = {}
    for knob, spec in faults.items():
        key, value = spec.format(model=model, v2=v2).split("=")
        knobs[knob] = {key: float(value)}
    pipeline.emu.set_faults(knobs or None)

    _, result = apply_prod(pipeline, action="promote")

    (outcome,) = [m for m in result.models if m.model == model]
    assert result.exit_code == 1 and isinstance(outcome.error, AnalysisFailed), outcome.error
    assert (outcome.error.condition, outcome.error.measured, outcome.error.threshold) == (condition, measured,
                                                                                         threshold)
    assert active(pipeline, f"{model}-prod") == int(v1) and pipeline.aliases(model)["production"] == v1


def test_the_plan_shows_the_analysis_and_its_digest_covers_it(pipeline) -> None:
    model, _, _ = upgraded(pipeline, "digest")
    analyse_prod(pipeline, count=3, min_requests=50, conditions={"max_error_rate": 0.01})
    desired = read_desired("scripts/model_version.json", "scripts/environments.yaml")
    prod = desired.environments.get("PROD")
    with Connections() as connections:
        plan = api.plan(api.PlanRequest("PROD", action="rollout"), desired, connections).plan
    strict = plan_digest(plan, prod)
    assert ("each wave is judged by an analysis: 3 x every 60 s over 10 min; max_error_rate 0.01 (5xx); "
            "min_requests 50, inconclusive: fail") in plan_to_markdown(plan)

    analyse_prod(pipeline, count=1, min_requests=50, conditions={"max_error_rate": 0.01})  # weaker
    weaker = read_desired("scripts/model_version.json", "scripts/environments.yaml").environments.get("PROD")
    assert plan_digest(plan, weaker) != strict


def test_a_run_killed_during_the_analysis_converges_on_rerun(pipeline) -> None:
    """SIGKILL while wave 1 is being measured (the CLI waits its interval): the re-run finds wave 1
    already on the new version, measures it again rather than trusting it, and goes on."""
    model, _, v2 = upgraded(pipeline, "killed")
    analyse_prod(pipeline, interval_seconds=3600, count=1, conditions={"max_error_rate": 0.05})
    run = subprocess.Popen([CLI, "rollout", "--env", "PROD"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, start_new_session=True)
    seen: list[str] = []
    try:
        for line in run.stdout:  # the run's own log says when it waits to measure wave 1
            seen.append(line)
            if f"{model}-prod: analysing version" in line:
                break
    finally:
        os.killpg(run.pid, signal.SIGKILL)  # no finally, no atexit: the lease and wave 1 stay as they are
        run.communicate(timeout=60)
    assert any("analysing version" in line for line in seen), "".join(seen)
    assert active(pipeline, f"{model}-prod") == int(v2) and pipeline.aliases(model)["production"] != v2
    slept: list[float] = []

    _, result = apply_prod(pipeline, sleep=slept.append)

    assert result.exit_code == 0, [str(m.error) for m in result.models]
    assert slept == [3600.0, 3600.0]  # wave 1 measured again, then wave 2
    assert pipeline.aliases(model)["production"] == v2
    _, versions = pipeline.serving(f"{model}-prod")
    assert sorted(v.source.registered_model_version for v in versions) == [1, 2]  # not deployed twice
    assert set(json.loads(pipeline.tags(model, v2)["domino_mlops.PROD.analysis"])) == {
        f"{model}-prod", f"{model}-prod-prod-small"}
