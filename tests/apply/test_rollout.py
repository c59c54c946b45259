"""`domino-mlops rollout`: one version DEV -> STAGE -> PROD, each environment wave by wave (data
planes as hardware tiers), an optional bake between waves with a smoke test at its end, and a
failed wave putting back every data plane the run changed in that environment, alias untouched.

Against a real MLflow server and the Domino emulator over HTTP; the emulator's fault plan makes
one hardware tier's builds fail (``failing_tiers``), which is what a later wave meets while the
earlier ones are fine.
"""

from __future__ import annotations

from domino_mlops import api
from domino_mlops.connections import Connections
from domino_mlops.desired.load import read_desired
from domino_emulator.local.models import SAMPLE_PATIENT, register_broken_model, register_diabetes_model
from tests.apply.conftest import events_to

SMOKE = {"input": SAMPLE_PATIENT, "expect_shape": [1]}


def entry(model: str, version: str) -> dict:
    return {"name": model, "version": int(version), "smoke_test": SMOKE}


def active(pipeline, model_api_name: str) -> int | None:
    """The registry version a Model API's active version serves (None: not there)."""
    found = pipeline.domino.model_apis.find(pipeline.project_id, model_api_name)
    if found is None or found.active_version is None:
        return None
    versions = {v.id: v for v in pipeline.domino.model_apis.list_versions(found.id)}
    return versions[found.active_version.id].source.registered_model_version


def roll_through(pipeline, *environments: str) -> None:
    for name in environments:
        assert pipeline.deploy("rollout", name).exit_code == 0, name


def test_one_version_goes_dev_stage_prod_wave_by_wave(pipeline) -> None:
    model = pipeline.unique("rollout")
    version = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest(entry(model, version))

    roll_through(pipeline, "DEV", "STAGE")
    assert pipeline.run("rollout", "--env", "PROD") == 0  # the CLI: its step summary draws the waves

    assert pipeline.aliases(model) == {"dev": version, "staging": version, "production": version}
    assert active(pipeline, f"{model}-prod") == int(version)  # wave 1: medium-k8s
    assert active(pipeline, f"{model}-prod-prod-small") == int(version)  # wave 2: prod-small
    assert [(e["environment"], e["action"]) for e in pipeline.ledger(model)] == [
        ("DEV", "rollout"), ("STAGE", "rollout"), ("PROD", "rollout")]
    summary = (pipeline.root / "summary.md").read_text()
    planes = summary[summary.rindex("#### Data planes"):]
    assert "| 1 | medium-k8s (`" in planes and "| 2 | prod-small (`" in planes
    assert planes.count(":white_check_mark: serving") == 2
    # Ordered data planes: wave 2 was not started before wave 1 ran and passed its smoke test.
    created = [r.body["name"] for r in pipeline.emu.requests if r.route == "POST /api/modelServing/v1/modelApis"]
    assert created[-2:] == [f"{model}-prod", f"{model}-prod-prod-small"]


def upgraded(pipeline, stem: str) -> tuple[str, str, str]:
    """A model at v1 in every environment, and its v2 through DEV and STAGE: PROD's next step."""
    model = pipeline.unique(stem)
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest(entry(model, v1))
    roll_through(pipeline, "DEV", "STAGE", "PROD")
    v2 = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest(entry(model, v2))
    roll_through(pipeline, "DEV", "STAGE")
    return model, v1, v2


def test_a_failed_second_wave_puts_back_the_first_and_leaves_the_alias(pipeline) -> None:
    model, v1, v2 = upgraded(pipeline, "wave-fault")
    pipeline.emu.set_faults({"failing_tiers": ["prod-small"]})  # the second wave's data plane
    events: list[str] = []

    outcome = pipeline.deploy("rollout", reporter=events_to(lambda subject, message: events.append(message)))

    assert outcome.exit_code == 1

    assert active(pipeline, f"{model}-prod") == int(v1)  # wave 1 put back
    assert active(pipeline, f"{model}-prod-prod-small") == int(v1)  # wave 2 never took over
    assert pipeline.aliases(model)["production"] == v1
    assert [e["to"] for e in pipeline.ledger(model) if e["environment"] == "PROD"] == [v1]
    assert any(e.startswith(f"{model}-prod: previous version") and "is serving again" in e for e in events)
    (result,) = [m for m in outcome.result.models if m.model == model]
    planes = [(p.status, p.note) for p in result.data_planes]
    assert [status for status, _ in planes] == ["put back", "put back"], planes
    assert not any("cannot run this version" in note for _, note in planes)


def test_a_rollout_moves_the_environment_as_one(pipeline) -> None:
    """Two models; one cannot be loaded. promote lets the good one through; rollout puts it back."""
    good, bad = pipeline.unique("as-one-good"), pipeline.unique("as-one-bad")
    pipeline.manifest(entry(good, register_diabetes_model(pipeline.mlflow_uri, good)),
                      entry(bad, register_diabetes_model(pipeline.mlflow_uri, bad)))
    roll_through(pipeline, "DEV", "STAGE", "PROD")
    versions = {good: register_diabetes_model(pipeline.mlflow_uri, good),
                bad: register_broken_model(pipeline.mlflow_uri, bad)}
    pipeline.manifest(*(entry(m, v) for m, v in versions.items()))
    for name in ("DEV", "STAGE"):
        pipeline.deploy("deploy", name, model=good)  # only the good one passes STAGE
        pipeline.mlflow.set_model_version_tag(bad, versions[bad], f"domino_mlops.{name}.status", "passed")

    outcome = pipeline.deploy("rollout")

    assert outcome.exit_code == 1
    assert pipeline.aliases(good)["production"] == "1" and pipeline.aliases(bad)["production"] == "1"
    assert active(pipeline, f"{good}-prod") == 1  # put back although it passed its own smoke test
    errors = {m.model: str(m.error) for m in outcome.result.models}
    assert f"{good} was put back: {bad} failed in PROD" in errors[good]

    assert pipeline.deploy("promote").exit_code == 1  # per model: the good one goes on
    assert pipeline.aliases(good)["production"] == versions[good]
    assert pipeline.aliases(bad)["production"] == "1"


def test_the_bake_smoke_tests_a_wave_again_before_the_next(pipeline) -> None:
    """The end of the bake finds wave 1 no longer answering: wave 2 never starts, wave 1 goes back."""
    model, v1, v2 = upgraded(pipeline, "bake")
    environments = pipeline.root / "scripts" / "environments.yaml"
    environments.write_text(environments.read_text().replace(
        "      replicas: 2\n", "      replicas: 2\n      bake_seconds: 30\n").replace(
        "      timeout_seconds: 60\n", "      timeout_seconds: 1\n"))
    desired = read_desired("scripts/model_version.json", str(environments))
    baked: list[float] = []

    def bake(seconds: float) -> None:  # the bake's clock: meanwhile wave 1 stops answering
        baked.append(seconds)
        wave_one = pipeline.domino.model_apis.find(pipeline.project_id, f"{model}-prod")
        pipeline.domino.deployments.stop(wave_one.id, wave_one.active_version.id)

    with Connections() as connections:
        result = api.rollout(api.DeployRequest("PROD", approval=api.LocalApproval("tester"), sleep=bake), desired,
                             connections).result

    assert baked == [30.0] and result.exit_code == 1
    (outcome,) = [m for m in result.models if m.model == model]
    assert "smoke" in str(outcome.error).lower() or "503" in str(outcome.error)
    assert {p.model_api_name: p.status for p in outcome.data_planes} == {
        f"{model}-prod": "put back", f"{model}-prod-prod-small": "not reached"}
    assert active(pipeline, f"{model}-prod") == int(v1)
    assert pipeline.domino.model_apis.find(pipeline.project_id, f"{model}-prod-prod-small").active_version is not None
    assert active(pipeline, f"{model}-prod-prod-small") == int(v1)
    assert pipeline.aliases(model)["production"] == v1


def test_a_bake_that_passes_smoke_tests_each_wave_again(pipeline) -> None:
    model = pipeline.unique("bake-ok")
    pipeline.manifest(entry(model, register_diabetes_model(pipeline.mlflow_uri, model)))
    roll_through(pipeline, "DEV", "STAGE")
    environments = pipeline.root / "scripts" / "environments.yaml"
    environments.write_text(environments.read_text().replace("      replicas: 2\n",
                                                             "      replicas: 2\n      bake_seconds: 0.1\n"))
    calls_before = len([r for r in pipeline.emu.requests if (r.route or "").endswith("/latest/model")])

    assert pipeline.deploy("rollout").exit_code == 0

    calls = [r.path for r in pipeline.emu.requests if (r.route or "").endswith("/latest/model")][calls_before:]
    wave_one = pipeline.domino.model_apis.find(pipeline.project_id, f"{model}-prod").id
    assert sum(wave_one in path for path in calls) == 2 and len(calls) == 3  # wave 1 twice, wave 2 once


def test_an_environment_served_from_its_own_project_with_its_own_credential(pipeline) -> None:
    """PROD serves from another Domino project (environments.yaml domino.project_id) with the
    credential its GitHub environment holds; the model is still read and marked in MLflow with
    the manifest project's token."""
    from domino_emulator.seed import OTHER_API_KEY, OTHER_PROJECT_ID

    model = pipeline.unique("own-project")
    version = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest(entry(model, version))
    roll_through(pipeline, "DEV", "STAGE")
    environments = pipeline.root / "scripts" / "environments.yaml"
    environments.write_text(environments.read_text().replace(
        "      replicas: 2\n", f"      replicas: 2\n      project_id: \"{OTHER_PROJECT_ID}\"\n"))
    pipeline.monkeypatch.setenv("DOMINO_USER_API_KEY", OTHER_API_KEY)  # PROD's own secret

    assert pipeline.deploy("rollout").exit_code == 0

    for name in (f"{model}-prod", f"{model}-prod-prod-small"):
        assert pipeline.domino.model_apis.find(pipeline.project_id, name) is None
        served = pipeline.emu.world.model_apis.values()
        assert [a.project_id for a in served if a.name == name] == [OTHER_PROJECT_ID]
    assert pipeline.aliases(model)["production"] == version
    (prod,) = [e for e in pipeline.ledger(model) if e["environment"] == "PROD"]
    assert prod["project"] == OTHER_PROJECT_ID
