"""Drift the plan must not ignore: an environment's waves moving a Model API to another tier, a
manifest's replicas, and tiers Domino does not have. The facade (domino_mlops.api) against a
real MLflow server and the Domino emulator over real HTTP; the emulator's write counter proves
re-runs idle. The CLI stays for what it prints: the plan a reviewer reads, the error line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from domino_mlops.errors import UnknownHardwareTier
from domino_emulator.local.models import SAMPLE_PATIENT, register_diabetes_model

SMOKE = {"input": SAMPLE_PATIENT, "expect_shape": [1]}
STAGE_WAVES = "waves: [[small-k8s]]\n      # How often"  # the shipped file's STAGE (DEV has the same waves)


def set_stage_waves(root: Path, waves: str) -> None:
    path = root / "scripts" / "environments.yaml"
    text = path.read_text()
    assert text.count(STAGE_WAVES) == 1
    path.write_text(text.replace(STAGE_WAVES, f"waves: {waves}\n      # How often"))


def deployed(pipeline, capsys, **extra) -> tuple[str, str]:
    model = pipeline.unique("drift")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest({"name": model, "version": int(v1), "smoke_test": SMOKE, **extra})
    assert pipeline.deploy().exit_code == 0
    capsys.readouterr()
    return model, v1


def starts(pipeline) -> int:
    return sum(1 for r in pipeline.emu.requests if r.route and r.route.startswith("POST")
               and r.route.endswith("startModelDeployment"))


def test_moving_an_environment_to_another_tier_is_planned_applied_and_then_idle(pipeline, capsys) -> None:
    model, v1 = deployed(pipeline, capsys)
    api, (version,) = pipeline.serving(f"{model}-stage")
    assert api.hardware_tier_id == "small-k8s"
    set_stage_waves(pipeline.root, "[[medium-k8s]]")

    assert pipeline.run("plan", "--env", "STAGE") == 0
    shown = capsys.readouterr().out
    assert "No changes" not in shown
    assert f"restart version {version.id} of {model}-stage on medium-k8s (wave 1) (move from small-k8s)" in shown

    started = starts(pipeline)
    outcome = pipeline.deploy()
    assert outcome.exit_code == 0 and [m.status for m in outcome.result.models] == ["done"]
    moved, versions = pipeline.serving(f"{model}-stage")
    assert moved.id == api.id and moved.hardware_tier_id == "medium-k8s"
    assert [v.id for v in versions] == [version.id]  # no rebuild: the version that passed, deployed again
    assert starts(pipeline) == started + 1
    assert pipeline.aliases(model) == {"staging": v1}

    writes, before = pipeline.emu.counters.writes(), pipeline.mlflow_state(model)
    capsys.readouterr()
    assert pipeline.deploy().result is None  # nothing applied
    assert pipeline.emu.counters.writes() == writes and pipeline.mlflow_state(model) == before
    assert pipeline.run("plan", "--env", "STAGE") == 0
    assert "No changes" in capsys.readouterr().out


def test_changing_replicas_is_planned_applied_and_then_idle(pipeline, capsys) -> None:
    model, v1 = deployed(pipeline, capsys)
    api, (version,) = pipeline.serving(f"{model}-stage")
    assert api.replicas == 1
    pipeline.manifest({"name": model, "version": int(v1), "smoke_test": SMOKE, "replicas": 3})

    assert pipeline.run("plan", "--env", "STAGE") == 0
    assert f"already serving on {model}-stage on small-k8s (wave 1) (replicas 1 -> 3)" in capsys.readouterr().out

    assert pipeline.deploy().exit_code == 0
    changed, versions = pipeline.serving(f"{model}-stage")
    assert changed.replicas == 3 and changed.hardware_tier_id == "small-k8s"
    assert [v.id for v in versions] == [version.id]
    (put,) = [r.body for r in pipeline.emu.requests if r.route == "PUT /api/modelServing/v1/modelApis/{modelApiId}"]
    assert put["replicas"] == 3

    writes, before = pipeline.emu.counters.writes(), pipeline.mlflow_state(model)
    assert pipeline.deploy().result is None
    assert pipeline.emu.counters.writes() == writes and pipeline.mlflow_state(model) == before


def test_an_unknown_tier_in_wave_2_is_exit_2_at_plan_time_with_nothing_written(pipeline, capsys) -> None:
    model = pipeline.unique("drift")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest({"name": model, "version": int(v1), "smoke_test": SMOKE})
    set_stage_waves(pipeline.root, "[[small-k8s], [no-such-tier]]")
    writes, before = pipeline.emu.counters.writes(), pipeline.mlflow_state(model)

    with pytest.raises(UnknownHardwareTier) as refused:
        pipeline.deploy()
    assert refused.value.exit_code == 2
    assert (f"hardware tier 'no-such-tier' of environment 'STAGE' does not exist in Domino project "
            f"{pipeline.project_id}") in str(refused.value)
    assert "small-k8s" in refused.value.hint  # the hint lists the tiers there are
    assert pipeline.run("plan", "--env", "STAGE") == 2  # the plan job stops there too, in one line
    err = capsys.readouterr().err
    assert str(refused.value) in err and "small-k8s" in err.split("hint:")[1]
    assert pipeline.emu.counters.writes() == writes and pipeline.mlflow_state(model) == before
    assert pipeline.domino.model_apis.find(pipeline.project_id, f"{model}-stage") is None
