"""Version-aware capabilities (issue 20, item 2): on a Domino whose documentation runs Model APIs
only in the local data plane (5.7), a wave on a remote data plane's tier is refused when the plan
is made (exit 2, nothing written); a current Domino deploys it. The emulator's `domino_version`
knob (seed) makes either, and the emulator refuses such a create itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from domino_mlops.clients.domino.serving import VersionOptions
from domino_mlops.clients.domino.serving_types import RegistrySource
from domino_emulator import Emulator
from domino_emulator.seed import default_seed
from domino_mlops.errors import DominoMlopsError
from domino_emulator.local.models import SAMPLE_PATIENT, register_diabetes_model
from tests.apply.conftest import Pipeline, _workspace

SMOKE = {"input": SAMPLE_PATIENT, "expect_shape": [1]}


def _emulator(mlflow_uri: str, version: str) -> Emulator:
    seed = default_seed()
    seed["domino_version"] = version
    seed["model_api_access"] = [{"project": seed["default_project"], "model_api": "*", "public": True}]
    return Emulator(mlflow_uri=mlflow_uri, world=seed, deploy_seconds=0.2)


@pytest.fixture(params=["5.7.2", "6.1.0"])
def versioned(request, tmp_path, mlflow_server, monkeypatch) -> Iterator[Pipeline]:
    with _emulator(mlflow_server.uri, request.param) as emu:
        pipeline = _workspace(tmp_path, mlflow_server.uri, emu, monkeypatch)
        # STAGE in two waves; the second on prod-small, a tier of the remote data plane prod-west.
        path = pipeline.root / "scripts" / "environments.yaml"
        path.write_text(path.read_text().replace(
            "      waves: [[small-k8s]]\n      # How often", "      waves: [[small-k8s], [prod-small]]\n      # How often", 1))
        yield pipeline


def test_a_remote_data_plane_wave_is_refused_at_plan_time_only_where_the_version_cannot(versioned, capsys) -> None:
    model = versioned.unique("planes")
    v1 = register_diabetes_model(versioned.mlflow_uri, model)
    versioned.manifest({"name": model, "version": int(v1), "smoke_test": SMOKE})
    before, writes = versioned.mlflow_state(model), versioned.emu.counters.writes()

    code = versioned.run("deploy", "--env", "STAGE")

    if versioned.emu.world.domino_version.startswith("5.7"):
        assert code == 2
        err = capsys.readouterr().err
        assert "Domino 5.7.2 cannot run the Model API of wave 2 of STAGE on hardware tier 'prod-small'" in err
        assert "data plane 'prod-west' is remote" in err and "docs.dominodatalab.com/en/5.7" in err
        # Refused before the first write: no lease, no Model API, no tag.
        assert versioned.emu.counters.writes() == writes and versioned.mlflow_state(model) == before
    else:
        assert code == 0
        api, (version,) = versioned.serving(f"{model}-stage-prod-small")
        assert api.hardware_tier_id == "prod-small" and version.status == "Running"
        assert versioned.aliases(model) == {"staging": v1}
    # One read of the version per run, however many projects and waves.
    assert sum(r.route == "GET /version" for r in versioned.emu.requests) == 1


def test_the_emulator_itself_refuses_a_model_api_on_a_remote_data_plane_under_5_7(mlflow_server) -> None:
    with _emulator(mlflow_server.uri, "5.7.2") as emu:
        pipeline = Pipeline(None, mlflow_server.uri, emu, None)  # type: ignore[arg-type]
        domino = pipeline.domino
        environment = domino.project_environments(emu.project_id).default()

        def create(tier: str) -> object:
            return domino.model_apis.create(
                project_id=emu.project_id, name=f"direct-{tier}", environment_id=environment.id,
                source=RegistrySource("any", 1), hardware_tier_id=tier, replicas=1, environment_variables={},
                description="", version=VersionOptions())

        with pytest.raises(DominoMlopsError, match="remote data plane 'prod-west'.*only in the local data plane"):
            create("prod-small")
        assert create("small-k8s") is not None  # the local data plane's tiers are fine
