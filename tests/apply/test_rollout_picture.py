"""Pictures where people look (issue 24, item 6): the PR comment and the step summary show the
rollout as a small table per environment, a column per wave, each data plane with a symbol."""

from __future__ import annotations

import json

from domino_emulator.local.models import SAMPLE_PATIENT, register_diabetes_model
from tests.support.fake_github import fake_github

TOKEN = "ghs_pictureToken0123456789"


def test_the_pr_comment_and_the_summary_show_the_rollout_wave_by_wave(pipeline, tmp_path) -> None:
    model = pipeline.unique("picture")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest({"name": model, "version": int(v1), "smoke_test": {"input": SAMPLE_PATIENT}})
    assert pipeline.run("deploy", "--env", "STAGE") == 0
    summary = pipeline.root / "summary.md"
    staged = summary.read_text()
    assert "#### Rollout of STAGE, wave by wave\n" in staged
    assert f"| `{model}` {v1} | :white_check_mark: small-k8s |" in staged

    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}))
    with fake_github({TOKEN: "write"}) as gh:
        for name, value in {"GITHUB_EVENT_PATH": str(event), "GITHUB_EVENT_NAME": "pull_request",
                            "GITHUB_REPOSITORY": "acme/models", "GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": gh.url}.items():
            pipeline.monkeypatch.setenv(name, value)
        assert pipeline.run("plan", "--env", "PROD", "--pr-comment") == 0
        [comment] = gh.thread("acme/models", 7)
    # PROD rolls medium-k8s first, then prod-small: both about to deploy, one column each.
    assert "#### Rollout of PROD, wave by wave (planned)\n\n| model | wave 1 | wave 2 |\n|---|---|---|\n" in comment["body"]
    assert f"| `{model}` - -> {v1} | :arrow_up: medium-k8s | :arrow_up: prod-small |" in comment["body"]
    assert ":arrow_up: deploys" in comment["body"]  # the legend names the symbols used

    summary.unlink()
    assert pipeline.run("promote") == 0
    promoted = summary.read_text()
    picture = promoted.index("#### Rollout of PROD, wave by wave\n")
    assert picture < promoted.index("#### Data planes")  # under the title, before the details
    assert f"| `{model}` {v1} | :white_check_mark: medium-k8s | :white_check_mark: prod-small |" in promoted

    summary.unlink()
    assert pipeline.run("promote") == 0  # nothing to do: the plan's picture says so
    assert f"| `{model}` {v1} -> {v1} | :heavy_minus_sign: medium-k8s | :heavy_minus_sign: prod-small |" in (
        summary.read_text())
