"""Outputs are always meaningful (issue 24, item 5): a run with nothing to write still says in
result-json what it checked, per model the version serving, each Model API and "unchanged"."""

from __future__ import annotations

import json

from domino_emulator.local.models import SAMPLE_PATIENT, register_diabetes_model
from tests.report.test_github import parse_output_file


def test_a_run_with_nothing_to_do_says_what_it_checked_in_result_json(pipeline) -> None:
    model = pipeline.unique("unchanged")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest({"name": model, "version": int(v1), "smoke_test": {"input": SAMPLE_PATIENT}})
    assert pipeline.deploy().exit_code == 0  # the first deploy: what serves is read back from Domino
    api, _ = pipeline.serving(f"{model}-stage")

    assert pipeline.run("deploy", "--env", "STAGE") == 0
    out = parse_output_file((pipeline.root / "github_output").read_text())

    assert out["has-changes"] == "false"
    document = json.loads(out["result-json"])  # was absent: the run returned before any result
    assert document["environment"] == "STAGE" and document["exit_code"] == 0
    assert document["domino_checked"] is True
    [checked] = document["models"]
    assert (checked["model"], checked["version"], checked["serving_version"], checked["status"], checked["writes"]) == (
        model, v1, v1, "unchanged", 0)
    [where] = checked["deployments"]
    assert where["model_api_id"] == api.id
    assert where["model_api_version_id"] == api.active_version.id
    assert where["endpoint_url"] == out["endpoint-url"] == f"{pipeline.emu.url}/models/{api.id}/latest/model"
    assert [(p["model_api_name"], p["status"]) for p in checked["data_planes"]] == [(f"{model}-stage", "unchanged")]
