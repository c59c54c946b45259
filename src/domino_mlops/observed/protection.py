"""Is a protected environment really guarded? Asked of GitHub at run time, never assumed.

`environment: production` in a workflow guards nothing by itself: GitHub creates a missing
environment on the fly, with no reviewers, so a typo, a fork or a new repository promotes
unapproved. Before writing to an environment that environments.yaml marks `protected`, the run
asks GitHub whether the GitHub environment it names exists, has required reviewers, and lets only
the default branch deploy; anything less is a refusal (exit 3) that names the setting to fix.
"""

from __future__ import annotations

from dataclasses import dataclass

from domino_mlops.clients.github import GitHubClient


@dataclass(frozen=True, slots=True)
class ProtectionVerdict:
    github_environment: str
    problems: tuple[str, ...]  # each names what is missing and where to set it
    warnings: tuple[str, ...] = ()

    @property
    def guarded(self) -> bool:
        return not self.problems


def check_protection(github: GitHubClient, github_environment: str) -> ProtectionVerdict:
    """Ask GitHub how ``github_environment`` of the run's repository is guarded."""
    settings = f"Settings > Environments > {github_environment} of {github.repository}"
    found = github.environment(github_environment)
    if found is None:
        return ProtectionVerdict(github_environment, (
            f"the GitHub environment {github_environment!r} does not exist in {github.repository} (GitHub would "
            f"create it on the fly, with no reviewers); create it under Settings > Environments with required "
            "reviewers and a deployment branch rule for the default branch only",))
    problems = []
    if found.reviewers == 0:
        problems.append(f"the GitHub environment {github_environment!r} has no required reviewers; add them "
                        f"under {settings} > Required reviewers")
    default = github.default_branch()
    problems += _branch_problems(github, found, default, settings)
    warnings = (f"admins of {github.repository} may bypass the review of {github_environment!r}; untick "
                f"'Allow administrators to bypass' under {settings}",) if found.admins_can_bypass else ()
    return ProtectionVerdict(github_environment, tuple(problems), warnings)


def _branch_problems(github: GitHubClient, found, default: str, settings: str) -> list[str]:
    fix = f"set Deployment branches and tags to the selected branch {default!r} only, under {settings}"
    if not found.has_branch_policy:
        return [f"every branch may deploy to {found.name!r}; {fix}"]
    if found.protected_branches_only:
        others = sorted(set(github.protected_branches()) - {default})
        return [f"protected branches other than {default!r} may deploy to {found.name!r} "
                f"({', '.join(others)}); {fix}"] if others else []
    if found.custom_branch_policies:
        policies = github.branch_policies(found.name)
        admitted = {(p.type, p.name) for p in policies}
        if admitted != {("branch", default)}:
            shown = ", ".join(f"{t} {n}" for t, n in sorted(admitted)) or "none"
            return [f"the deployment branch rules of {found.name!r} admit {shown}, not only the branch "
                    f"{default!r}; {fix}"]
    return []
