"""Parsing Domino's answers: the published shapes in, frozen objects out, BadResponse otherwise.

The payloads come from tests/support/domino_payloads.py, each valid against the contract;
test_parsers_accept_the_contract.py feeds the parsers every shape the schemas allow.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domino_mlops.clients.domino.serving_types import (
    AccessTokenInfo,
    DeploymentStatus,
    EnvVar,
    ExportLogs,
    ExportStatus,
    FileSource,
    ModelApi,
    ModelApiAccess,
    ModelApiVersion,
    OtherSource,
    Prediction,
    PredictionRelease,
    RegistrySource,
    VersionLogs,
    VersionSettings,
    request_marker,
)
from domino_mlops.clients.domino.app_types import App
from domino_mlops.clients.domino.job_types import Job, JobLogs
from domino_mlops.clients.domino.types import (
    HardwareTier,
    Page,
    Project,
    ProjectEnvironments,
)
from domino_mlops.errors import BadResponse
from tests.support import domino_payloads as p

EP = "GET /api/modelServing/v1/modelApis/m1"
MODEL_API = p.model_api(1, active=p.active_version(3, number=3))
VERSION = p.version(3, number=3, registered_version=7, settings=(True, False, True),
                    description=f"churn v7 {request_marker('0f8e1ab2-1111-4222-8333-944455556666')}")


def test_model_api_from_the_published_shape():
    api = ModelApi.from_api(MODEL_API, EP)
    assert api.id == p.oid(1) and api.replicas == 1 and api.hardware_tier_id == "small-k8s"
    assert api.environment_variables == (EnvVar("MLFLOW_MODEL_NAME", "churn"),)
    assert api.active_version is not None and api.active_version.number == 3
    assert api.active_version.deployment == DeploymentStatus("Running", False)
    assert api.access == ModelApiAccess(False, (AccessTokenInfo(p.oid(900), "ci", p.USER),))
    assert ModelApi.from_api(p.model_api(2, public=True), EP).access.is_public


def test_model_api_version_from_the_published_shape():
    version = ModelApiVersion.from_api(VERSION, EP)
    assert version.source == RegistrySource("churn", 7)
    assert version.labels == () and version.number == 3 and version.created_by == p.USER
    assert version.settings == VersionSettings(True, False, True)
    assert version.request_id == "0f8e1ab2-1111-4222-8333-944455556666"
    assert ModelApiVersion.from_api(p.version(4, labels=["team:ml"]), EP).labels == ("team:ml",)
    assert ModelApiVersion.from_api(p.version(4), EP).request_id is None


def test_sources_of_other_kinds_or_incomplete_are_kept_not_refused():
    file_version = {**VERSION, "source": {"type": "File", "file": "model.py", "function": "predict"}}
    git_version = {**VERSION, "source": {"type": "Git"}}
    bare_registry = {**VERSION, "source": {"type": "Registry"}}  # both names are optional in the schema
    assert ModelApiVersion.from_api(file_version, EP).source == FileSource("model.py", "predict")
    assert ModelApiVersion.from_api(git_version, EP).source == OtherSource("Git")
    assert ModelApiVersion.from_api(bare_registry, EP).source == OtherSource("Registry")


def test_a_registry_version_number_may_arrive_as_digits():
    digits = {**VERSION, "source": {"type": "Registry", "registeredModelName": "churn", "registeredModelVersion": "7"}}
    assert ModelApiVersion.from_api(digits, EP).source == RegistrySource("churn", 7)
    words = {**VERSION, "source": {"type": "Registry", "registeredModelName": "churn", "registeredModelVersion": "x"}}
    with pytest.raises(BadResponse, match=r"registeredModelVersion should be a version number"):
        ModelApiVersion.from_api(words, EP)


def test_results_are_frozen_and_use_tuples():
    api = ModelApi.from_api(MODEL_API, EP)
    with pytest.raises(dataclasses.FrozenInstanceError):
        api.name = "other"  # type: ignore[misc]
    assert isinstance(api.environment_variables, tuple)
    hash(ModelApiVersion.from_api(VERSION, EP))  # hashable: can be put in sets and plans


def test_secret_values_are_hidden_from_repr():
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
        ({**MODEL_API, "access": {"isPublic": "yes"}}, "$.access.isPublic should be a boolean"),
    ],
)
def test_wrong_shapes_are_bad_responses_naming_endpoint_and_path(payload, problem):
    with pytest.raises(BadResponse) as caught:
        ModelApi.from_api(payload, EP)
    assert problem in str(caught.value)
    assert EP in str(caught.value)


def test_labels_are_a_list_of_strings():
    with pytest.raises(BadResponse, match=r"\$.labels\[0\] should be a string"):
        ModelApiVersion.from_api({**VERSION, "labels": [1]}, EP)
    with pytest.raises(BadResponse, match=r"\$.labels should be a list"):
        ModelApiVersion.from_api({**VERSION, "labels": {"team": "ml"}}, EP)  # the shape we once guessed


def test_hardware_tiers_from_both_routes_carry_their_data_plane():
    v4 = p.v4_tier("gpu", "dp-us", "us-east")
    public = p.public_tier("gpu", data_plane="dp-us")
    assert HardwareTier.from_v4(v4, EP) == HardwareTier("gpu", "Gpu", False, "dp-us", "us-east", 1.0, False)
    # dataPlane.isLocal (required in the v4 DataPlaneDto) says which tiers run in the control plane.
    assert HardwareTier.from_v4(p.v4_tier("cpu", "000000000000000000000000", "local"), EP).data_plane_is_local
    assert HardwareTier.from_api(public, EP) == HardwareTier("gpu", "Gpu", False, "dp-us", None, 1.0)
    assert HardwareTier.from_api(p.public_tier(default=True), EP).is_default  # flags.isDefault
    assert HardwareTier.from_api(p.public_tier(), EP).data_plane_id is None  # optional: no Nexus


def test_project_environments_default_to_the_selected_then_a_global_one():
    chosen = ProjectEnvironments.from_api(p.environments(("e1", "Private one", "Private"), ("e2", "Std", "Global"),
                                                         selected="e1"), EP)
    assert chosen.default().id == "e1"
    unselected = ProjectEnvironments.from_api(p.environments(("e1", "Mine", "Private"), ("e2", "Std", "Global")), EP)
    assert unselected.default().id == "e2"
    assert ProjectEnvironments.from_api({"environments": []}, EP).default() is None


def test_page_reads_items_and_flat_metadata_and_names_item_paths():
    page = Page.from_api(p.page([MODEL_API], limit=1, total=3), EP, ModelApi.from_api)
    assert (len(page.items), page.offset, page.limit, page.total_count) == (1, 0, 1, 3)
    with pytest.raises(BadResponse, match=r"\$.items\[1\].id is missing"):
        Page.from_api({"items": [MODEL_API, {"name": "x"}]}, EP, ModelApi.from_api)
    assert Page.from_api([VERSION], EP, ModelApiVersion.from_api).total_count is None  # a bare list


def test_projects_jobs_apps_and_logs():
    assert Project.from_api(p.project(), EP) == Project(p.PROJECT, "demo-project", "demo-user")
    assert Project.from_gateway(p.gateway_project(), EP) == Project(p.PROJECT, "demo-project", "demo-user")
    job = Job.from_envelope(p.public_job(status="Succeeded"), EP)
    assert job.succeeded and not job.failed and job.command == "python train.py" and job.started_by == p.USER
    assert Job.from_envelope(p.public_job(status="Failed"), EP).failed
    stopped = Job.from_v4(p.v4_job(status="Stopped"), EP)
    assert stopped.status == "Stopped" and stopped.project_id == p.PROJECT and stopped.started_by == "alice"
    assert App.from_api(p.app(status="Running"), EP).is_running
    logs = JobLogs.from_api(p.public_job_logs(("stdOut", "a"), ("stdErr", "warn\n"), ("stdOut", "b\n")), EP)
    assert logs.text() == "a\nb\n" and logs.text(None) == "a\nwarn\nb\n" and logs.is_complete


def test_version_logs_keep_the_lines_and_give_their_tail():
    logs = VersionLogs.from_api(p.log_lines("Fetching", "", "ERROR cannot load\n"), EP)
    assert logs.status == "Failed" and logs.tail(2) == ("Fetching", "ERROR cannot load")


def test_v4_model_manager_answers_are_one_object_or_a_list_of_one():
    assert DeploymentStatus.from_v4(p.v4_status("Running"), EP).is_running
    assert DeploymentStatus.from_v4([p.v4_status("not_running")], EP).is_stopped
    with pytest.raises(BadResponse, match="one answer, got a list of 0"):
        DeploymentStatus.from_v4([], EP)
    assert ExportStatus.from_api({"exportId": "e1", "status": "complete"}, EP).is_complete
    assert ExportStatus.from_api([{"exportId": "e1", "modelId": "m", "modelVersionId": "v", "status": "failed",
                                   "errorMessage": "denied"}], EP).error_message == "denied"
    assert ExportLogs.from_api({"exportId": "e1", "modelId": "m", "modelVersionId": "v", "status": "complete",
                                "logs": "pushed"}, EP).text == "pushed"


def test_a_prediction_release_may_carry_digit_strings_and_extra_fields():
    prediction = Prediction.from_api({**p.prediction([0.3], version="3"), "timing": {"total_ms": 5}}, EP)
    assert prediction.result == [0.3] and prediction.model_time_ms == 4.0
    assert prediction.release == PredictionRelease("0.1", 1, "churn", 3)


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
                         "activeVersion", "environmentVariables", "key", "value", "result", "job", "logs",
                         "access", "hardwareTier", "environments", "statuses", "flags"]),
        inner, max_size=5),
    max_leaves=15,
)
PARSERS = [ModelApi.from_api, ModelApiVersion.from_api, Job.from_envelope, Job.from_v4, JobLogs.from_api,
           App.from_api, Prediction.from_api, HardwareTier.from_v4, HardwareTier.from_api, VersionLogs.from_api,
           ProjectEnvironments.from_api, DeploymentStatus.from_v4, ExportStatus.from_api]


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(payload=JSON, parser=st.sampled_from(PARSERS))
def test_any_json_gives_an_object_or_bad_response_never_a_traceback(payload, parser):
    try:
        parser(payload, EP)
    except BadResponse as exc:
        assert EP in str(exc)
