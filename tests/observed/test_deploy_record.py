"""A deploy's record in MLflow, read back by the plan: only our shape counts, anything else is
ignored (the plan then lists the Model API's versions, as without a record)."""

from __future__ import annotations

import json

import pytest

from domino_mlops.clients.domino.serving_types import (
    ActiveVersion,
    DeploymentStatus,
    ModelApi,
    RegistrySource,
    VersionSettings,
)
from domino_mlops.observed.deploy_record import KnownServing, RecordedVersion, decode, encode, record_tag
from domino_mlops.observed.serving import _as_recorded, choose

PROD = VersionSettings(True, True, True)


def test_a_record_round_trips_per_data_plane() -> None:
    records = (RecordedVersion("medium-k8s", "api1", "v1", PROD), RecordedVersion(None, "api2", "v2", VersionSettings()))
    assert decode({record_tag("PROD"): encode(records)}, "PROD") == records
    assert decode({record_tag("PROD"): encode(records)}, "STAGE") == ()  # another environment's


@pytest.mark.parametrize("value", [
    "not json", "{}", "[1]", json.dumps([{"tier": "t", "model_api_id": "a", "version_id": "v"}]),  # no settings
    json.dumps([{"tier": "t", "model_api_id": "", "version_id": "v", "settings": {}}]),
    json.dumps([{"tier": 3, "model_api_id": "a", "version_id": "v", "settings": {
        "log_http_request_response": True, "monitoring_enabled": True, "record_invocation": True}}]),
    json.dumps([{"tier": "t", "model_api_id": "a", "version_id": "v", "settings": {
        "log_http_request_response": "yes", "monitoring_enabled": True, "record_invocation": True}}]),
])
def test_anything_but_our_shape_is_no_record(value: str) -> None:
    assert decode({record_tag("PROD"): value}, "PROD") == ()


def _api(active: str, status: str = "Running", pending: bool = False) -> ModelApi:
    return ModelApi("api1", "churn-prod", active_version=ActiveVersion(active, 3, "dp", DeploymentStatus(status, pending)))


KNOWN = KnownServing("api1", "v1", RegistrySource("churn", 7), PROD)


def test_the_record_stands_in_for_the_versions_only_while_that_version_is_active_and_running() -> None:
    version = _as_recorded(_api("v1"), "p", KNOWN)
    assert version is not None and version.source == RegistrySource("churn", 7) and version.settings == PROD
    assert version.number == 3 and version.project_id == "p"
    for api in (_api("v2"), _api("v1", "Stopped"), _api("v1", "Running", pending=True), _api("v1", "Failed")):
        assert _as_recorded(api, "p", KNOWN) is None
    assert _as_recorded(_api("v1"), "p", KnownServing("other-api", "v1", RegistrySource("churn", 7), PROD)) is None
    assert _as_recorded(_api("v1"), "p", None) is None


def test_a_recorded_version_decides_nothing_to_do() -> None:
    from domino_mlops.observed.serving import ServedModelApi

    api = _api("v1")
    served = ServedModelApi(api, (_as_recorded(api, "p", KNOWN),))
    assert choose(served, RegistrySource("churn", 7), PROD).action == "none"
