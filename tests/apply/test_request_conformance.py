"""Every request our client sends is one Domino publishes (conformance, part b).

The product's real paths run against the emulator (deploy, a new version, promotion in waves,
rollback, a failed build put back, a smoke test with a token) and the client's other calls run
once each (jobs, scheduled jobs, apps and an app's page, export, tiers, projects). The emulator's
request log then holds every request as sent; each is checked against the contract: its body
against the request schema, its query parameters (none the route does not declare) and its path
parameters. Every route the client may call must have been called.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

from domino_mlops.clients.domino.custom_metrics import MetricAlert, MetricValue, TargetRange
from domino_mlops.clients.domino.scheduled_jobs import NewScheduledJob
from domino_emulator.contract import load_contract
from domino_emulator.local.models import SAMPLE_PATIENT, register_broken_model, register_diabetes_model
from tests.support.emulator import wait_until

SMOKE = {"input": SAMPLE_PATIENT, "expect_shape": [1]}


def test_every_request_the_client_sends_is_published(restricted) -> None:
    pipeline, emu = restricted, restricted.emu
    emu.reset_log()
    model = pipeline.unique("conform")
    v1 = register_diabetes_model(pipeline.mlflow_uri, model)
    v2 = register_diabetes_model(pipeline.mlflow_uri, model, alpha=2.0)
    pipeline.manifest({"name": model, "version": int(v1), "smoke_test": SMOKE})
    assert pipeline.run("deploy", "--env", "STAGE") == 0  # creates the Model API
    api, _ = pipeline.serving(f"{model}-stage")
    pipeline.monkeypatch.setenv("DOMINO_MODEL_TOKENS_STAGE", emu.issue_model_token(api.id, "ci"))
    pipeline.manifest({"name": model, "version": int(v2), "smoke_test": SMOKE})
    assert pipeline.run("deploy", "--env", "STAGE") == 0  # a new version, smoke-tested with the token
    assert pipeline.run("promote", "--env", "PROD") == 0  # two waves of new Model APIs
    pipeline.manifest({"name": model, "version": int(v1), "smoke_test": SMOKE})
    pipeline.mlflow.set_model_version_tag(model, v1, "domino_mlops.STAGE.status", "passed")
    assert pipeline.run("promote", "--env", "PROD") == 0
    assert pipeline.run("rollback", "--env", "PROD", "--model", model) == 0  # restarts a built version
    broken = register_broken_model(pipeline.mlflow_uri, model)
    pipeline.manifest({"name": model, "version": int(broken), "smoke_test": SMOKE})
    assert pipeline.run("deploy", "--env", "STAGE") == 1  # fails, reads the build log, puts v2 back

    _the_clients_other_calls(pipeline, api.id)

    contract, problems, called = load_contract(), [], set()
    for record in emu.requests:
        route = contract.match(record.method, record.path)
        if route is None:
            problems.append(f"{record.method} {record.path}: not a published route")
            continue
        called.add(route.key)
        problems += [f"{route.key}: {p}" for p in contract.check_request(
            route, record.body, query=record.query, path=record.path, strict_query=True)]
    assert problems == []
    assert {r.key for r in contract.routes if r.client} - called == set()


def _the_clients_other_calls(pipeline, model_api_id: str) -> None:
    """What the product's paths above did not call: each client method once, as a caller would."""
    domino, project = pipeline.domino, pipeline.project_id
    version = domino.model_apis.list_versions(model_api_id)[-1]
    api = domino.model_apis.get(model_api_id)
    domino.model_apis.update(api.id, name=api.name, description="updated", environment_id=api.environment_id,
                             replicas=1)
    for kind in ("instanceLogs", "exportLogs"):
        domino.model_apis.logs(api.id, version.id, kind)
    domino.deployments.status(api.id, version.id)
    started = domino.deployments.export_image(api.id, version.id, registry_url="registry.example.com",
                                              username="bot", password="pw", repository="ml/churn", tag="v1")
    wait_until(lambda: domino.deployments.export_status(started.export_id), lambda s: s.is_complete or s.is_failed)
    domino.deployments.export_logs(started.export_id)
    domino.deployments.stop(api.id, version.id)
    domino.model_apis.delete(domino.model_apis.create(
        project_id=project, name=pipeline.unique("to-delete"), environment_id=api.environment_id,
        source=version.source).id)
    job = domino.jobs.start(project, "python train.py", title="train", hardware_tier="small-k8s",
                            variables={"DOMINO_ENV": "STAGE"}, marker=pipeline.unique("job"))
    domino.jobs.get(job.id)
    domino.jobs.logs(job.id)
    domino.jobs.stop(job.id)
    assert domino.jobs.find_marked(project, job.marker).id == job.id
    schedule = NewScheduledJob(title="score", command="python score.py", cron="0 0 6 * * ?",
                               hardware_tier="small-k8s", scheduled_by=domino.current_user().id, branch="main",
                               marker=pipeline.unique("schedule"))
    scheduled = domino.scheduled_jobs.create(project, schedule)
    domino.scheduled_jobs.update(project, scheduled.id, replace(schedule, paused=True))
    domino.scheduled_jobs.list(project)
    domino.scheduled_jobs.delete(project, scheduled.id)
    # Custom metrics of a model served outside Domino (monitor-agent's calls).
    monitored, at = pipeline.emu.add_monitored_model(project, pipeline.unique("exported")), datetime.now(timezone.utc)
    domino.custom_metrics.log_values([MetricValue(monitored, "accuracy", 0.9, at, (("region", "eu"),))])
    domino.custom_metrics.read_values(monitored, "accuracy", start=at, end=at)
    domino.custom_metrics.send_alert(MetricAlert(monitored, "accuracy", 0.9, TargetRange("lessThan", upper_limit=0.5)))
    # Apps through the public Apps API (this Domino publishes it): a publish creates the app with its
    # first version, a second one changes the entry point (PATCH) and adds a version.
    name = pipeline.unique("dash")
    first = domino.apps.publish(project, name, visibility="AUTHENTICATED", entry_point="app.sh",
                                hardware_tier_id="small-k8s")
    domino.apps.publish(project, name, app_id=first.app_id, visibility="AUTHENTICATED", entry_point="run.sh",
                        hardware_tier_id="small-k8s")
    app = wait_until(lambda: domino.apps.get(first.app_id), lambda a: a.is_running or a.is_failed)[-1]
    domino.apps.page(app, "/health")
    domino.apps.list(project)
    domino.apps.stop(app)
    # ... and through the v4 routes, as a Domino before the public Apps API serves them (a fresh
    # client: the probe is made once per client).
    pipeline.emu.set_faults({"v4_apps_only": True})
    older = pipeline.domino
    app_id = older.apps.create(project, pipeline.unique("dash"), visibility="AUTHENTICATED", entry_point="app.sh")
    older.apps.start(app_id, hardware_tier_id="small-k8s")
    older.apps.set_visibility(app_id, "PUBLIC")
    app = wait_until(lambda: older.apps.get(app_id), lambda a: a.is_running or a.is_failed)[-1]
    older.apps.page(app, "/health")
    older.apps.instances(app_id)
    older.apps.list(project)
    older.apps.stop(app_id)
    pipeline.emu.set_faults(None)
    domino.all_hardware_tiers()
    domino.hardware_tiers(project)
    found = domino.find_project(pipeline.emu.owner, pipeline.emu.project_name)
    assert domino.get_project(found.id).name == pipeline.emu.project_name
    assert domino.project_environments(project).default() is not None
