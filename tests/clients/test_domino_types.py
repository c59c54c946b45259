"""Parsing Domino's answers: the contract's shapes in, frozen objects out, BadResponse otherwise."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domino_mlops.clients.domino_serving_types import (
    AccessToken,
    DeploymentStatus,
    EnvVar,
    ExportStatus,
    FileSource,
    ModelApi,
    ModelApiVersion,
    OtherSource,
    Prediction,
    PredictionRelease,
    RegistrySource,
)
from domino_mlops.clients.domino_types import (
    App,
    DominoVersion,
    HardwareTier,
    Job,
    JobLogs,
    Page,
    Project,
)
from domino_mlops.errors import BadResponse

EP = "GET /api/modelServing/v1/modelApis/m1"

MODEL_API = {
    "id": "m1", "name": "churn", "description": "", "environmentId": "env-1", "isArchived": False,
    "isAsync": False, "replicas": 2, "hardwareTierId": "small", "strictNodeAntiAffinity": False,
    "environmentVariables": [{"key": "MLFLOW_MODEL_NAME", "value": "churn"}], "collaborators": [],
    "metadata": {"created": 1, "createdBy": "alice"},
    "activeVersion": {"id": "v3", "number": 3, "dataPlaneId": "dp-eu",
                      "deployment": {"status": "Running", "isPending": False}},
}
VERSION = {
    "id": "v3", "number": 3, "modelApiId": "m1", "projectId": "p1", "dataPlaneId": "dp-eu",
    "source": {"type": "Registry", "registeredModelName": "churn", "registeredModelVersion": 7},
    "description": "", "labels": {"domino-mlops/request-id": "r-1", "team": "ml"},
    "metadata": {"created": 1700000000000, "createdBy": "alice"},
    "deployment": {"status": "Building", "isPending": True},
}
JOB = {"id": "j1", "number": 4, "projectId": "p1", "title": "smoke", "jobRunCommand": "python smoke.py",
       "statuses": {"isCompleted": True, "isArchived": False, "isScheduled": False, "executionStatus": "Succeeded"},
       "stageTime": {"submissionTime": 1}, "startedBy": {"id": "u1", "username": "alice"}}


def test_model_api_from_the_contract_example():
    api = ModelApi.from_api(MODEL_API, EP)
    assert api.id == "m1" and api.replicas == 2 and api.hardware_tier_id == "small"
    assert api.environment_variables == (EnvVar("MLFLOW_MODEL_NAME", "churn"),)
    assert api.active_version is not None
    assert api.active_version.data_plane_id == "dp-eu"
    assert api.active_version.deployment == DeploymentStatus("Running", False)
    assert api.active_version.deployment.is_running


def test_model_api_version_from_the_contract_example():
    version = ModelApiVersion.from_api(VERSION, EP)
    assert version.source == RegistrySource("churn", 7)
    assert version.label("domino-mlops/request-id") == "r-1"
    assert version.labels == (("domino-mlops/request-id", "r-1"), ("team", "ml"))
    assert version.status == "Building" and version.deployment.is_pending
    assert version.created_by == "alice" and version.number == 3


def test_sources_of_other_kinds_are_kept_not_refused():
    file_version = {**VERSION, "source": {"type": "File", "file": "model.py", "function": "predict"}}
    git_version = {**VERSION, "source": {"type": "Git"}}
    assert ModelApiVersion.from_api(file_version, EP).source == FileSource("model.py", "predict")
    assert ModelApiVersion.from_api(git_version, EP).source == OtherSource("Git")


def test_results_are_frozen_and_use_tuples():
    api = ModelApi.from_api(MODEL_API, EP)
    with pytest.raises(dataclasses.FrozenInstanceError):
        api.name = "other"  # type: ignore[misc]
    assert isinstance(api.environment_variables, tuple)
    hash(ModelApiVersion.from_api(VERSION, EP))  # hashable: can be put in sets and plans


def test_secret_values_are_hidden_from_repr():
    assert "tok-SECRET" not in repr(AccessToken("t1", "smoke", "tok-SECRET"))
    assert "pw-SECRET" not in repr(EnvVar("DB_PASSWORD", "pw-SECRET"))


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ([MODEL_API], "$ should be an object, got a list"),
        ({**MODEL_API, "id": None}, "$.id is null"),
        ({k: v for k, v in MODEL_API.items() if k != "id"}, "$.id is missing"),
        ({**MODEL_API, "replicas": "2"}, "$.replicas should be an integer, got a string"),
        ({**MODEL_API, "replicas": True}, "$.replicas should be an integer, got a boolean"),
        ({**MODEL_API, "environmentVariables": {"A": "b"}}, "$.environmentVariables should be a list"),
        ({**MODEL_API, "environmentVariables": [["A", "b"]]}, "$.environmentVariables[0] should be an object"),
        ({**MODEL_API, "activeVersion": {"id": "v", "deployment": {"status": 3}}},
         "$.activeVersion.deployment.status should be a string, got a number"),
    ],
)
def test_wrong_shapes_are_bad_responses_naming_endpoint_and_path(payload, problem):
    with pytest.raises(BadResponse) as caught:
        ModelApi.from_api(payload, EP)
    assert problem in str(caught.value)
    assert EP in str(caught.value)


def test_labels_must_map_strings_to_strings():
    with pytest.raises(BadResponse, match=r"\$.labels.team should be a string"):
        ModelApiVersion.from_api({**VERSION, "labels": {"team": 1}}, EP)


def test_registry_version_must_be_an_integer():
    bad = {**VERSION, "source": {"type": "Registry", "registeredModelName": "churn", "registeredModelVersion": "7"}}
    with pytest.raises(BadResponse, match=r"\$.source.registeredModelVersion should be an integer"):
        ModelApiVersion.from_api(bad, EP)


def test_hardware_tiers_from_both_routes_carry_their_data_plane():
    v4 = {"hardwareTier": {"id": "gpu", "name": "GPU", "hwtFlags": {"isDefault": False}, "centsPerMinute": 12,
                           "dataPlaneId": "dp-us", "dataPlaneName": "us-east"}}
    public = {"id": "gpu", "name": "GPU", "isDefault": False, "centsPerMinute": 12, "dataPlaneId": "dp-us",
              "dataPlaneName": "us-east"}
    expected = HardwareTier("gpu", "GPU", False, "dp-us", "us-east", 12.0)
    assert HardwareTier.from_v4(v4, EP) == expected == HardwareTier.from_api(public, EP)


def test_page_reads_items_and_metadata_and_names_item_paths():
    page = Page.from_api({"items": [MODEL_API], "metadata": {"offset": 0, "limit": 1, "totalCount": 3}}, EP,
                         ModelApi.from_api)
    assert (len(page.items), page.offset, page.limit, page.total_count) == (1, 0, 1, 3)
    with pytest.raises(BadResponse, match=r"\$.items\[1\].id is missing"):
        Page.from_api({"items": [MODEL_API, {"name": "x"}]}, EP, ModelApi.from_api)


def test_version_job_app_prediction_export_and_logs():
    assert DominoVersion.from_api({"version": "6.1.0-rc2", "buildId": "b"}, EP).at_least("4.1.0")
    assert not DominoVersion("4.0.9").at_least("4.1.0")
    assert Project.from_lookup({}, EP) is None
    assert Project.from_lookup({"id": "p1", "name": "churn", "ownerUsername": "alice"}, EP) == Project(
        "p1", "churn", "alice")
    job = Job.from_envelope({"job": JOB}, EP)
    assert job.succeeded and not job.failed and job.started_by == "alice" and job.command == "python smoke.py"
    assert App.from_api({"id": "a1", "name": "dash", "status": "Running"}, EP).is_running
    prediction = Prediction.from_api({"result": [0.3], "request_id": "r", "model_time_in_ms": 12,
                                      "release": {"harness_version": "0.1", "model_version_number": 3,
                                                  "registered_model_name": "churn",
                                                  "registered_model_version": 3}}, EP)
    assert prediction.result == [0.3] and prediction.model_time_ms == 12.0
    assert prediction.release == PredictionRelease("0.1", 3, "churn", 3)
    assert ExportStatus.from_api({"exportId": "e1", "status": "complete"}, EP).is_complete
    logs = JobLogs.from_api({"logContent": [{"logType": "stdout", "log": "a"},
                                            {"logType": "stderr", "log": "warn\n"},
                                            {"logType": "stdout", "log": "b\n"}]}, EP)
    assert logs.text() == "a\nb\n" and logs.text(None) == "a\nwarn\nb\n"


def test_a_prediction_without_result_is_bad_but_a_null_result_is_fine():
    assert Prediction.from_api({"result": None}, EP).result is None
    with pytest.raises(BadResponse, match=r"\$.result is missing"):
        Prediction.from_api({"request_id": "r"}, EP)


def test_deployment_statuses_read_case_insensitively():
    assert DeploymentStatus("not_running").is_stopped and DeploymentStatus("Stopped").is_stopped
    assert DeploymentStatus("Error").is_failed
    assert not DeploymentStatus("Running", is_pending=True).is_running


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["id", "name", "source", "type", "labels", "deployment", "status", "items",
                         "activeVersion", "environmentVariables", "key", "value", "result", "job"]),
        inner, max_size=5),
    max_leaves=15,
)
PARSERS = [ModelApi.from_api, ModelApiVersion.from_api, Job.from_envelope, JobLogs.from_api, App.from_api,
           Prediction.from_api, AccessToken.from_api, HardwareTier.from_v4, DominoVersion.from_api]


@settings(max_examples=100, deadline=None)
@given(payload=JSON, parser=st.sampled_from(PARSERS))
def test_any_json_gives_an_object_or_bad_response_never_a_traceback(payload, parser):
    try:
        parser(payload, EP)
    except BadResponse as exc:
        assert EP in str(exc)
