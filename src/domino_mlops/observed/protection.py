"""Is a protected environment really guarded? Asked of GitHub at run time, never assumed.

`environment: production` in a workflow guards nothing by itself: GitHub creates a missing
environment on the fly, with no reviewers, so a typo, a fork or a new repository promotes
unapproved. Before writing to an environment that environments.yaml marks `protected`, the run
asks GitHub whether the GitHub environment it names exists, has required reviewers who may not
approve their own runs, cannot be bypassed by administrators (unless environments.yaml says
`allow_admin_bypass: true`), and lets only the default branch deploy; anything less is a refusal
(exit 3) that names the setting to fix.

The same branch rule is asked of every environment that shares reach with a protected one
(desired/reach.py): GitHub then never hands its secrets to a pull request or another branch.
"""

from __future__ import annotations

from dataclasses import dataclass

from domino_mlops.clients.github import EnvironmentProtection, GitHubClient


@dataclass(frozen=True, slots=True)
class ProtectionVerdict:
    github_environment: str
    problems: tuple[str, ...]  # each names what is missing and where to set it
    warnings: tuple[str, ...] = ()

    @property
    def guarded(self) -> bool:
        return not self.problems


def check_protection(github: GitHubClient, github_environment: str, *,
                     allow_admin_bypass: bool = False) -> ProtectionVerdict:
    """Ask GitHub how ``github_environment`` of the run's repository is guarded."""
    settings = _settings(github, github_environment)
    found = github.environment(github_environment)
    if found is None:
        return ProtectionVerdict(github_environment, (_missing(github, github_environment),))
    problems = []
    if found.reviewers == 0:
        problems.append(f"the GitHub environment {github_environment!r} has no required reviewers; add them "
                        f"under {settings} > Required reviewers")
    elif not found.prevent_self_review:
        problems.append(f"the reviewers of {github_environment!r} may approve a run they started themselves; tick "
                        f"'Prevent self-review' under {settings} > Required reviewers")
    warnings: tuple[str, ...] = ()
    if found.admins_can_bypass:
        bypass = (f"administrators of {github.repository} may bypass the review of {github_environment!r}; untick "
                  f"'Allow administrators to bypass configured protection rules' under {settings}")
        if allow_admin_bypass:
            warnings = (bypass + " (accepted: environments.yaml says allow_admin_bypass: true)",)
        else:
            problems.append(bypass + " (or accept it with allow_admin_bypass: true in environments.yaml)")
    problems += _branch_problems(github, found, github.default_branch(), settings)
    return ProtectionVerdict(github_environment, tuple(problems), warnings)


def check_branch_rule(github: GitHubClient, github_environment: str) -> ProtectionVerdict:
    """Only the deployment branch rule: does ``github_environment`` exist and admit only the
    default branch? What an environment sharing reach with a protected one must satisfy."""
    found = github.environment(github_environment)
    if found is None:
        return ProtectionVerdict(github_environment, (_missing(github, github_environment),))
    settings = _settings(github, github_environment)
    return ProtectionVerdict(github_environment,
                             tuple(_branch_problems(github, found, github.default_branch(), settings)))


def _settings(github: GitHubClient, github_environment: str) -> str:
    return f"Settings > Environments > {github_environment} of {github.repository}"


def _missing(github: GitHubClient, github_environment: str) -> str:
    return (f"the GitHub environment {github_environment!r} does not exist in {github.repository} (GitHub would "
            f"create it on the fly, with no reviewers and no branch rule); create it under Settings > Environments "
            "with a deployment branch rule for the default branch only")


def _branch_problems(github: GitHubClient, found: EnvironmentProtection, default: str, settings: str) -> list[str]:
    fix = f"set Deployment branches and tags to the selected branch {default!r} only, under {settings}"
    if not found.has_branch_policy:
        return [f"every branch may deploy to {found.name!r}; {fix}"]
    if found.protected_branches_only:
        protected = set(github.protected_branches())
        if not protected:
            # GitHub: "If no branch protection rules are defined for any branch in the repository,
            # then all branches can deploy."
            return [f"{found.name!r} admits protected branches, and {github.repository} protects none, so every "
                    f"branch may deploy; {fix}"]
        others = sorted(protected - {default})
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
