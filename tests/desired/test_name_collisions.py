"""Names that become one Domino object (or one image, one build folder) are exit 2 at validate,
naming both places, and nothing is contacted or written: `domino-mlops validate` in-process."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domino_mlops.cli import main
from domino_mlops.desired.targets import Target, model_slug
from domino_mlops.observed.export_snapshot import TaggedVersion, TargetSnapshot
from domino_mlops.plan.export_plan import plan_exports

PROJECT = "6650c1a3e1b2c3d4e5f60718"
ENVIRONMENTS = "environments:\n  - name: STAGE\n    domino: {waves: [[small-k8s], [medium-k8s]]}\n  - name: PROD\n"


@pytest.fixture(autouse=True)
def _no_services(monkeypatch: pytest.MonkeyPatch) -> None:
    """No MLflow or Domino is configured: validate must find this from the files alone."""
    for key in ("MLFLOW_TRACKING_URI", "DOMINO_API_HOST", "DOMINO_USER_API_KEY", "GITHUB_STEP_SUMMARY",
                "GITHUB_OUTPUT", "GITHUB_ACTIONS"):
        monkeypatch.delenv(key, raising=False)


def validate(root: Path, manifest: dict | str, environments: str = ENVIRONMENTS) -> tuple[int, str]:
    m_path, e_path = root / "m.json", root / "e.yaml"
    m_path.write_text(manifest if isinstance(manifest, str) else json.dumps(manifest, indent=2))
    e_path.write_text(environments)
    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(root)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["validate", "--manifest", str(m_path), "--environments", str(e_path)])
    finally:
        os.chdir(cwd)
    assert sorted(p.name for p in root.iterdir()) == ["e.yaml", "m.json"]  # nothing written
    return code, err.getvalue()


def line_of(path: Path, text: str) -> int:
    return next(n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line)


# Runs of characters Domino names turn into one '-' (desired/naming.py), and '-' itself.
SEPARATORS = ["-", ".", "..", " ", "+", " . "]
TOKENS = st.text("abcXYZ019_", min_size=1, max_size=5)


@st.composite
def colliding_names(draw, separators: list[str]) -> tuple[str, str]:
    """Two different names made of the same tokens, joined by different separator runs."""
    tokens = draw(st.lists(TOKENS, min_size=2, max_size=4))
    gaps = len(tokens) - 1
    first = draw(st.lists(st.sampled_from(separators), min_size=gaps, max_size=gaps))
    second = draw(st.lists(st.sampled_from(separators), min_size=gaps, max_size=gaps).filter(lambda s: s != first))

    def join(seps: list[str]) -> str:
        return tokens[0] + "".join(sep + token for sep, token in zip(seps, tokens[1:]))

    return join(first), join(second)


FAST = settings(derandomize=True, max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@FAST
@given(names=colliding_names(SEPARATORS))
def test_generated_model_names_that_share_a_model_api_are_exit_2_naming_both_lines(tmp_path_factory, names) -> None:
    root = tmp_path_factory.mktemp("models")
    first, second = names
    code, err = validate(root, {PROJECT: [{"name": first, "version": 1}, {"name": second, "version": 1}]})
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err  # one mistake, told once (not per environment and tier)
    m = root / "m.json"
    assert f"{m}:{line_of(m, json.dumps(second))}:" in lines[0] and f"({m}:{line_of(m, json.dumps(first))})" in lines[0]
    assert "both become Domino Model API" in lines[0] and repr(first) in lines[0] and repr(second) in lines[0]


@FAST
@given(names=colliding_names(["-", ".", ".."]))
def test_generated_app_names_that_share_a_domino_app_are_exit_2(tmp_path_factory, names) -> None:
    root = tmp_path_factory.mktemp("apps")
    first, second = ("a" + name for name in names)  # an app name starts with a letter or digit
    code, err = validate(root, {PROJECT: {"apps": [{"name": first}, {"name": second}]}})
    assert code == 2, err
    assert "both become Domino app" in err and repr(first) in err and repr(second) in err, err


@pytest.mark.parametrize("first, second, domino", [("cx.a", "cx-a", "cx-a-stage"), ("cx a", "cx-a", "cx-a-stage")])
def test_the_reported_model_pairs(tmp_path: Path, first: str, second: str, domino: str) -> None:
    code, err = validate(tmp_path, {PROJECT: [{"name": first, "version": 1}, {"name": second, "version": 2}]})
    assert code == 2
    m = tmp_path / "m.json"
    assert err.startswith(f"error: {m}:8: $[\"{PROJECT}\"][1].name: model '{second}' and model '{first}' ({m}:4) "
                          f"both become Domino Model API '{domino}' in project {PROJECT} (environment STAGE)"), err
    # No false alarms: Domino keeps the model's case ('Churn-stage' and 'churn-stage' are two Model
    # APIs), and 'a' on STAGE's second tier ('a-stage-medium-k8s') is not 'a-stage-medium-k8s' in PROD.
    assert validate(tmp_path, {PROJECT: [{"name": "Churn", "version": 1}, {"name": "churn", "version": 1},
                                         {"name": "a", "version": 1},
                                         {"name": "a-stage-medium-k8s", "version": 1, "environments": ["PROD"]}]}
                    ) == (0, "")


def test_the_reported_app_pair(tmp_path: Path) -> None:
    code, err = validate(tmp_path, {PROJECT: {"apps": [{"name": "dx.b"}, {"name": "dx-b"}]}})
    assert code == 2
    assert "app 'dx-b' and app 'dx.b'" in err and "both become Domino app 'dx-b-stage'" in err


def test_environments_that_differ_only_in_case_are_exit_2_naming_both_lines(tmp_path: Path) -> None:
    environments = "environments:\n  - name: STAGE\n  - name: Stage\n    mlflow: {alias: other}\n"
    code, err = validate(tmp_path, {PROJECT: [{"name": "churn", "version": 1}]}, environments)
    assert code == 2
    e = tmp_path / "e.yaml"
    assert f"error: {e}:3: $.environments[1].name: environments 'Stage' and 'STAGE' ({e}:2) are one name" in err
    assert "Domino names use 'stage' for both" in err
    environments = "environments:\n  - name: PROD-A\n  - name: PROD_A\n    mlflow: {alias: other}\n"
    code, err = validate(tmp_path, {PROJECT: [{"name": "churn", "version": 1}]}, environments)
    assert code == 2 and "both read their model tokens from DOMINO_MODEL_TOKENS_PROD_A" in err, err


def test_a_tier_in_two_waves_of_one_environment_is_exit_2(tmp_path: Path) -> None:
    environments = "environments:\n  - name: PROD\n    domino:\n      waves: [[small-k8s], [medium-k8s, small-k8s]]\n"
    code, err = validate(tmp_path, {PROJECT: [{"name": "churn", "version": 1}]}, environments)
    assert code == 2
    assert (f"{tmp_path / 'e.yaml'}:4: $.environments[0].domino.waves[1][1]: hardware tier 'small-k8s' of 'PROD' "
            "is listed in wave 1 and again in wave 2") in err


@pytest.mark.parametrize("first, second", [("Bad Name", "bad-name"), ("UPPER.Case", "upper.case")])
def test_export_models_sharing_an_image_or_build_folder_are_exit_2_at_validate(tmp_path: Path, capsys,
                                                                                first: str, second: str) -> None:
    targets = tmp_path / "t.yaml"
    targets.write_text("targets:\n  - name: A\n    mode: build\n    registry: registry.example.com/foundry\n"
                       f"    models:\n      - {first}\n      - {second}\n")
    assert model_slug(first) == model_slug(second)
    assert main(["export", "--targets", str(targets), "--plan-only"]) == 2
    err = capsys.readouterr().err
    assert f"{targets}:7: $.targets[0].models[1]: models '{first}' ({targets}:6) and '{second}' both become" in err


def test_tagged_models_sharing_an_image_are_refused_by_the_export_plan_before_any_build() -> None:
    """Models found in MLflow (no ``models`` list to validate) are checked when the plan is made."""
    target = Target("A", "build", "registry.example.com/foundry")
    versions = tuple(TaggedVersion(model, "1", "run", (("TARGET_A", "true"),)) for model in ("Bad Name", "bad-name"))
    from domino_mlops.errors import NamesCollide  # here: a module-level import would hide which tests fail on old code
    with pytest.raises(NamesCollide) as caught:
        plan_exports((target,), (TargetSnapshot("A", versions),))
    assert caught.value.exit_code == 2
    assert str(caught.value) == ("registered models 'Bad Name' and 'bad-name' both become image repository "
                                 "'registry.example.com/foundry/bad-name'")
    one = plan_exports((target,), (TargetSnapshot("A", versions[:1]),))  # alone, it is exported
    assert [item.action for item in one.items] == ["export"]
