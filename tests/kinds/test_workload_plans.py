"""Planning jobs and apps is pure: (specs, what Domino shows, the ledger) -> WorkloadChanges."""

from __future__ import annotations

from domino_mlops.clients.domino.app_types import App
from domino_mlops.clients.domino.job_types import Job, job_marker
from domino_mlops.desired.environments import Environment
from domino_mlops.desired.workloads import AppSpec, JobSpec, TierChoice
from domino_mlops.plan.steps import PublishApp, RecordLedger, RunJob, SetAppVisibility
from domino_mlops.kinds.apps import app_digest, plan_app
from domino_mlops.kinds.jobs import job_digest, plan_job
from domino_mlops.plan.kinds import in_run_order

STAGE = Environment("STAGE", "staging", "staging", waves=(("small-k8s",),))
JOB = JobSpec("p1", "validate", "python validate.py", variables=(("MIN_AUC", "0.8"),), line=7)
APP = AppSpec("p1", "dashboard", visibility="AUTHENTICATED", line=12)
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def job(key: str, status: str, *, done: bool = True, number: int = 1) -> Job:
    return Job(f"j{number}", number, "p1", f"validate STAGE {job_marker(key)}", "env ...", status, is_completed=done)


def test_a_job_never_run_for_this_commit_starts_with_domino_env_first() -> None:
    change = plan_job(JOB, STAGE, (), commit=COMMIT, action="deploy")
    run, record = change.steps
    assert isinstance(run, RunJob) and run.action == "start" and run.gate
    assert run.variables == (("DOMINO_ENV", "STAGE"), ("MIN_AUC", "0.8"))
    assert run.hardware_tier == "small-k8s"  # the environment's first wave
    assert run.marker == job_digest(JOB, STAGE, COMMIT) + ".1"
    assert record == RecordLedger("STAGE", "validate", None, job_digest(JOB, STAGE, COMMIT), "deploy", subject="job")
    assert change.phase == "before_models" and change.line == 7


def test_a_job_that_succeeded_for_this_commit_is_not_run_again() -> None:
    digest = job_digest(JOB, STAGE, COMMIT)
    change = plan_job(JOB, STAGE, (job(f"{digest}.1", "Succeeded"),), commit=COMMIT, action="deploy",
                      recorded={("job", "validate", digest)})
    assert change.steps == () and "succeeded" in change.observed
    # Its ledger entry lost (a crash after the job): only the entry is written.
    lost = plan_job(JOB, STAGE, (job(f"{digest}.1", "Succeeded"),), commit=COMMIT, action="deploy")
    assert [type(s) for s in lost.steps] == [RecordLedger]


def test_a_running_job_is_joined_and_a_failed_one_gets_a_new_attempt() -> None:
    digest = job_digest(JOB, STAGE, COMMIT)
    joined = plan_job(JOB, STAGE, (job(f"{digest}.1", "Running", done=False),), commit=COMMIT, action="deploy")
    assert joined.steps[0].action == "wait" and joined.steps[0].job_id == "j1"
    retried = plan_job(JOB, STAGE, (job(f"{digest}.1", "Failed"),), commit=COMMIT, action="deploy")
    assert retried.steps[0].action == "start" and retried.steps[0].marker == f"{digest}.2"


def test_a_new_commit_or_definition_runs_the_job_again() -> None:
    assert job_digest(JOB, STAGE, COMMIT) != job_digest(JOB, STAGE, "f" * 40)
    other = JobSpec("p1", "validate", "python validate.py --strict")
    assert job_digest(JOB, STAGE, COMMIT) != job_digest(other, STAGE, COMMIT)


def running_app(**fields) -> App:
    base = dict(id="a1", name="dashboard-stage", status="Running", hardware_tier_id="small-k8s",
                visibility="AUTHENTICATED", running_commit_id="c0ffee" * 6)
    return App(**{**base, **fields})


def test_a_new_app_is_created_and_published_as_app_env() -> None:
    change = plan_app(APP, STAGE, None, action="deploy")
    publish = change.steps[0]
    assert isinstance(publish, PublishApp) and publish.action == "create" and publish.app == "dashboard-stage"
    assert publish.hardware_tier == "small-k8s" and publish.previous is None


def test_an_app_running_as_asked_is_left_alone() -> None:
    change = plan_app(APP, STAGE, running_app(), action="deploy", last_recorded=app_digest(APP, STAGE))
    assert change.steps == ()


def test_an_app_on_another_tier_restarts_with_the_previous_instance_to_put_back() -> None:
    moved = AppSpec("p1", "dashboard", hardware_tier=TierChoice(everywhere="medium-k8s"), visibility="AUTHENTICATED")
    (publish, record) = plan_app(moved, STAGE, running_app(), action="deploy").steps
    assert publish.action == "start" and "small-k8s -> medium-k8s" in publish.reason
    assert publish.previous.hardware_tier == "small-k8s" and publish.previous.commit_id == "c0ffee" * 6
    assert record.subject == "app"


def test_a_visibility_change_alone_is_one_write_without_restart() -> None:
    steps = plan_app(APP, STAGE, running_app(visibility="GRANT_BASED"), action="deploy",
                     last_recorded=app_digest(APP, STAGE)).steps
    assert [type(s) for s in steps] == [SetAppVisibility, RecordLedger]


def test_order_follows_the_phases_then_the_file_across_kinds() -> None:
    from domino_mlops.desired.workloads import Schedule
    from domino_mlops.kinds.scheduled_jobs import plan_schedule

    after = JobSpec("p1", "report", "python report.py", when="after_models", gate=False, line=3)
    # A scheduled job is another kind, planned apart: the file still orders it among the jobs.
    nightly = JobSpec("p1", "nightly", "python retrain.py", schedule=Schedule("0 0 2 * * ?"), gate=False, line=5)
    changes = in_run_order([plan_app(APP, STAGE, None, action="deploy"),
                            plan_job(after, STAGE, (), commit=COMMIT, action="deploy"),
                            plan_job(JOB, STAGE, (), commit=COMMIT, action="deploy"),
                            plan_schedule(nightly, STAGE, None, action="deploy")])
    assert [(c.kind, c.name, c.phase) for c in changes] == [
        ("scheduled_job", "nightly", "before_models"), ("job", "validate", "before_models"),
        ("job", "report", "after_models"), ("app", "dashboard", "apps")]


def test_a_scheduled_job_is_created_then_left_alone_then_replaced() -> None:
    from domino_mlops.clients.domino.job_types import ScheduledJob
    from domino_mlops.desired.workloads import Schedule
    from domino_mlops.plan.steps import ScheduleJob
    from domino_mlops.kinds.scheduled_jobs import plan_schedule, schedule_digest, schedule_identity

    nightly = JobSpec("p1", "nightly", "python retrain.py", schedule=Schedule("0 0 2 * * ?"), gate=False)
    created = plan_schedule(nightly, STAGE, None, action="deploy")
    step = created.steps[0]
    assert isinstance(step, ScheduleJob) and step.action == "create" and step.cron == "0 0 2 * * ?"
    key = f"{schedule_identity(nightly, STAGE)}.{schedule_digest(nightly, STAGE)}"
    assert step.marker == key and step.variables[0] == ("DOMINO_ENV", "STAGE")

    def found(marker: str) -> ScheduledJob:
        return ScheduledJob("s1", "p1", f"nightly STAGE {job_marker(marker)}", "env ...", "0 0 2 * * ?", "UTC",
                            False, "small-k8s")

    same = plan_schedule(nightly, STAGE, found(key), action="deploy",
                         recorded={("job", "nightly", schedule_digest(nightly, STAGE))})
    assert same.steps == ()
    stale = f"{schedule_identity(nightly, STAGE)}.0000000000000000"
    replaced = plan_schedule(nightly, STAGE, found(stale), action="deploy")
    assert replaced.steps[0].action == "update" and replaced.steps[0].scheduled_id == "s1"
