"""The hand-made answers the client unit tests use are valid answers of Domino's published API."""

from __future__ import annotations

import pytest

from domino_emulator.contract import load_contract
from tests.support import domino_payloads as p

CONTRACT = load_contract()

CASES = [
    ("GET", "/api/modelServing/v1/modelApis/{}", 200, p.model_api(1, active=p.active_version(2))),
    ("GET", "/api/modelServing/v1/modelApis", 200, p.page([p.model_api(1), p.model_api(2, "other")], total=2)),
    ("GET", "/api/modelServing/v1/modelApis/{}/versions", 200, [p.version(2), p.version(3, number=2)]),
    ("POST", "/api/modelServing/v1/modelApis/{}/versions", 201, p.version(2, description="x [y]")),
    ("GET", "/api/modelServing/v1/modelApis/{}/versions/{}/buildLogs", 200, p.log_lines("a", "b")),
    ("GET", "/v4/models/{}/{}/getModelDeploymentStatus", 200, p.v4_status()),
    ("GET", "/api/hardwaretiers/v1/hardwaretiers", 200, p.public_tiers(p.public_tier(default=True))),
    ("GET", "/v4/projects/{}/hardwareTiers", 200, [p.v4_tier("small-k8s", "0" * 24, "local", default=True)]),
    ("GET", "/v4/projects/{}/useableEnvironments", 200,
     p.environments((p.ENV, "Standard", "Global"), selected=p.ENV)),
    ("POST", "/api/jobs/v1/jobs", 200, p.public_job()),
    ("GET", "/api/jobs/beta/jobs/{}/logs", 200, p.public_job_logs(("stdOut", "hello"))),
    ("POST", "/v4/jobs/stop", 200, p.v4_job()),
    ("GET", "/v4/modelProducts/{}", 200, p.app()),
    ("GET", "/v4/projects/{}", 200, p.project()),
    ("GET", "/v4/gateway/projects/findProjectByOwnerAndName", 200, p.gateway_project()),
    ("POST", "/models/{}/latest/model", 200, p.prediction([1.0], version="3")),
]


@pytest.mark.parametrize("method, path, status, payload", CASES, ids=[f"{m} {pa}" for m, pa, _, _ in CASES])
def test_each_hand_made_answer_is_valid(method, path, status, payload):
    route = CONTRACT.by_shape(method, path)
    assert route is not None
    assert CONTRACT.check_response(route, status, payload) == []
