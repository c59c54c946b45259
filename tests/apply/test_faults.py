"""Deploys under transient faults: the CLI against the Domino emulator with seeded faults."""

from __future__ import annotations

import json

from domino_mlops.local.models import SAMPLE_PATIENT, register_diabetes_model

SMOKE = {"input": SAMPLE_PATIENT, "expect_shape": [1]}
MODEL_ROUTE = "POST /models/{modelId}/latest/model"


def entry(model: str, version: str) -> dict:
    return {"name": model, "version": int(version), "smoke_test": SMOKE}


def test_a_rate_limited_smoke_call_is_retried_and_timed_on_the_attempt_that_answered(pipeline) -> None:
    model = pipeline.unique("smoke-429")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest(entry(model, v1))
    # The model's first three calls are answered 429 with Retry-After: 1 s. Three seconds of
    # waiting: more than the whole call may take in STAGE (max_latency_ms: 2000).
    pipeline.emu.set_faults(seed=1, prefix="/models/", methods=["POST"], rate_429=1.0, limit=3, retry_after=1)

    assert pipeline.run("deploy", "--env", "STAGE") == 0

    assert [r.status for r in pipeline.emu.requests if r.route == MODEL_ROUTE] == [429, 429, 429, 200]
    assert pipeline.aliases(model) == {"staging": v1}
    smoke = json.loads(pipeline.tags(model, v1)["domino_mlops.STAGE.smoke"])[f"{model}-stage"]
    assert smoke["latency_ms"] < 1000  # the answer's own time, not the retries'
