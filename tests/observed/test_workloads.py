"""What Domino shows of jobs and apps: one pass per project, stopped once nothing older matters."""

from __future__ import annotations

from types import SimpleNamespace

from domino_mlops.clients.domino.app_types import App
from domino_mlops.clients.domino.job_types import Job, job_marker
from domino_mlops.observed.workloads import observe_apps, observe_job_runs


def job(number: int, key: str | None, status: str) -> Job:
    title = f"validate STAGE {job_marker(key)}" if key else "someone else's job"
    return Job(f"j{number}", number, "p1", title, "env ...", status, is_completed=status != "Running")


class Jobs:
    def __init__(self, jobs: list[Job]) -> None:
        self.jobs, self.read = jobs, 0

    def newest(self, project_id: str):
        for item in self.jobs:
            self.read += 1
            yield item


def test_marked_jobs_are_grouped_by_digest_newest_first_and_the_scan_stops_when_all_succeeded() -> None:
    jobs = Jobs([job(5, None, "Succeeded"), job(4, "aaaa.2", "Succeeded"), job(3, "bbbb.1", "Failed"),
                 job(2, "aaaa.1", "Failed"), job(1, "cccc.1", "Succeeded")])
    found = observe_job_runs(SimpleNamespace(jobs=jobs), "p1", {"aaaa", "bbbb"})
    assert [j.number for j in found["aaaa"]] == [4, 2] and [j.number for j in found["bbbb"]] == [3]
    assert jobs.read == 5  # bbbb never succeeded: read to the end
    early = Jobs(list(jobs.jobs))
    observe_job_runs(SimpleNamespace(jobs=early), "p1", {"aaaa"})
    assert early.read == 2  # aaaa succeeded on the second job: older ones cannot change the plan


def test_apps_are_found_by_their_domino_name() -> None:
    apps = SimpleNamespace(list=lambda project: (App("a1", "dashboard-stage"), App("a2", "dashboard-prod")))
    assert observe_apps(SimpleNamespace(apps=apps), "p1", {"dashboard-prod"}) == {"dashboard-prod": App("a2", "dashboard-prod")}
    assert observe_apps(SimpleNamespace(apps=apps), "p1", set()) == {}
