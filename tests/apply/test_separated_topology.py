"""The separated topology: PROD has its own Domino project and its own registered model
(environments.yaml `mlflow.registered_model: "{model}-prod"`); promotion copies the version that
passed STAGE into it, so nothing PROD serves is written with STAGE's credential. Real MLflow
server, the emulator over HTTP; the facade, and the CLI in-process for what it prints and outputs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domino_mlops import api
from domino_mlops.errors import GateRefused
from domino_emulator import Emulator
from domino_emulator.seed import OTHER_API_KEY, OTHER_PROJECT_ID, READER_API_KEY, default_seed
from domino_emulator.local.models import register_diabetes_model
from tests.apply.conftest import Pipeline, _workspace
from tests.apply.test_pipeline import entry, outputs


@pytest.fixture
def separated(tmp_path, mlflow_server, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    """A pipeline whose PROD serves from the other project, from registered model <model>-prod;
    both projects' Model APIs are public, so every smoke test really calls the model."""
    seed = default_seed()
    seed["model_api_access"] = [{"project": project, "model_api": "*", "public": True}
                                for project in (seed["default_project"], "other-user/other-project")]
    with Emulator(mlflow_uri=mlflow_server.uri, world=seed, deploy_seconds=0.2) as emu:
        pipeline = _workspace(tmp_path, mlflow_server.uri, emu, monkeypatch)
        environments = pipeline.root / "scripts" / "environments.yaml"
        environments.write_text(environments.read_text().replace(
            "      replicas: 2\n", f"      replicas: 2\n      project_id: \"{OTHER_PROJECT_ID}\"\n").replace(
            "      alias: production\n", "      alias: production\n      registered_model: \"{model}-prod\"\n"))
        yield pipeline


def with_prod_credential(pipeline: Pipeline) -> None:
    pipeline.monkeypatch.setenv("DOMINO_USER_API_KEY", OTHER_API_KEY)  # PROD's own Domino secret


def promote_with_prod_credential(pipeline: Pipeline) -> api.DeployOutcome:
    with_prod_credential(pipeline)
    return pipeline.deploy("promote")


def test_promotion_copies_the_passed_version_into_prods_own_model(separated, capsys) -> None:
    pipeline = separated
    model = pipeline.unique("sep")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest(entry(model, v1))
    assert pipeline.deploy().exit_code == 0
    dst = f"{model}-prod"
    # The plan job (read-only credentials) shows the copy it would make, and makes none.
    pipeline.monkeypatch.setenv("DOMINO_USER_API_KEY", READER_API_KEY)
    capsys.readouterr()
    assert pipeline.run("plan", "--env", "PROD") == 0
    assert f"copy {model} v{v1} (passed STAGE) -> {dst} v(new)" in capsys.readouterr().out
    assert pipeline.mlflow.search_registered_models(f"name='{dst}'") == []

    with_prod_credential(pipeline)  # the CLI: it prints the copy and outputs the Model API
    assert pipeline.run("promote", "--env", "PROD") == 0

    (copy,) = pipeline.mlflow.search_model_versions(f"name='{dst}'")
    source = pipeline.mlflow.get_model_version(model, v1)
    assert copy.source == f"models:/{model}/{v1}" and copy.run_id == source.run_id
    tags = pipeline.tags(dst, copy.version)
    assert tags["domino_mlops.source"] == f"{model}/{v1}"
    assert tags["domino_mlops.STAGE.status"] == "passed"  # the evidence travels with the copy
    assert tags["domino_mlops.PROD.status"] == "passed"
    assert pipeline.aliases(dst) == {"production": copy.version}
    assert "production" not in pipeline.aliases(model)  # STAGE's model is not written by PROD
    assert "domino_mlops.PROD.status" not in pipeline.tags(model, v1)
    assert pipeline.mlflow.get_model_version(dst, copy.version).current_stage == "Production"
    assert pipeline.mlflow.get_model_version(model, v1).current_stage == "Staging"
    # Domino serves the copy, from PROD's own project, named after the manifest's model; the
    # smoke test called it (the emulator loads the model from the copy's registry source).
    served = [a for a in pipeline.emu.world.model_apis.values() if a.name in (f"{model}-prod", f"{model}-prod-prod-small")]
    assert sorted(a.project_id for a in served) == [OTHER_PROJECT_ID, OTHER_PROJECT_ID]
    assert tags["DOMINO_MODEL_ID"] in {a.id for a in served}
    created = [r.body for r in pipeline.emu.requests if r.route == "POST /api/modelServing/v1/modelApis"
               and r.body["name"].startswith(f"{model}-prod")]
    assert {(b["version"]["source"]["registeredModelName"], b["version"]["source"]["registeredModelVersion"])
            for b in created} == {(dst, int(copy.version))}
    assert '"latency_ms"' in tags["domino_mlops.PROD.smoke"]
    printed = capsys.readouterr().out
    assert f"copy {model} v{v1} (passed STAGE) -> {dst} v(new)" in printed
    # The ledger records both: the destination version, and the source it was copied from.
    (prod,) = [e for e in pipeline.ledger(dst) if e["environment"] == "PROD"]
    assert (prod["to"], prod["source"], prod["project"]) == (copy.version, f"{model}/{v1}", OTHER_PROJECT_ID)
    assert outputs(pipeline)["model-api-id"] == tags["DOMINO_MODEL_ID"]

    # A re-run copies nothing and writes nothing.
    before = (pipeline.mlflow_state(dst), pipeline.mlflow_state(model))
    again = promote_with_prod_credential(pipeline)
    assert again.exit_code == 0 and again.result is None and again.nothing_to_do
    assert (pipeline.mlflow_state(dst), pipeline.mlflow_state(model)) == before
    assert len(pipeline.mlflow.search_model_versions(f"name='{dst}'")) == 1


def test_a_plan_after_a_copy_shows_it_done_and_a_crash_after_the_copy_reuses_it(separated, capsys) -> None:
    """The copy made, the rest not (a run stopped there): the plan shows "already copied", and
    the promotion deploys that copy instead of making a second."""
    from domino_mlops.apply.copy_version import copy_version
    from domino_mlops.clients.mlflow.registry import MlflowRegistry
    from domino_mlops.clients.mlflow.auth import MlflowCredentials
    from domino_mlops.plan.steps import CopyVersion

    pipeline = separated
    model = pipeline.unique("sep-crash")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest(entry(model, v1))
    assert pipeline.deploy().exit_code == 0
    registry = MlflowRegistry(MlflowCredentials(pipeline.mlflow_uri, "(none)"))
    made, wrote = copy_version(registry, CopyVersion(model, v1, f"{model}-prod", "STAGE"))
    again, wrote_again = copy_version(registry, CopyVersion(model, v1, f"{model}-prod", "STAGE"))
    assert wrote and not wrote_again and again.version == made.version
    pipeline.monkeypatch.setenv("DOMINO_USER_API_KEY", READER_API_KEY)
    capsys.readouterr()

    assert pipeline.run("plan", "--env", "PROD") == 0
    assert f"-> {model}-prod: already copied as v{made.version}" in capsys.readouterr().out
    assert promote_with_prod_credential(pipeline).exit_code == 0
    assert [v.version for v in pipeline.mlflow.search_model_versions(f"name='{model}-prod'")] == [made.version]
    assert pipeline.aliases(f"{model}-prod") == {"production": made.version}


def test_the_gate_refuses_before_anything_is_copied(separated) -> None:
    pipeline = separated
    model = pipeline.unique("sep-gate")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest(entry(model, v1))

    with pytest.raises(GateRefused, match="may not enter PROD") as refused:  # v1 never passed STAGE
        promote_with_prod_credential(pipeline)

    assert refused.value.exit_code == 3

    assert pipeline.mlflow.search_registered_models(f"name='{model}-prod'") == []
    assert pipeline.aliases(model) == {}
