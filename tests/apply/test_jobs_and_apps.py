"""Jobs and apps through the same plan and apply as the models (issue 11): a validation job before
the model (a gate), the model, then a dashboard app, in one environment.

Against a real MLflow server and the Domino emulator over HTTP, through the facade
(domino_mlops.api); a first deploy and a failed one through ``cli.main`` as a workflow step runs
them, for what a reader sees (the order printed, the summary, result-json, a job's log). The emulator fails a job whose command matches "fail" (its log ends with a
traceback) and an app started on a tier of the fault plan's ``failing_tiers``.
"""

from __future__ import annotations

import json

from domino_emulator.local.models import SAMPLE_PATIENT, register_diabetes_model

SMOKE = {"input": SAMPLE_PATIENT, "expect_shape": [1]}
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def workloads_manifest(pipeline, model: str, version: str, *, job_command: str = "python validate.py",
                       app: str = "dashboard", app_tier: str | None = None, job: str = "validate") -> None:
    app_spec: dict = {"name": app, "visibility": "AUTHENTICATED"}
    if app_tier:
        app_spec["hardware_tier"] = app_tier
    doc = {pipeline.project_id: {
        "models": [{"name": model, "version": int(version), "smoke_test": SMOKE}],
        "jobs": [{"name": job, "command": job_command, "variables": {"MIN_AUC": "0.8"}}],
        "apps": [app_spec],
    }}
    (pipeline.root / "scripts" / "model_version.json").write_text(json.dumps(doc, indent=2))


def workload_statuses(outcome) -> dict[str, str]:
    """Each job's and app's status in a facade outcome, by name."""
    return {w.name: w.status for w in outcome.result.workloads}


def domino_writes(pipeline) -> list[str]:
    return [r.route for r in pipeline.emu.requests if r.method in WRITES]


def app_named(pipeline, name: str, env: str = "stage"):
    """The Domino app serving manifest app ``name`` in ``env`` (``<app>-<env>``)."""
    return next(a for a in pipeline.domino.apps.list(pipeline.project_id) if a.name == f"{name}-{env}")


def result_json(pipeline) -> dict:
    text = (pipeline.root / "github_output").read_text()
    start = text.rindex("result-json<<")
    delimiter = text[start:].split("\n", 1)[0].split("<<", 1)[1]
    body = text[start:].split("\n", 1)[1]
    return json.loads(body[:body.index("\n" + delimiter)])


def test_job_model_app_in_order_then_a_rerun_writes_nothing(pipeline, capsys) -> None:
    model = pipeline.unique("jobs-apps")
    version = register_diabetes_model(pipeline.mlflow_uri, model)
    app, validate = pipeline.unique("dashboard"), pipeline.unique("validate")  # the ledger is shared
    workloads_manifest(pipeline, model, version, app=app, job=validate)

    assert pipeline.run("deploy", "--env", "STAGE") == 0

    out = capsys.readouterr().out
    # The order the manifest gives: the validation job, then the model, then the app.
    assert out.index(f"[job {validate}] started job") < out.index(f"[{model}]") < out.index(f"[app {app}] created app")
    assert "DOMINO_ENV" not in out or "DOMINO_ENV=STAGE" in out
    job = next(j for j in pipeline.domino.jobs.newest(pipeline.project_id) if j.title and f"{validate} STAGE" in j.title)
    assert job.succeeded and job.command.startswith("env DOMINO_ENV=STAGE MIN_AUC=0.8 python validate.py")
    running = app_named(pipeline, app)
    assert running.is_running and running.hardware_tier_id == "small-k8s" and running.visibility == "AUTHENTICATED"
    assert pipeline.aliases(model)["staging"] == version
    summary = (pipeline.root / "summary.md").read_text()
    assert "#### Jobs and apps" in summary and f"`{validate}`" in summary and f"`{app}`" in summary
    kinds = {(w["kind"], w["name"]): w["status"] for w in result_json(pipeline)["workloads"]}
    assert kinds == {("job", validate): "done", ("app", app): "done"}
    assert [e["kind"] for e in pipeline.ledger(validate)] == ["job"]
    assert [e["kind"] for e in pipeline.ledger(app)] == ["app"]

    # History answers for jobs and apps too.
    capsys.readouterr()
    assert pipeline.run("history", "--app", app, "--env", "STAGE") == 0
    assert f"Ledger of app {app}" in capsys.readouterr().out

    before_domino, before_mlflow = len(domino_writes(pipeline)), pipeline.mlflow_state(model)
    again = pipeline.deploy()
    assert again.result is None and again.nothing_to_do == "already serves what the manifest says"
    assert domino_writes(pipeline)[before_domino:] == []  # the job is not run again, the app not restarted
    assert pipeline.mlflow_state(model) == before_mlflow


def test_a_failing_gate_job_blocks_the_model_and_shows_its_log(pipeline, capsys) -> None:
    model = pipeline.unique("gated")
    version = register_diabetes_model(pipeline.mlflow_uri, model)
    app = pipeline.unique("dashboard")
    workloads_manifest(pipeline, model, version, job_command="python validate.py --fail", app=app)
    before = pipeline.mlflow_state(model)

    assert pipeline.run("deploy", "--env", "STAGE") == 1

    captured = capsys.readouterr()
    assert "job 'validate'" in captured.err and "ended Failed" in captured.err
    assert "RuntimeError: emulated failure" in captured.err  # the job's last log lines
    assert pipeline.mlflow_state(model) == before  # nothing marked in MLflow, no ledger entry
    assert pipeline.domino.model_apis.find(pipeline.project_id, f"{model}-stage") is None
    assert all(a.name != f"{app}-stage" for a in pipeline.domino.apps.list(pipeline.project_id))  # the app waits
    summary = (pipeline.root / "summary.md").read_text()
    assert "RuntimeError: emulated failure" in summary and "blocked" in summary
    statuses = {w["name"]: w["status"] for w in result_json(pipeline)["workloads"]}
    assert statuses == {"validate": "failed", app: "blocked"}

    # Fixed: a new attempt runs (the failed one does not count as run), and the model moves.
    workloads_manifest(pipeline, model, version, app=app)
    fixed = pipeline.deploy()
    assert fixed.exit_code == 0 and workload_statuses(fixed) == {"validate": "done", app: "done"}
    assert pipeline.aliases(model)["staging"] == version


def test_an_app_that_fails_to_start_is_put_back(pipeline) -> None:
    model = pipeline.unique("app-putback")
    version = register_diabetes_model(pipeline.mlflow_uri, model)
    app = pipeline.unique("dashboard")
    workloads_manifest(pipeline, model, version, app=app)
    assert pipeline.deploy().exit_code == 0
    first = app_named(pipeline, app)

    workloads_manifest(pipeline, model, version, app=app, app_tier="medium-k8s")
    pipeline.emu.set_faults({"failing_tiers": ["medium-k8s"]})  # the new tier cannot serve the app
    outcome = pipeline.deploy()
    assert outcome.exit_code == 1

    again = app_named(pipeline, app)
    assert again.is_running and again.hardware_tier_id == "small-k8s"
    assert again.running_commit_id == first.running_commit_id
    (put_back,) = [w for w in outcome.result.workloads if w.name == app]
    assert put_back.status == "put back" and "is running again" in put_back.message
    assert [e["kind"] for e in pipeline.ledger(app)] == ["app"]  # the failed change is not recorded


def test_a_scheduled_job_is_created_once_and_replaced_when_it_changes(pipeline) -> None:
    """A project with only a scheduled job (no model): Domino runs it; the pipeline keeps its definition."""
    name = pipeline.unique("nightly")

    def declare(cron: str) -> None:
        doc = {pipeline.project_id: {"jobs": [{"name": name, "command": "python retrain.py", "gate": False,
                                               "schedule": {"cron": cron, "timezone": "Europe/Paris"}}]}}
        (pipeline.root / "scripts" / "model_version.json").write_text(json.dumps(doc, indent=2))

    def mine():
        return [s for s in pipeline.domino.scheduled_jobs.list(pipeline.project_id) if s.title.startswith(f"{name} ")]

    declare("0 0 2 * * ?")
    assert pipeline.deploy().exit_code == 0
    (scheduled,) = mine()
    assert scheduled.cron == "0 0 2 * * ?" and scheduled.timezone == "Europe/Paris"
    assert scheduled.command.startswith("env DOMINO_ENV=STAGE python retrain.py")
    assert scheduled.hardware_tier_id == "small-k8s"

    writes = len(domino_writes(pipeline))
    assert pipeline.deploy().result is None
    assert domino_writes(pipeline)[writes:] == []

    declare("0 30 3 * * ?")
    assert pipeline.deploy().exit_code == 0
    (replaced,) = mine()
    assert replaced.id == scheduled.id and replaced.cron == "0 30 3 * * ?"
    assert domino_writes(pipeline)[writes:] == ["PUT /v4/projects/{projectId}/scheduledjobs/{scheduledJobKey}"]
    assert [e["kind"] for e in pipeline.ledger(name)] == ["job", "job"]


def test_a_failing_job_that_is_no_gate_fails_the_run_but_not_the_model(pipeline) -> None:
    model = pipeline.unique("no-gate")
    version = register_diabetes_model(pipeline.mlflow_uri, model)
    doc = {pipeline.project_id: {
        "models": [{"name": model, "version": int(version), "smoke_test": SMOKE}],
        "jobs": [{"name": "profile", "command": "python profile.py --fail", "gate": False}],
    }}
    (pipeline.root / "scripts" / "model_version.json").write_text(json.dumps(doc, indent=2))

    outcome = pipeline.deploy()
    assert outcome.exit_code == 1

    assert pipeline.aliases(model)["staging"] == version  # the model moved all the same
    assert [m.status for m in outcome.result.models] == ["done"]
    (job,) = outcome.result.workloads
    assert job.status == "failed" and "RuntimeError: emulated failure" in job.log_tail


def test_in_a_rollout_a_failed_model_keeps_the_app_from_publishing(pipeline) -> None:
    model = pipeline.unique("roll-app")
    version = register_diabetes_model(pipeline.mlflow_uri, model)
    app = pipeline.unique("dashboard")
    workloads_manifest(pipeline, model, version, app=app)
    pipeline.emu.set_faults({"failing_tiers": ["small-k8s"]})  # DEV's only data plane cannot serve

    outcome = pipeline.deploy("rollout", env="DEV")
    assert outcome.exit_code == 1

    assert workload_statuses(outcome) == {"validate": "done", app: "blocked"}
    assert all(a.name != f"{app}-dev" for a in pipeline.domino.apps.list(pipeline.project_id))
    assert "dev" not in pipeline.aliases(model)
