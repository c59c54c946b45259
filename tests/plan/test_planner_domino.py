"""The Domino side of planning, pure: which deploy action per tier, and when nothing is left."""

from __future__ import annotations

from domino_mlops.clients.domino_serving_types import ActiveVersion, DeploymentStatus, ModelApi, ModelApiVersion, RegistrySource
from domino_mlops.clients.mlflow import ModelVersionInfo, RegisteredModelInfo
from domino_mlops.desired.environments import Environment, Environments
from domino_mlops.desired.manifest import ManifestEntry, VersionRef
from domino_mlops.observed.registry import ObservedModel
from domino_mlops.observed.serving import ServedModelApi, ServingSnapshot
from domino_mlops.plan.naming import model_api_name
from domino_mlops.plan.planner import plan_environment
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


def served(name: str, *versions: tuple[str, int, str], active: str | None = None) -> tuple:
    items = tuple(ModelApiVersion(vid, "api-" + name, "p1", i + 1, RegistrySource("churn", number),
                                  deployment=DeploymentStatus(status))
                  for i, (vid, number, status) in enumerate(versions))
    api = ModelApi("api-" + name, name, active_version=ActiveVersion(active) if active else None)
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


def test_a_failed_version_is_not_reused() -> None:
    snapshot = ServingSnapshot((served("churn-stage", ("v1", 1, "Running"), ("v2", 2, "Failed"), active="v1"),))
    plan = plan_environment(STAGE, ENVS, observed(mlflow_version("2")), snapshot)
    assert plan.changes[0].deploys[0].action == "create_version"


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
