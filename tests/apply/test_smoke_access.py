"""How a smoke test reaches a deployed model on a Domino that works like the real one: Model APIs
are restricted, their access tokens are made by an admin and given to us as a secret
(DOMINO_MODEL_TOKENS), or a Model API is public. Against a real MLflow server and the emulator.
"""

from __future__ import annotations

import json
import yaml

from domino_emulator.local.models import SAMPLE_PATIENT, register_diabetes_model
from tests.apply.conftest import Pipeline
from tests.report.test_github import parse_output_file

SMOKE = {"input": SAMPLE_PATIENT, "expect_shape": [1]}


def require_smoke_tests(pipeline: Pipeline, environment: str) -> None:
    path = pipeline.root / "scripts" / "environments.yaml"
    doc = yaml.safe_load(path.read_text())
    for env in doc["environments"]:
        if env["name"] == environment:
            env.setdefault("smoke_test", {})["required"] = True
    path.write_text(yaml.safe_dump(doc))


def deployed_once(pipeline: Pipeline, stem: str, **register) -> tuple[str, str, str, object]:
    """A model with two versions, the first deployed to STAGE: (model, v1, v2, its Model API)."""
    model = pipeline.unique(stem)
    v1 = register_diabetes_model(pipeline.mlflow_uri, model, **register)
    v2 = register_diabetes_model(pipeline.mlflow_uri, model, alpha=2.0, **register)
    pipeline.manifest({"name": model, "version": int(v1), "smoke_test": SMOKE})
    assert pipeline.run("deploy", "--env", "STAGE") == 0
    api, _ = pipeline.serving(f"{model}-stage")
    return model, v1, v2, api


def model_calls(pipeline: Pipeline) -> list:
    return [r for r in pipeline.emu.requests if r.route == "POST /models/{modelId}/latest/model"]


def test_a_new_model_api_nothing_can_call_is_deployed_with_a_warning(restricted, capsys) -> None:
    model = restricted.unique("no-token")
    v1 = register_diabetes_model(restricted.mlflow_uri, model)
    restricted.manifest({"name": model, "version": int(v1), "smoke_test": SMOKE})

    assert restricted.run("deploy", "--env", "STAGE") == 0

    out = capsys.readouterr().out
    assert f"no model access token for Model API {model}-stage" in out and "DOMINO_MODEL_TOKENS" in out
    assert model_calls(restricted) == []  # nothing called the model
    tags = restricted.tags(model, v1)
    assert tags["domino_mlops.STAGE.status"] == "passed"
    assert json.loads(tags["domino_mlops.STAGE.smoke"]) == {f"{model}-stage": {"skipped": "no access token"}}
    result = json.loads(parse_output_file((restricted.root / "github_output").read_text())["result-json"])
    assert result["models"][0]["warnings"] and result["models"][0]["status"] == "done"


def test_a_required_smoke_test_without_a_way_in_is_refused_before_any_write(restricted, capsys) -> None:
    model = restricted.unique("required")
    v1 = register_diabetes_model(restricted.mlflow_uri, model)
    restricted.manifest({"name": model, "version": int(v1), "smoke_test": SMOKE})
    require_smoke_tests(restricted, "STAGE")
    writes, state = restricted.emu.counters.writes(), restricted.mlflow_state(model)

    assert restricted.run("deploy", "--env", "STAGE") == 3

    err = capsys.readouterr().err
    assert f"{model} version {v1} may not enter STAGE: no model access token for Model API {model}-stage" in err
    assert "DOMINO_MODEL_TOKENS" in err and "smoke_test.required" in err
    assert restricted.emu.counters.writes() == writes and restricted.mlflow_state(model) == state


def test_the_smoke_test_calls_with_the_token_an_admin_made(restricted, capsys) -> None:
    model, _, v2, api = deployed_once(restricted, "token")
    token = restricted.emu.issue_model_token(api.id, "ci")  # the admin, in Domino's UI
    restricted.monkeypatch.setenv("DOMINO_MODEL_TOKENS", json.dumps({model: token}))
    restricted.manifest({"name": model, "version": int(v2), "smoke_test": SMOKE})
    capsys.readouterr()

    assert restricted.run("deploy", "--env", "STAGE") == 0

    out = capsys.readouterr().out
    assert f"smoke-test {model}-stage with DOMINO_MODEL_TOKENS[{model}]" in out and "smoke test passed" in out
    assert [c.status for c in model_calls(restricted)] == [200]
    assert json.loads(restricted.tags(model, v2)["domino_mlops.STAGE.smoke"])[f"{model}-stage"]["shape"] == [1]
    written = (restricted.root / "github_output").read_text() + (restricted.root / "summary.md").read_text()
    assert token not in written + out and token not in json.dumps(restricted.tags(model, v2))


def test_a_wrong_token_fails_the_smoke_test_and_puts_the_previous_version_back(restricted, capsys) -> None:
    model, v1, v2, api = deployed_once(restricted, "bad-token")
    (first,) = restricted.domino.model_apis.list_versions(api.id)
    restricted.monkeypatch.setenv("DOMINO_MODEL_TOKENS_STAGE", "not-a-token-of-this-model-api")
    restricted.manifest({"name": model, "version": int(v2), "smoke_test": SMOKE})
    capsys.readouterr()

    assert restricted.run("deploy", "--env", "STAGE") == 2  # 401: the credential is named, not shown

    err = capsys.readouterr().err
    assert "DOMINO_MODEL_TOKENS_STAGE[*]" in err and "not-a-token-of-this-model-api" not in err
    assert restricted.domino.model_apis.get(api.id).active_version.id == first.id
    assert restricted.aliases(model) == {"staging": v1}


def test_a_public_model_api_is_called_without_a_credential(restricted) -> None:
    model, _, v2, api = deployed_once(restricted, "public")
    restricted.emu.set_model_api_public(api.id, True)  # "unrestricted" in Domino's settings
    restricted.manifest({"name": model, "version": int(v2), "smoke_test": SMOKE})

    assert restricted.run("deploy", "--env", "STAGE") == 0

    assert [c.status for c in model_calls(restricted)] == [200]  # the emulator takes no credential only if public
    assert json.loads(restricted.tags(model, v2)["domino_mlops.STAGE.smoke"])[f"{model}-stage"]["shape"] == [1]


def test_a_model_logged_with_a_three_row_input_example_is_smoke_tested_with_it(restricted) -> None:
    """No smoke input in the manifest: the model's own example (input_example=X.head(3)) is sent."""
    model, _, v2, api = deployed_once(restricted, "example", example_rows=3)
    restricted.monkeypatch.setenv("DOMINO_MODEL_TOKENS", restricted.emu.issue_model_token(api.id, "ci"))
    restricted.manifest({"name": model, "version": int(v2)})

    assert restricted.run("deploy", "--env", "STAGE") == 0

    (call,) = model_calls(restricted)
    assert call.status == 200 and set(call.body["data"]) >= {"age", "bmi"}
    assert all(len(values) == 3 for values in call.body["data"].values())  # several rows travel as columns
    assert json.loads(restricted.tags(model, v2)["domino_mlops.STAGE.smoke"])[f"{model}-stage"]["shape"] == [3]
