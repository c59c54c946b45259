"""An ApplyResult with jobs and apps, as the step summary and result-json show it."""

from __future__ import annotations

from domino_mlops.apply.executor import ApplyResult, ModelResult
from domino_mlops.apply.workload_run import WorkloadResult
from domino_mlops.errors import BlockedByJob, JobFailed
from domino_mlops.report.results import result_to_dict, result_to_markdown


def test_jobs_and_apps_sit_beside_the_models_with_a_failed_job_s_last_lines() -> None:
    failed = JobFailed("validate", "STAGE", "Failed", 7, ("Traceback (most recent call last):", "RuntimeError: x"),
                       gate=True)
    blocked = BlockedByJob("model 'churn'", "STAGE", ["gate job validate"])
    result = ApplyResult("STAGE", (ModelResult("churn", "3", "blocked", str(blocked), error=blocked),), (
        WorkloadResult("job", "validate", "failed", str(failed), 1, ("j7",), log_tail=failed.log_tail, error=failed),
        WorkloadResult("app", "dashboard", "blocked", "app 'dashboard' was not applied in STAGE"),
    ))

    markdown = result_to_markdown(result, title="Deployed")
    assert "#### Jobs and apps" in markdown and "| job | `validate` | failed |" in markdown
    assert "```text\nTraceback (most recent call last):\nRuntimeError: x\n```" in markdown
    assert "| :no_entry: | `churn` |" in markdown
    document = result_to_dict(result)
    assert document["exit_code"] == 1
    assert [(w["kind"], w["name"], w["status"]) for w in document["workloads"]] == [
        ("job", "validate", "failed"), ("app", "dashboard", "blocked")]
    assert document["workloads"][0]["log_tail"][-1] == "RuntimeError: x"
