"""The approved plan is the applied plan: the plan job's digest must match the apply job's
re-plan (--expect-plan-digest), or nothing is written (exit 4: PlanChanged). Through the facade
(domino_mlops.api); the CLI for what it prints and outputs, and the digest given to it as text.
"""

from __future__ import annotations

import os
from dataclasses import replace

import pytest

from domino_mlops import api
from domino_mlops.desired.environments import default_environments
from domino_emulator.local.models import SAMPLE_PATIENT, register_diabetes_model
from domino_mlops.errors import PlanChanged
from domino_mlops.plan.digest import digests_by_project, plan_digest
from domino_mlops.plan.steps import DeployVersion, ModelChange, Plan
from tests.report.test_github import parse_output_file

SMOKE = {"input": SAMPLE_PATIENT, "expect_shape": [1]}


def outputs(pipeline) -> dict[str, str]:
    return parse_output_file((pipeline.root / "github_output").read_text())


def approved_digest(pipeline, env: str) -> str:
    """The digest a reviewer approves, planned as the plan job plans: at the run's commit, without
    the smoke tests' tokens (commands/plan.py)."""
    planned = pipeline.call("plan", api.PlanRequest(env, see_tokens=False, commit=os.environ["GITHUB_SHA"]))
    return plan_digest(planned.plan, planned.environment)


def test_an_alias_that_moved_after_approval_is_refused_and_nothing_written(pipeline) -> None:
    model = pipeline.unique("candidate")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    v2 = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.mlflow.set_registered_model_alias(model, "candidate", v1)
    pipeline.manifest({"name": model, "version": "@candidate", "smoke_test": SMOKE})
    assert pipeline.deploy().exit_code == 0
    approved = approved_digest(pipeline, "PROD")  # what the reviewer saw: @candidate = v1
    # Meanwhile someone moves @candidate to v2, which passes staging too.
    pipeline.mlflow.set_registered_model_alias(model, "candidate", v2)
    assert pipeline.deploy().exit_code == 0
    before, writes = pipeline.mlflow_state(model), pipeline.emu.counters.writes()

    with pytest.raises(PlanChanged) as refused:
        pipeline.deploy("promote", expect_plan_digest=approved)

    assert refused.value.exit_code == 4 and refused.value.approved == approved
    assert "the plan for PROD is not the one that was approved" in str(refused.value)
    assert "re-run the whole workflow" in refused.value.hint
    assert pipeline.mlflow_state(model) == before and pipeline.emu.counters.writes() == writes
    assert "production" not in pipeline.aliases(model)


def test_the_approved_plan_is_applied(pipeline, capsys) -> None:
    model = pipeline.unique("approved")
    version = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest({"name": model, "version": int(version), "smoke_test": SMOKE})
    assert pipeline.deploy().exit_code == 0
    assert pipeline.run("plan", "--env", "PROD") == 0
    out = outputs(pipeline)
    assert out["plan-digests"] == f'{{"{pipeline.project_id}":"{out["plan-digest"]}"}}'
    assert f"Plan digest: `{out['plan-digest']}`" in (pipeline.root / "summary.md").read_text()

    assert pipeline.run("promote", "--env", "PROD", "--project", pipeline.project_id,
                        "--expect-plan-digest", out["plan-digest"].upper()) == 0
    assert "The plan is the approved one" in capsys.readouterr().out
    assert pipeline.aliases(model)["production"] == version


def test_a_rerun_after_a_partial_first_attempt_keeps_the_digest(pipeline) -> None:
    """One model of two promoted (a first attempt that failed half-way): the re-run's plan has
    the approved digest, so re-running the failed job alone goes ahead."""
    first, second = pipeline.unique("half-a"), pipeline.unique("half-b")
    entries = [{"name": m, "version": int(register_diabetes_model(pipeline.mlflow_uri, m)), "smoke_test": SMOKE}
               for m in (first, second)]
    pipeline.manifest(*entries)
    assert pipeline.deploy().exit_code == 0
    approved = approved_digest(pipeline, "PROD")
    assert pipeline.deploy("promote", model=first).exit_code == 0  # the half that got through

    outcome = pipeline.deploy("promote", expect_plan_digest=approved)
    assert outcome.exit_code == 0
    assert {m.model: m.status for m in outcome.result.models} == {first: "unchanged", second: "done"}
    assert {m: pipeline.aliases(m)["production"] for m in (first, second)} == {first: "1", second: "1"}


def test_nothing_to_do_still_fills_the_endpoint_outputs(pipeline) -> None:
    model = pipeline.unique("idle")
    pipeline.manifest({"name": model, "version": int(register_diabetes_model(pipeline.mlflow_uri, model)),
                       "smoke_test": SMOKE})
    assert pipeline.run("deploy", "--env", "STAGE") == 0
    done = outputs(pipeline)
    (pipeline.root / "github_output").write_text("")

    assert pipeline.run("deploy", "--env", "STAGE") == 0  # a re-run: nothing to change

    again = outputs(pipeline)
    assert again["has-changes"] == "false"
    for name in ("endpoint-url", "model-api-id", "model-api-version-id"):
        assert again[name] == done[name] and again[name]


# --- what the digest covers -------------------------------------------------------------------

def _plan(**change) -> Plan:
    step = DeployVersion("m", "3", "p", "m-prod", "medium-k8s", 0, "create_version", "api-1", None, "v-9")
    base = dict(project_id="p", model="m", requested="@candidate", version="3", current="2", run_id="r",
                steps=(step,), manifest_project="p")
    return Plan("PROD", "production", "both", (ModelChange(**{**base, **change}),))


def test_the_digest_covers_destinations_not_mechanics() -> None:
    prod = default_environments().get("PROD")
    digest = plan_digest(_plan(), prod)
    # How the apply reaches the goal, and where the alias points now, are not approved: same digest.
    assert plan_digest(_plan(current="3", steps=()), prod) == digest
    assert plan_digest(_plan(gate=None, line=99), prod) == digest
    # Where the model goes is: each of these differs.
    assert plan_digest(_plan(version="4"), prod) != digest
    assert plan_digest(_plan(requested="4"), prod) != digest
    assert plan_digest(_plan(replicas=5), prod) != digest
    assert plan_digest(_plan(), replace(prod, waves=(("medium-k8s",), ("gpu",)))) != digest
    assert plan_digest(_plan(), replace(prod, model_api=replace(prod.model_api, record_invocation=False))) != digest
    assert plan_digest(_plan(), default_environments().get("STAGE")) != digest
    assert digests_by_project(_plan(), prod) == {"p": digest}


def test_digests_by_project_read_each_model_a_bounded_number_of_times(monkeypatch) -> None:
    """Per project, the digest of that project's models alone (workloads too), found in one pass:
    filtering the whole plan once per project was projects x models (5,000,000 reads at 10,000
    entries in 500 projects)."""
    from domino_mlops.plan.steps import WorkloadChange

    prod = default_environments().get("PROD")
    changes = tuple(ModelChange(project_id=f"p{i % 30}", model=f"m{i}", requested="1", version="1", current=None,
                                run_id="r", steps=(), manifest_project=f"p{i % 30}") for i in range(300))
    job = WorkloadChange(subject="job", name="train", project_id="p31", phase="before_models", steps=(), digest="d")
    plan = Plan("PROD", "production", "both", changes, workloads=(job,))
    expected = {f"p{n}": plan_digest(plan, prod, project=f"p{n}") for n in (*range(30), 31)}
    reads = []
    original = ModelChange.registry_project
    monkeypatch.setattr(ModelChange, "registry_project", property(lambda c: reads.append(c) or original.fget(c)))

    assert digests_by_project(plan, prod) == expected
    assert len(reads) <= 2 * len(changes)
