"""The Domino side of planning, pure: which deploy action per tier, and when nothing is left."""

from __future__ import annotations

from dataclasses import replace

from domino_mlops.clients.domino.serving_types import (
    ActiveVersion,
    DeploymentStatus,
    ModelApi,
    ModelApiAccess,
    ModelApiVersion,
    RegistrySource,
    VersionSettings,
)
from domino_mlops.clients.mlflow.registry import ModelVersionInfo, RegisteredModelInfo
from domino_mlops.desired.environments import Environment, Environments, SmokeSettings
from domino_mlops.desired.manifest import ManifestEntry, VersionRef
from domino_mlops.observed.model_tokens import ModelTokens
from domino_mlops.observed.registry import ObservedModel
from domino_mlops.observed.serving import ServedModelApi, ServingSnapshot
from domino_mlops.desired.naming import model_api_name
from domino_mlops.plan.planner import plan_environment
from domino_mlops.plan.render import plan_to_dict, plan_to_markdown
from domino_mlops.plan.steps import DeployVersion, RecordLedger, SmokeTest

STAGE = Environment("STAGE", "staging", "staging", stage_mode="both", stage="Staging", waves=(("small",),))
PROD = Environment("PROD", "production", "production", stage_mode="both", stage="Production", requires="STAGE",
                   waves=(("medium",), ("west",)))
ENVS = Environments("envs.yaml", (STAGE, PROD))
DONE_TAGS = {"domino_mlops.STAGE.status": "passed"}


def mlflow_version(number: str, stage: str = "None", tags: dict | None = None) -> ModelVersionInfo:
    return ModelVersionInfo("churn", number, f"r{number}", "src", current_stage=stage,
                            tags=tuple(sorted((tags or {}).items())))


def observed(target: ModelVersionInfo, aliases: dict | None = None) -> tuple[ObservedModel, ...]:
    model = RegisteredModelInfo("churn", tuple(sorted((aliases or {}).items())), (target,))
    return (ObservedModel(ManifestEntry("p1", "churn", VersionRef(number=int(target.version))), model, target),)


OFF = VersionSettings(False, False, False)  # what STAGE (not production) records by default


def served(name: str, *versions: tuple[str, int, str], active: str | None = None, public: bool = False,
           settings: VersionSettings | None = OFF) -> tuple:
    items = tuple(ModelApiVersion(vid, "api-" + name, "p1", i + 1, RegistrySource("churn", number),
                                  deployment=DeploymentStatus(status), settings=settings)
                  for i, (vid, number, status) in enumerate(versions))
    api = ModelApi("api-" + name, name, active_version=ActiveVersion(active) if active else None,
                   access=ModelApiAccess(is_public=public))
    return (("p1", name), ServedModelApi(api, items))


def test_model_api_names_per_tier() -> None:
    assert model_api_name("churn", PROD, "medium") == "churn-prod"
    assert model_api_name("churn", PROD, "west") == "churn-prod-west"
    assert model_api_name("a b/c", STAGE, None) == "a-b-c-stage"


def test_nothing_served_yet_creates_a_model_api_per_tier_in_wave_order() -> None:
    plan = plan_environment(PROD, ENVS, observed(mlflow_version("2", tags=DONE_TAGS)), ServingSnapshot())
    deploys = plan.changes[0].deploys
    assert [(d.model_api_name, d.hardware_tier, d.wave, d.action) for d in deploys] == [
        ("churn-prod", "medium", 0, "create_model_api"), ("churn-prod-west", "west", 1, "create_model_api")]
    kinds = [type(s) for s in plan.changes[0].steps[:4]]
    assert kinds == [DeployVersion, SmokeTest, DeployVersion, SmokeTest]


def test_existing_model_api_gets_a_new_version_and_remembers_what_to_put_back() -> None:
    snapshot = ServingSnapshot((served("churn-stage", ("v1", 1, "Running"), active="v1"),))
    plan = plan_environment(STAGE, ENVS, observed(mlflow_version("2")), snapshot)
    (deploy,) = plan.changes[0].deploys
    assert (deploy.action, deploy.model_api_id, deploy.previous_version_id) == ("create_version", "api-churn-stage", "v1")


def test_an_older_built_version_is_restarted_not_rebuilt() -> None:
    snapshot = ServingSnapshot((served("churn-stage", ("v1", 1, "Stopped"), ("v2", 2, "Running"), active="v2"),))
    plan = plan_environment(STAGE, ENVS, observed(mlflow_version("1")), snapshot)
    (deploy,) = plan.changes[0].deploys
    assert (deploy.action, deploy.version_id, deploy.previous_version_id) == ("start_version", "v1", "v2")


def test_a_failed_build_is_neither_reused_nor_built_again_unless_asked() -> None:
    snapshot = ServingSnapshot((served("churn-stage", ("v1", 1, "Running"), ("v2", 2, "Failed"), active="v1"),))
    plan = plan_environment(STAGE, ENVS, observed(mlflow_version("2")), snapshot)
    (deploy,) = plan.changes[0].deploys
    assert (deploy.action, deploy.version_id) == ("failed_before", "v2")
    assert "not building again (version v2 failed to build)" in deploy.describe()
    retried = plan_environment(STAGE, ENVS, observed(mlflow_version("2")), snapshot, retry_failed=True)
    assert retried.changes[0].deploys[0].action == "create_version"


def test_finished_work_is_an_empty_plan() -> None:
    snapshot = ServingSnapshot((served("churn-stage", ("v1", 1, "Running"), active="v1"),))
    target = mlflow_version("1", stage="Staging", tags=DONE_TAGS)
    plan = plan_environment(STAGE, ENVS, observed(target, {"staging": "1"}), snapshot, ledger_last={"churn": "1"})
    assert plan.changed == ()


def test_a_missing_ledger_entry_is_the_only_step_left() -> None:
    snapshot = ServingSnapshot((served("churn-stage", ("v1", 1, "Running"), active="v1"),))
    target = mlflow_version("1", stage="Staging", tags=DONE_TAGS)
    plan = plan_environment(STAGE, ENVS, observed(target, {"staging": "1"}), snapshot, ledger_last={"churn": None})
    assert plan.changes[0].steps == (RecordLedger("STAGE", "churn", None, "1", "deploy"),)


def test_a_production_version_is_not_pulled_back_to_staging() -> None:
    snapshot = ServingSnapshot((served("churn-stage", ("v1", 1, "Running"), active="v1"),))
    target = mlflow_version("1", stage="Production", tags=DONE_TAGS)
    plan = plan_environment(STAGE, ENVS, observed(target, {"staging": "1"}), snapshot, ledger_last={"churn": "1"})
    assert plan.changed == ()


def test_a_version_recording_calls_otherwise_than_the_environment_wants_is_replaced() -> None:
    """Domino fixes prediction capture and monitoring per version: new settings, new version."""
    snapshot = ServingSnapshot((served("churn-stage", ("v1", 1, "Running"), active="v1"),))
    capture = replace(STAGE, model_api=VersionSettings(True, True, True))
    plan = plan_environment(capture, Environments("e", (capture, PROD)), observed(mlflow_version("1", tags=DONE_TAGS)),
                            snapshot, ledger_last={"churn": "1"})
    (deploy,) = plan.changes[0].deploys
    assert (deploy.action, deploy.previous_version_id) == ("create_version", "v1")
    assert "request logging on, monitoring on, invocation recording on" in plan_to_markdown(plan)
    assert plan_to_dict(plan)["changes"][0]["steps"][0]["settings"] == {
        "log_http_request_response": True, "monitoring_enabled": True, "record_invocation": True}


def test_the_smoke_test_says_how_it_will_call_the_model() -> None:
    snapshot = ServingSnapshot((served("churn-stage", ("v1", 1, "Running"), active="v1", public=True),))
    public = plan_environment(STAGE, ENVS, observed(mlflow_version("2")), snapshot)
    assert [s.access for s in public.changes[0].steps if isinstance(s, SmokeTest)] == ["public"]
    tokens = ModelTokens("DOMINO_MODEL_TOKENS", {"churn@west": "tok-SECRET-77"})
    prod = plan_environment(PROD, ENVS, observed(mlflow_version("2", tags=DONE_TAGS)), ServingSnapshot(), tokens=tokens)
    smoke = [s for s in prod.changes[0].steps if isinstance(s, SmokeTest)]
    assert [(s.access, s.token_source) for s in smoke] == [("none", None), ("token", "DOMINO_MODEL_TOKENS[churn@west]")]
    text = plan_to_markdown(prod)
    assert "skipped: no access token" in text and "with DOMINO_MODEL_TOKENS[churn@west]" in text
    assert "tok-SECRET-77" not in text + str(plan_to_dict(prod))  # the plan names the source, never the value
    off = replace(STAGE, smoke=SmokeSettings(enabled=False))
    disabled = plan_environment(off, Environments("e", (off, PROD)), observed(mlflow_version("2")), snapshot)
    assert [s.access for s in disabled.changes[0].steps if isinstance(s, SmokeTest)] == ["disabled"]
