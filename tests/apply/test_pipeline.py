"""deploy-to-staging, promote-to-production, rollback: the CLI in-process (or, where a test is about
what happens rather than what is printed, the facade it calls) against a real MLflow
server and the Domino emulator over real HTTP.
"""

from __future__ import annotations

import json

import pytest

from domino_mlops.state.ledger import Ledger
from domino_mlops.clients.mlflow.registry import MlflowRegistry
from domino_emulator import Emulator
from domino_emulator.seed import default_seed
from domino_mlops.errors import AliasConflict, GateRefused
from domino_emulator.local.models import SAMPLE_PATIENT, register_broken_model, register_diabetes_model
from tests.report.test_github import parse_output_file

SMOKE = {"input": SAMPLE_PATIENT, "expect_shape": [1]}


def entry(model: str, version: str, **extra) -> dict:
    return {"name": model, "version": int(version), "smoke_test": SMOKE, **extra}


def outputs(pipeline) -> dict[str, str]:
    return parse_output_file((pipeline.root / "github_output").read_text())


def test_deploy_to_staging_marks_mlflow_with_domino_ids(pipeline, capsys) -> None:
    model = pipeline.unique("stage")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest(entry(model, v1))

    assert pipeline.run("deploy", "--env", "STAGE") == 0

    api, versions = pipeline.serving(f"{model}-stage")
    assert api.hardware_tier_id == "small-k8s" and len(versions) == 1
    (version,) = versions
    assert version.status == "Running" and version.source.registered_model_version == int(v1)
    # A Model API's answer does not show its variables (the published ModelApi has none): the request does.
    (created,) = [r.body for r in pipeline.emu.requests if r.route == "POST /api/modelServing/v1/modelApis"]
    # Only what holds for every version (a version-specific variable would go stale: no published
    # route updates a Model API's variables); the version's own source names the registry version.
    assert created["environmentVariables"] == [{"key": "MLFLOW_MODEL_NAME", "value": model}]
    assert created["version"]["source"] == {"type": "Registry", "registeredModelName": model,
                                            "registeredModelVersion": int(v1)}
    assert pipeline.aliases(model) == {"staging": v1}
    tags = pipeline.tags(model, v1)
    assert tags["DOMINO_MODEL_ID"] == api.id and tags["DOMINO_MODEL_VERSION_ID"] == version.id
    assert tags["domino_mlops.STAGE.status"] == "passed"
    assert json.loads(tags["domino_mlops.STAGE.smoke"])[f"{model}-stage"]["shape"] == [1]
    assert pipeline.mlflow.get_model_version(model, v1).current_stage == "Staging"  # stage_mode: both

    out = outputs(pipeline)
    assert out["model-api-id"] == api.id and out["model-api-version-id"] == version.id
    assert out["endpoint-url"] == f"{pipeline.emu.url}/models/{api.id}/latest/model"
    assert json.loads(out["result-json"])["models"][0]["status"] == "done"
    summary = (pipeline.root / "summary.md").read_text()
    assert "### Plan for STAGE" in summary and "### Deployed: STAGE" in summary
    (ledger_entry,) = pipeline.ledger(model)
    assert ledger_entry["action"] == "deploy" and ledger_entry["to"] == v1 and ledger_entry["actor"] == "octocat"
    assert ledger_entry["model_api_ids"] == api.id and ledger_entry["commit"].startswith("0123456789ab")
    # No secret anywhere we write: outputs, summary, tags, ledger.
    written = (pipeline.root / "github_output").read_text() + summary + json.dumps(tags) + json.dumps(ledger_entry)
    assert pipeline.emu.token not in written and pipeline.emu.api_key not in written


def test_a_create_answer_without_active_version_still_deploys(pipeline) -> None:
    # The public ModelApi marks activeVersion optional: the first deploy looks its version up.
    model = pipeline.unique("no-active")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest(entry(model, v1))
    pipeline.emu.set_faults(omit_active_version=True)

    assert pipeline.run("deploy", "--env", "STAGE") == 0

    (created,) = [r for r in pipeline.emu.requests if r.route == "POST /api/modelServing/v1/modelApis"]
    assert created.status == 201
    # Found by listing the new Model API's versions (the old code stopped with "without an active version").
    assert any(r.route == "GET /api/modelServing/v1/modelApis/{modelApiId}/versions" for r in pipeline.emu.requests)
    api, (version,) = pipeline.serving(f"{model}-stage")
    assert version.status == "Running"
    assert pipeline.tags(model, v1)["DOMINO_MODEL_VERSION_ID"] == version.id
    assert pipeline.aliases(model) == {"staging": v1}


def test_promotion_rolls_out_in_waves_and_a_rerun_writes_nothing(pipeline) -> None:
    model = pipeline.unique("promote")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest(entry(model, v1))
    assert pipeline.deploy().exit_code == 0
    assert pipeline.deploy("promote").exit_code == 0

    assert pipeline.aliases(model) == {"staging": v1, "production": v1}
    assert pipeline.mlflow.get_model_version(model, v1).current_stage == "Production"
    for name, tier in ((f"{model}-prod", "medium-k8s"), (f"{model}-prod-prod-small", "prod-small")):
        api, (version,) = pipeline.serving(name)
        assert api.hardware_tier_id == tier and version.status == "Running" and api.replicas == 2

    writes, state = pipeline.emu.counters.writes(), pipeline.mlflow_state(model)
    again = pipeline.deploy("promote")  # a workflow_dispatch re-run of finished work
    assert (again.result, again.nothing_to_do) == (None, "already serves what the manifest says")
    assert pipeline.deploy().result is None
    assert pipeline.emu.counters.writes() == writes
    assert pipeline.mlflow_state(model) == state
    assert [e["action"] for e in pipeline.ledger(model)] == ["deploy", "promote"]


def test_gate_refuses_a_version_that_never_passed_staging(pipeline, capsys) -> None:
    model = pipeline.unique("gate")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest(entry(model, v1))
    writes, state = pipeline.emu.counters.writes(), pipeline.mlflow_state(model)

    with pytest.raises(GateRefused) as refused:
        pipeline.deploy("promote")

    assert refused.value.exit_code == 3 and refused.value.reasons[0][0] == model
    assert f"{model} version {v1} may not enter PROD" in str(refused.value)
    assert "domino_mlops.STAGE.status is not set" in str(refused.value)
    assert pipeline.emu.counters.writes() == writes and pipeline.mlflow_state(model) == state


def test_gate_names_every_refused_model_on_its_manifest_line(pipeline, capsys) -> None:
    passed, first, second = (pipeline.unique(stem) for stem in ("gate-ok", "gate-a", "gate-b"))
    versions = {m: register_diabetes_model(pipeline.mlflow_uri, m) for m in (passed, first, second)}
    pipeline.manifest(entry(passed, versions[passed]))
    assert pipeline.deploy().exit_code == 0  # only `passed` has been through STAGE
    pipeline.manifest(*(entry(m, versions[m]) for m in (passed, first, second)))
    writes, state = pipeline.emu.counters.writes(), pipeline.mlflow_state(passed)
    pipeline.monkeypatch.setenv("GITHUB_ACTIONS", "true")
    capsys.readouterr()

    assert pipeline.run("promote") == 3

    err = capsys.readouterr().err
    summary = (pipeline.root / "summary.md").read_text()
    assert "GateRefused (exit code 3)" in summary
    assert f"2 models may not enter PROD: {first} version {versions[first]}" in summary
    manifest_lines = (pipeline.root / "scripts" / "model_version.json").read_text().splitlines()
    annotations = [line for line in err.splitlines() if line.startswith("::error ")]
    assert len(annotations) == 2, err
    for model, annotation in zip((first, second), annotations, strict=True):
        line = int(annotation.split("line=")[1].split(",")[0])
        assert f'"name": "{model}"' in "".join(manifest_lines[line - 1:line + 1])  # the entry's opening line
        assert annotation.startswith("::error file=scripts/model_version.json,") and "title=GateRefused" in annotation
        assert f"{model} version {versions[model]} may not enter PROD" in annotation
    # The model that did pass is not promoted either: a refusal writes nothing at all.
    assert pipeline.emu.counters.writes() == writes and pipeline.mlflow_state(passed) == state
    assert "production" not in pipeline.aliases(passed)


def test_broken_model_fails_on_domino_and_production_keeps_serving(pipeline, capsys) -> None:
    model = pipeline.unique("broken")
    good = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest(entry(model, good))
    assert pipeline.deploy().exit_code == 0 and pipeline.deploy("promote").exit_code == 0
    api, (serving,) = pipeline.serving(f"{model}-prod")

    broken = register_broken_model(pipeline.mlflow_uri, model)
    pipeline.mlflow.set_model_version_tag(model, broken, "domino_mlops.STAGE.status", "passed")  # as if it had
    pipeline.manifest(entry(model, broken))
    capsys.readouterr()

    assert pipeline.run("promote") == 1

    captured = capsys.readouterr()
    assert f"{model} version {broken} failed to deploy on {model}-prod" in captured.err
    assert "hint:" in captured.err
    assert pipeline.aliases(model)["production"] == good  # no alias moved
    assert pipeline.mlflow.get_model_version(model, good).current_stage == "Production"
    assert "domino_mlops.PROD.status" not in pipeline.tags(model, broken)
    api = pipeline.domino.model_apis.get(api.id)
    assert api.active_version.id == serving.id  # the previous version was put back
    assert pipeline.domino.deployments.predict(api.id, SAMPLE_PATIENT, token=None).result  # still answering (public)
    # the second wave was never touched
    _, second = pipeline.serving(f"{model}-prod-prod-small")
    assert [v.source.registered_model_version for v in second] == [int(good)]
    assert json.loads(outputs(pipeline)["result-json"])["models"][0]["status"] == "failed"


def test_failed_smoke_test_puts_the_previous_version_back(pipeline, capsys) -> None:
    model = pipeline.unique("smoke")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    v2 = register_diabetes_model(pipeline.mlflow_uri, model, alpha=3.0)
    pipeline.manifest(entry(model, v1))
    assert pipeline.deploy().exit_code == 0
    api, (first,) = pipeline.serving(f"{model}-stage")
    pipeline.manifest({"name": model, "version": int(v2), "smoke_test": {"input": SAMPLE_PATIENT, "expect_shape": [3]}})

    outcome = pipeline.deploy()

    assert outcome.exit_code == 1
    (failed,) = outcome.result.models
    assert failed.status == "failed" and "result shape [1], expected [3]" in failed.message
    assert pipeline.aliases(model) == {"staging": v1}
    assert pipeline.domino.model_apis.get(api.id).active_version.id == first.id


def test_alias_moved_between_plan_and_apply_is_a_conflict(pipeline) -> None:
    from domino_mlops import api

    model = pipeline.unique("conflict")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    v2 = register_diabetes_model(pipeline.mlflow_uri, model, alpha=2.0)
    pipeline.manifest(entry(model, v1))

    class SomeoneMovesTheAlias(api.Reporter):
        def on_plan(self, plan, env):  # after the plan, before the apply
            pipeline.mlflow.set_registered_model_alias(model, "staging", v2)  # a colleague, by hand

    writes = pipeline.emu.counters.writes()

    with pytest.raises(AliasConflict) as conflict:
        pipeline.call("deploy", api.DeployRequest("STAGE"), SomeoneMovesTheAlias())

    assert conflict.value.exit_code == 4
    assert f"alias 'staging' of '{model}' is at version {v2}, expected none" in str(conflict.value)
    assert pipeline.emu.counters.writes() == writes  # nothing deployed
    assert pipeline.aliases(model) == {"staging": v2}
    assert "domino_mlops.STAGE.status" not in pipeline.tags(model, v1)


def test_crash_between_domino_and_mlflow_converges_without_duplicates(pipeline, monkeypatch) -> None:
    model = pipeline.unique("crash")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest(entry(model, v1))
    real_set_tags = MlflowRegistry.set_tags

    def crash(*args, **kwargs):
        raise RuntimeError("the runner was killed")

    monkeypatch.setattr(MlflowRegistry, "set_tags", crash)
    assert pipeline.run("deploy") == 1  # unexpected error: the process "died" after Domino
    monkeypatch.setattr(MlflowRegistry, "set_tags", real_set_tags)

    assert pipeline.run("deploy") == 0

    _, versions = pipeline.serving(f"{model}-stage")
    assert len(versions) == 1  # the re-run reused the version the crashed run deployed
    assert pipeline.aliases(model) == {"staging": v1}
    assert len(pipeline.ledger(model)) == 1


def test_crash_before_the_ledger_records_exactly_once(pipeline, monkeypatch) -> None:
    model = pipeline.unique("ledger-crash")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest(entry(model, v1))
    real_record = Ledger.record
    monkeypatch.setattr(Ledger, "record", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("killed")))
    assert pipeline.run("deploy") == 1
    monkeypatch.setattr(Ledger, "record", real_record)
    writes = pipeline.emu.counters.writes()

    assert pipeline.run("deploy") == 0  # only the missing ledger entry is written

    assert pipeline.emu.counters.writes() == writes
    (recorded,) = pipeline.ledger(model)
    assert (recorded["from"], recorded["to"]) == ("", v1)
    assert pipeline.run("deploy") == 0 and len(pipeline.ledger(model)) == 1


def test_rollback_returns_to_the_previous_version_and_history_shows_it(pipeline, capsys) -> None:
    model = pipeline.unique("rollback")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    v2 = register_diabetes_model(pipeline.mlflow_uri, model, alpha=5.0)
    for version in (v1, v2):
        pipeline.manifest(entry(model, version))
        assert pipeline.run("deploy") == 0 and pipeline.run("promote") == 0
    api, versions = pipeline.serving(f"{model}-prod")
    first = next(v for v in versions if v.source.registered_model_version == int(v1))
    writes_before = pipeline.emu.counters.writes()
    capsys.readouterr()

    assert pipeline.run("rollback", "--env", "PROD", "--model", model) == 0

    assert pipeline.aliases(model)["production"] == v1
    api = pipeline.domino.model_apis.get(api.id)
    assert api.active_version.id == first.id  # the old Domino version restarted, not rebuilt
    assert len(pipeline.domino.model_apis.list_versions(api.id)) == 2
    assert pipeline.emu.counters.writes() > writes_before
    # The manifest will move it forward again: say so, on its line, with the version to write.
    assert (f"warning: scripts/model_version.json:3: the manifest still says {model} version {v2}; "
            f"set it to {v1}") in capsys.readouterr().err
    actions = [(e["environment"], e["action"], e["from"], e["to"]) for e in pipeline.ledger(model)]
    assert actions[-1] == ("PROD", "rollback", v2, v1)

    # A re-run of the rollback (a workflow re-run) finishes nothing more and flips nothing back.
    writes_after = pipeline.emu.counters.writes()
    capsys.readouterr()
    assert pipeline.run("rollback", "--env", "PROD", "--model", model) == 0
    assert f"was a rollback to version {v1} (from {v2})" in capsys.readouterr().out
    assert pipeline.aliases(model)["production"] == v1 and pipeline.emu.counters.writes() == writes_after
    assert len(pipeline.ledger(model)) == len(actions)

    assert pipeline.run("history", "--model", model, "--env", "PROD") == 0
    table = capsys.readouterr().out
    assert table.count("| PROD |") == 3 and "| rollback |" in table
    assert pipeline.run("history", "--model", model, "--env", "PROD", "--at", "2000-01-01T00:00Z") == 0
    assert "served no recorded version" in capsys.readouterr().out


def test_two_models_in_parallel(pipeline) -> None:
    a, b = pipeline.unique("par-a"), pipeline.unique("par-b")
    va, vb = register_diabetes_model(pipeline.mlflow_uri, a), register_diabetes_model(pipeline.mlflow_uri, b)
    pipeline.manifest(entry(a, va), entry(b, vb))
    outcome = pipeline.deploy(max_parallel=2)
    assert sorted((m.model, m.status) for m in outcome.result.models) == [(a, "done"), (b, "done")]
    assert pipeline.aliases(a) == {"staging": va} and pipeline.aliases(b) == {"staging": vb}
    assert [c.model for c in outcome.plan.changed] == [a, b]


def test_another_projects_token_is_refused_with_a_clear_message(mlflow_server, tmp_path, monkeypatch, capsys) -> None:
    seed = default_seed()
    seed["credentials"].append({"token": "OTHER-PROJECT-TOKEN", "user": "other-user",
                                "projects": ["other-user/other-project"]})
    with Emulator(mlflow_uri=mlflow_server.uri, world=seed, deploy_seconds=0.2) as emu:
        model = "token-check"
        v1 = register_diabetes_model(mlflow_server.uri, model)
        (tmp_path / "scripts").mkdir()
        (tmp_path / "scripts" / "model_version.json").write_text(
            json.dumps({emu.project_id: [entry(model, v1)]}))
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)
        monkeypatch.setenv("DOMINO_API_HOST", emu.url)
        monkeypatch.setenv(f"PROJECT_ID_{emu.project_id}", "OTHER-PROJECT-TOKEN")
        from domino_mlops.cli import main

        assert main(["deploy", "--env", "STAGE"]) == 2

        err = capsys.readouterr().err
        assert f"PROJECT_ID_{emu.project_id}" in err and "403" in err and "OTHER-PROJECT-TOKEN" not in err
        assert emu.counters.writes() == 0


@pytest.mark.parametrize("argv", [["deploy", "--version", "2"], ["deploy", "--model", "nope"]])
def test_bad_arguments_are_exit_2(pipeline, argv, capsys) -> None:
    pipeline.manifest(entry("something", "1"))
    assert pipeline.run(*argv) == 2
    assert "hint:" in capsys.readouterr().err


def test_plan_reads_domino_once_per_project_not_per_model(pipeline, capsys) -> None:
    models = [pipeline.unique("few") for _ in range(3)]
    pipeline.manifest(*(entry(m, register_diabetes_model(pipeline.mlflow_uri, m)) for m in models))
    assert pipeline.run("deploy", "--max-parallel", "3") == 0
    pipeline.emu.reset_log()

    assert pipeline.run("plan", "--env", "PROD") == 0

    routes = pipeline.emu.counters.by_route()
    assert pipeline.emu.counters.writes() == 0
    lists = {route: n for route, n in routes.items() if route.endswith("/modelApis")}
    assert sum(lists.values()) == 1, routes  # one list for the project, whatever the model count
    assert sum(n for route, n in routes.items() if route.endswith("/versions")) == 0  # PROD has none yet
    assert "3 of 3 model(s) change" in capsys.readouterr().out


def test_a_steady_plan_lists_no_model_api_versions_and_still_sees_a_stopped_one(pipeline, capsys) -> None:
    """What serves is known from the deploy's record in MLflow while Domino shows that very version
    active and running: one list per project, not one more per Model API. A version stopped
    behind our back is not running: its Model API's versions are read, and the plan starts it."""
    models = [pipeline.unique("steady") for _ in range(3)]
    pipeline.manifest(*(entry(m, register_diabetes_model(pipeline.mlflow_uri, m)) for m in models))
    assert pipeline.run("deploy", "--env", "STAGE", "--max-parallel", "3") == 0

    def plan_reads() -> dict[str, int]:
        pipeline.emu.reset_log()
        capsys.readouterr()
        assert pipeline.run("plan", "--env", "STAGE") == 0
        routes = pipeline.emu.counters.by_route()
        assert pipeline.emu.counters.writes() == 0
        return {"lists": sum(n for r, n in routes.items() if r.endswith("/modelApis")),
                "versions": sum(n for r, n in routes.items() if r.endswith("/versions"))}

    assert plan_reads() == {"lists": 1, "versions": 0}
    assert "already where the manifest says" in capsys.readouterr().out

    api, _ = pipeline.serving(f"{models[0]}-stage")
    pipeline.domino.deployments.stop(api.id, api.active_version.id)  # answered once stopped
    assert not pipeline.serving(f"{models[0]}-stage")[0].active_version.deployment.is_running
    assert plan_reads() == {"lists": 1, "versions": 1}
    out = capsys.readouterr().out
    assert "1 of 3 model(s) change" in out and "start" in out, out


def test_the_ledger_is_read_only_when_it_can_change_the_plan(pipeline, capsys) -> None:
    """A plan of new versions records "current -> target" whatever the ledger holds: it reads no
    ledger (two requests, and pages). Once a model sits at its target, the ledger says whether its
    entry is there, so that plan reads it."""
    from tests.support.fault_proxy import fault_proxy

    model = pipeline.unique("ledger-reads")
    pipeline.manifest(entry(model, register_diabetes_model(pipeline.mlflow_uri, model)))

    def ledger_reads(*argv: str) -> int:
        with fault_proxy(pipeline.mlflow_uri) as proxy:
            pipeline.monkeypatch.setenv("MLFLOW_TRACKING_URI", proxy.url)
            assert pipeline.run(*argv) == 0
            pipeline.monkeypatch.setenv("MLFLOW_TRACKING_URI", pipeline.mlflow_uri)
            routes = proxy.counters.by_route()
        assert proxy.counters.writes() == 0, routes
        return sum(n for route, n in routes.items() if route.endswith(("experiments/get-by-name", "runs/search")))

    assert ledger_reads("plan", "--env", "STAGE") == 0
    assert pipeline.run("deploy", "--env", "STAGE") == 0
    assert ledger_reads("plan", "--env", "STAGE") >= 1  # at its target: is its ledger entry there?
    assert "already where the manifest says" in capsys.readouterr().out
    assert ledger_reads("plan", "--env", "PROD") == 0  # new in PROD (a promotion reads it for its
    # hold-backs: tests/apply/test_forward_only.py fails without them)


def test_model_listed_in_another_project_is_not_invented_for_this_one(pipeline, capsys) -> None:
    """A workflow_dispatch with --model runs in every project's matrix job: only the owner acts."""
    model = pipeline.unique("owned")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest(entry(model, v1))
    writes = pipeline.emu.counters.writes()
    assert pipeline.run("deploy", "--project", "65f0c0ffee00000000000002", "--model", model) == 0
    assert pipeline.emu.counters.writes() == writes and "Nothing to do" in capsys.readouterr().out


def test_pr_comment_outage_is_a_warning_not_a_failed_deploy(pipeline, tmp_path, capsys) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7}}))
    pipeline.monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    pipeline.monkeypatch.setenv("GITHUB_EVENT_NAME", "pull_request")
    pipeline.monkeypatch.setenv("GITHUB_REPOSITORY", "acme/models")
    pipeline.monkeypatch.setenv("GITHUB_TOKEN", "ghs_not-a-real-token")
    pipeline.monkeypatch.setenv("GITHUB_API_URL", "http://127.0.0.1:9")  # GitHub unreachable
    model = pipeline.unique("comment")
    pipeline.manifest(entry(model, register_diabetes_model(pipeline.mlflow_uri, model)))
    assert pipeline.run("deploy", "--pr-comment") == 0
    err = capsys.readouterr().err
    assert "could not post the plan on the pull request" in err and "ghs_not-a-real-token" not in err
    assert pipeline.aliases(model)["staging"] == "1"


def test_a_version_whose_build_failed_is_not_built_again_on_every_rerun(pipeline, capsys) -> None:
    model = pipeline.unique("rebuild")
    good = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest(entry(model, good))
    assert pipeline.deploy().exit_code == 0
    broken = register_broken_model(pipeline.mlflow_uri, model)
    pipeline.manifest(entry(model, broken))
    assert pipeline.deploy().exit_code == 1  # builds once, fails, puts the good one back
    api, versions = pipeline.serving(f"{model}-stage")
    writes = pipeline.emu.counters.writes()
    capsys.readouterr()

    assert pipeline.run("deploy") == 1  # a re-run: no second Failed version

    captured = capsys.readouterr()
    assert "not building again" in captured.out and "failed to build" in captured.err
    assert "--retry-failed-builds" in captured.err
    assert len(pipeline.domino.model_apis.list_versions(api.id)) == len(versions)
    assert pipeline.emu.counters.writes() == writes
    assert pipeline.deploy(retry_failed=True).exit_code == 1  # asked for: built once more
    assert len(pipeline.domino.model_apis.list_versions(api.id)) == len(versions) + 1


def test_plan_names_every_model_mlflow_does_not_have(pipeline, capsys) -> None:
    known, short = pipeline.unique("known"), pipeline.unique("short")
    register_diabetes_model(pipeline.mlflow_uri, short)
    pipeline.manifest(entry(known, register_diabetes_model(pipeline.mlflow_uri, known)),
                      {"name": "ghost-a", "version": 1}, {"name": short, "version": 99}, {"name": "ghost-b", "version": 2})
    pipeline.monkeypatch.setenv("GITHUB_ACTIONS", "true")
    capsys.readouterr()

    assert pipeline.run("plan", "--env", "STAGE") == 2

    err = capsys.readouterr().err
    annotations = [line for line in err.splitlines() if line.startswith("::error ")]
    assert len(annotations) == 3, err
    assert all("file=scripts/model_version.json" in a for a in annotations)
    assert "'ghost-a'" in err and "'ghost-b'" in err and "no version 99" in err


def test_a_project_that_is_not_in_the_manifest_is_a_typo_not_an_empty_plan(pipeline, capsys) -> None:
    model = pipeline.unique("typo")
    pipeline.manifest(entry(model, register_diabetes_model(pipeline.mlflow_uri, model)))
    assert pipeline.run("deploy", "--project", "65f0c0ffee0000000000000f") == 2
    err = capsys.readouterr().err
    assert "project '65f0c0ffee0000000000000f' is not in" in err and pipeline.project_id in err
    assert pipeline.run("plan", "--env", "STAGE", "--project", "nope") == 2


def test_a_missing_project_token_names_the_project_and_its_secret(pipeline, capsys) -> None:
    model = pipeline.unique("no-token")
    pipeline.manifest(entry(model, register_diabetes_model(pipeline.mlflow_uri, model)))
    pipeline.monkeypatch.delenv(f"PROJECT_ID_{pipeline.project_id}")
    assert pipeline.run("deploy") == 2
    err = capsys.readouterr().err
    assert f"no credential for Domino project {pipeline.project_id}" in err
    assert f"PROJECT_ID_{pipeline.project_id}" in err
