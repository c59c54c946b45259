"""The emulator's model metrics (emulator/metrics.py): counted per version, per minute and per
status from the calls it answered; a range keeps the recent minutes; usage moves with load; the
fault plan's share of 500s falls on the same calls every time."""

from __future__ import annotations

from domino_emulator import metrics
from domino_emulator import records as r
from domino_emulator.faults import FaultPlan

T0 = 1_700_000_040.0  # a minute boundary


def version() -> r.ModelVersion:
    return r.ModelVersion(id="v" * 24, model_api_id="m" * 24, project_id="p", number=1,
                          source={"registeredModelName": "churn", "registeredModelVersion": 2}, description="",
                          created=T0, created_by="u", log_http_request_response=False, monitoring_enabled=False,
                          record_invocation=False, data_plane_id="d", seconds=0.0, build_started=T0,
                          deploy_started=T0)


def test_requests_are_counted_per_minute_and_status_and_a_range_keeps_the_recent_ones() -> None:
    v = version()
    for when, status in ((T0 + 1, 200), (T0 + 2, 200), (T0 + 3, 500), (T0 + 61, 400), (T0 + 601, 200)):
        metrics.record(v, when, status)
    now = T0 + 610
    everything = metrics.http_requests(v, now, 60, 256)["snapshots"]
    assert [(s["status"], s["requestCount"]) for s in everything] == [(200, 2), (500, 1), (400, 1), (200, 1)]
    assert everything[0]["timestamp"].endswith(":00.000Z")
    # 8 minutes back reach T0+130: a minute counts when it overlaps the range, so only that of T0+601.
    recent = metrics.http_requests(v, now, 8, 256)["snapshots"]
    assert [(s["status"], s["requestCount"]) for s in recent] == [(200, 1)]
    assert len(metrics.http_requests(v, now, 60, 2)["snapshots"]) == 2  # limit: the newest


def test_usage_moves_with_load_per_pod_and_the_memory_knob_inflates_it() -> None:
    v = version()
    for _ in range(100):
        metrics.record(v, T0 + 5, 200)
    busy, idle = metrics.usage(v, 2, 1.0, T0 + 70, 256)["snapshots"][:2], \
        metrics.usage(v, 2, 1.0, T0 + 70, 256)["snapshots"][2:]
    assert {s["pod"] for s in busy} == {f"model-{v.id}-0", f"model-{v.id}-1"}
    assert busy[0]["cpu"] > idle[0]["cpu"] and busy[0]["memory"] > idle[0]["memory"]
    inflated = metrics.usage(v, 2, 4.0, T0 + 70, 256)["snapshots"]
    assert inflated[0]["memory"] == round(busy[0]["memory"] * 4, 4)


def test_a_share_of_failures_falls_evenly_and_the_first_call_answers() -> None:
    plan = FaultPlan.parse({"model_error_share": {"churn/2": 0.25}, "model_memory_factor": {"churn/2": 3}})
    share = plan.error_share(metrics.source_key(version()))
    assert [metrics.should_fail(share, n) for n in range(8)] == [False, False, False, True] * 2
    assert plan.memory_factor("churn/2") == 3 and plan.memory_factor("other/1") == 1.0
    assert FaultPlan.parse(plan.to_dict()) == plan  # GET /_emulator/faults gives back what PUT reads
