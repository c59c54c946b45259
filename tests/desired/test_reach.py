"""Credential reach over environments.yaml shapes: which environments can write what a protected
one uses (a Domino project, or the MLflow registered models it marks)."""

from __future__ import annotations

from domino_mlops.desired.environments import Environment, Environments
from domino_mlops.desired.manifest import Manifest, ManifestEntry, VersionRef
from domino_mlops.desired.reach import reach_of, shared_with_protected

PROD = Environment("PROD", "production", "production", protected=True)
STAGE = Environment("STAGE", "staging", "staging")
DEV = Environment("DEV", "dev", "dev")


def manifest(*entries: tuple[str, str]) -> Manifest:
    return Manifest("scripts/model_version.json",
                    tuple(ManifestEntry(project, name, VersionRef(number=1)) for project, name in entries))


def environments(*items: Environment) -> Environments:
    return Environments("scripts/environments.yaml", items)


def test_the_shipped_shape_shares_project_and_models_with_production() -> None:
    (shared,) = shared_with_protected(STAGE, [environments(DEV, STAGE, PROD)], [manifest(("p1", "churn"))])
    assert (shared.protected, shared.projects, shared.models) == ("PROD", ("p1",), ("churn",))
    assert shared.describe() == "Domino project p1 and MLflow registered model churn (on $MLFLOW_TRACKING_URI)"


def test_a_protected_environment_does_not_share_reach_with_itself() -> None:
    assert shared_with_protected(PROD, [environments(STAGE, PROD)], [manifest(("p1", "churn"))]) == ()


def test_its_own_project_still_shares_the_registered_models() -> None:
    prod = Environment("PROD", "production", "production", protected=True, project_id="prod-project")
    (shared,) = shared_with_protected(STAGE, [environments(STAGE, prod)], [manifest(("p1", "churn"))])
    assert shared.projects == () and shared.models == ("churn",)


def test_an_environment_on_another_tracking_server_and_project_reaches_nothing_protected() -> None:
    prod = Environment("PROD", "production", "production", protected=True, project_id="prod-project",
                       tracking_uri_variable="MLFLOW_PROD_TRACKING_URI")
    assert shared_with_protected(STAGE, [environments(STAGE, prod)], [manifest(("p1", "churn"))]) == ()
    # ... unless both variables hold the same server (credentials in the URI do not make it another).
    environ = {"MLFLOW_TRACKING_URI": "https://mlflow.example", "MLFLOW_PROD_TRACKING_URI": "https://u:p@mlflow.example/"}
    (shared,) = shared_with_protected(STAGE, [environments(STAGE, prod)], [manifest(("p1", "churn"))], environ)
    assert shared.models == ("churn",) and shared.server == "mlflow.example"


def test_its_own_registered_model_and_project_separate_production() -> None:
    prod = Environment("PROD", "production", "production", protected=True, project_id="prod-project",
                       registered_model="{model}-prod")
    assert reach_of(prod, [manifest(("p1", "churn"))]).models == {("$MLFLOW_TRACKING_URI", "churn-prod")}
    assert shared_with_protected(STAGE, [environments(STAGE, prod)], [manifest(("p1", "churn"))]) == ()


def test_every_model_counts_not_only_those_listed_for_the_environment() -> None:
    only_prod = Manifest("m.json", (ManifestEntry("p1", "churn", VersionRef(number=1), environments=("PROD",)),))
    staging = Environment("STAGE", "staging", "staging", project_id="stage-project")
    (shared,) = shared_with_protected(staging, [environments(staging, PROD)], [only_prod])
    assert shared.models == ("churn",)  # a staging token can write churn, listed or not


def test_the_default_branchs_files_count_as_well_as_the_runs() -> None:
    # The branch dropped PROD's protection and moved its model to another project; main did neither.
    branch = environments(STAGE, Environment("PROD", "production", "production", protected=False))
    main = environments(STAGE, PROD)
    found = shared_with_protected(STAGE, [branch, main], [manifest(("p2", "other")), manifest(("p1", "churn"))])
    assert [s.protected for s in found] == ["PROD"] and found[0].projects == ("p1", "p2")


def test_jobs_and_apps_projects_are_reached_too() -> None:
    from domino_mlops.desired.workloads import AppSpec

    apps_only = Manifest("m.json", (), apps=(AppSpec("p9", "dash"),))
    (shared,) = shared_with_protected(DEV, [environments(DEV, PROD)], [apps_only])
    assert shared.projects == ("p9",) and shared.models == ()
