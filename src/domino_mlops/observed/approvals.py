"""Was this run approved, and by someone else? GitHub's record of the run's reviews, not settings.

Settings say who *may* approve; only the run's own review history says who *did*. Before the
first write to a protected environment the run reads
`GET /repos/{owner}/{repo}/actions/runs/{run_id}/approvals` and counts an approval only when it
is `approved`, names the environment's GitHub environment, and comes from a reviewer who is
neither the actor (`GITHUB_ACTOR`: who pushed, merged or dispatched) nor the triggering actor
(`GITHUB_TRIGGERING_ACTOR`: who re-ran it). Anything else refuses (exit 3, api.guard_writes).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from domino_mlops.clients.github import GitHubClient


@dataclass(frozen=True, slots=True)
class RunApprovalVerdict:
    github_environment: str
    run_id: str
    approvers: tuple[str, ...]  # who approved the environment in this run, other than the actors
    self_approved_by: tuple[str, ...] = ()  # approvals that do not count: the actor's own

    @property
    def approved(self) -> bool:
        return bool(self.approvers)


def check_run_approval(github: GitHubClient, github_environment: str, run_id: str,
                       actors: Collection[str]) -> RunApprovalVerdict:
    """Who approved ``github_environment`` in run ``run_id`` other than ``actors``."""
    wanted = github_environment.lower()  # GitHub environment names are case-insensitive
    excluded = {actor.lower() for actor in actors if actor}
    approvers: list[str] = []
    own: list[str] = []
    for review in github.run_approvals(run_id):
        if review.state != "approved" or wanted not in {name.lower() for name in review.environments}:
            continue
        (own if review.user.lower() in excluded else approvers).append(review.user)
    return RunApprovalVerdict(github_environment, run_id, tuple(dict.fromkeys(approvers)), tuple(dict.fromkeys(own)))
