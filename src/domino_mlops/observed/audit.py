"""`domino-mlops doctor`: a repository's whole setup, asked of GitHub from outside any run.

The run-time guard (api.guard_writes) refuses one run at a time, when it is about to write; this
audit asks the same questions of every environment at once, before anything runs, and adds what a
run cannot see: where the write secrets are stored and whether the variables the workflows read
exist. It returns frozen findings and prints nothing; each finding names the setting to change.

Severities: ``refuse`` for what would let an unapproved change through, ``warn`` for what would
make a run fail or that could not be checked, ``ok`` for what passed. Only names come back from
GitHub's listings (clients/github.py drops a variable's value), so no finding can carry a value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from domino_mlops.clients.github import GitHubClient, NameListing
from domino_mlops.clients.mlflow.auth import project_token_variable
from domino_mlops.desired.environments import Environment
from domino_mlops.desired.load import Desired
from domino_mlops.desired.reach import DEFAULT_TRACKING_VARIABLE, shared_with_protected
from domino_mlops.errors import NotFound, PermissionDenied
from domino_mlops.observed.protection import check_branch_rule, check_protection

# Secrets that can write (a Domino project, the registry, a Model API's access): a repository or
# organization secret is handed to every job, pull-request plan jobs included.
WRITE_SECRETS = ("DOMINO_USER_API_KEY", "MLFLOW_TRACKING_TOKEN", "DOMINO_MODEL_TOKENS")
WRITE_SECRET_PREFIX = "PROJECT_ID_"
READ_ONLY_SECRETS = ("DOMINO_READONLY_API_KEY", "MLFLOW_READONLY_TOKEN")  # meant for every job
NEEDED_VARIABLES = (DEFAULT_TRACKING_VARIABLE, "DOMINO_API_HOST")

_SECRETS_PERMISSION = ("grant the token read access to secrets (a fine-grained token: Secrets: read; a classic "
                       "token: the repo scope), then run doctor again")
_VARIABLES_PERMISSION = ("grant the token read access to variables (a fine-grained token: Variables: read; a "
                         "classic token: the repo scope), then run doctor again")
_ENVIRONMENTS_PERMISSION = ("grant the token read access to environments (a fine-grained token: Administration: "
                            "read and Actions: read; a workflow's token: actions: read), then run doctor again")


@dataclass(frozen=True, slots=True)
class Finding:
    severity: str  # "refuse" | "warn" | "ok"
    environment: str  # the environments.yaml name; "" for the repository as a whole
    check: str  # "protection" | "environment" | "reach" | "secrets" | "variables"
    message: str
    fix: str = ""
    github_environment: str = ""


@dataclass(frozen=True, slots=True)
class Audit:
    repository: str
    default_branch: str
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        """Nothing that would let an unapproved change through."""
        return not any(f.severity == "refuse" for f in self.findings)


def audit_repository(github: GitHubClient, desired: Desired) -> Audit:
    """Every check, in the order a reader fixes them: environments, reach, secrets, variables."""
    default = github.default_branch()
    findings = [*_environments(github, desired, default), *_repository_secrets(github),
                *_environment_secrets(github, desired), *_variables(github, desired)]
    return Audit(github.repository, default, tuple(findings))


def is_write_secret(name: str) -> bool:
    return name.startswith(WRITE_SECRET_PREFIX) or name in WRITE_SECRETS


# --- 1 and 2: protection and reach -------------------------------------------------------------

def _environments(github: GitHubClient, desired: Desired, default: str) -> Iterator[Finding]:
    for env in desired.environments.items:
        try:
            yield from _environment(github, desired, env, default)
        except PermissionDenied:
            yield _finding("refuse", env, "protection", f"cannot read the GitHub environment "
                           f"{env.github_environment!r} (403), so nothing says it is guarded",
                           _ENVIRONMENTS_PERMISSION)


def _environment(github: GitHubClient, desired: Desired, env: Environment, default: str) -> Iterator[Finding]:
    name = env.github_environment
    if env.protected:
        verdict = check_protection(github, name, allow_admin_bypass=env.allow_admin_bypass)
        yield from (_split("refuse", env, "protection", problem) for problem in verdict.problems)
        yield from (_split("warn", env, "protection", warning) for warning in verdict.warnings)
        if verdict.guarded:
            yield _finding("ok", env, "protection", f"{name!r} has required reviewers who may not approve their "
                           f"own runs and admits only the branch {default!r}")
        return
    # No variable values from outside a run: servers compare by the variable naming them.
    shared = shared_with_protected(env, [desired.environments], [desired.manifest], {})
    if not shared:
        if github.environment(name) is None:
            yield _finding("warn", env, "environment", f"the GitHub environment {name!r} does not exist in "
                           f"{github.repository} (GitHub would create it on the fly, with no rules)",
                           "create it under Settings > Environments")
        else:
            yield _finding("ok", env, "environment", f"{name!r} exists and reaches nothing a protected "
                           "environment uses")
        return
    what = "; ".join(f"what {s.protected} uses ({s.describe()})" for s in shared)
    verdict = check_branch_rule(github, name)
    for problem in verdict.problems:
        problem_what, _, problem_fix = problem.partition("; ")
        separate = shared[0].protected
        yield _finding("refuse", env, "reach", f"its credentials reach {what}, and {problem_what}",
                       f"{problem_fix}; or separate them: give {separate} its own Domino project "
                       f"(domino.project_id) and registered model (mlflow.registered_model: \"{{model}}-prod\")")
    if verdict.guarded:
        yield _finding("ok", env, "reach", f"its credentials reach {what}, and only the branch {default!r} may "
                       f"deploy to {name!r}")


def _split(severity: str, env: Environment, check: str, text: str) -> Finding:
    # protection.py's messages read "<what is wrong>; <what to change, where>".
    what, _, fix = text.partition("; ")
    return _finding(severity, env, check, what, fix)


def _finding(severity: str, env: Environment | None, check: str, message: str, fix: str = "") -> Finding:
    if env is None:
        return Finding(severity, "", check, message, fix)
    return Finding(severity, env.name, check, message, fix, env.github_environment)


# --- 3: where the secrets are ------------------------------------------------------------------

def _repository_secrets(github: GitHubClient) -> Iterator[Finding]:
    where = {"repository": (github.repository_secrets, "a repository secret",
                            "delete it under Settings > Secrets and variables > Actions > Repository secrets"),
             "organization": (github.organization_secrets, f"an organization secret shared with {github.repository}",
                              f"remove {github.repository} from its repository access under the organization's "
                              "Settings > Secrets and variables > Actions")}
    for scope, (listing, kind, remove) in where.items():
        names = _listed(listing, f"the {scope}'s secrets", _SECRETS_PERMISSION)
        if isinstance(names, Finding):
            yield names
            continue
        if names is None:
            continue
        for name in names.names:
            if is_write_secret(name):
                yield Finding("refuse", "", "secrets", f"the write secret {name} is {kind}: every job can read it, "
                              "pull-request plan jobs included",
                              "store it as an environment secret of each GitHub environment that deploys "
                              f"(Settings > Environments > <name> > Environment secrets) and {remove}")
            elif name in READ_ONLY_SECRETS:
                yield Finding("ok", "", "secrets", f"the read-only secret {name} is {kind}, where it belongs")


def _environment_secrets(github: GitHubClient, desired: Desired) -> Iterator[Finding]:
    """A deploying environment without its projects' tokens fails at run time: a warning."""
    for env in desired.environments.items:
        needed = [project_token_variable(p) for p in _projects(desired, env)]
        if not needed:
            continue
        names = _listed(lambda: github.environment_secrets(env.github_environment),
                        f"the secrets of the GitHub environment {env.github_environment!r}", _SECRETS_PERMISSION, env)
        if isinstance(names, Finding):
            yield names
            continue
        if names is None:
            continue  # no such GitHub environment: the protection and reach checks said so
        missing = [name for name in needed if name not in names.names]
        settings = f"Settings > Environments > {env.github_environment} > Environment secrets"
        if missing:
            yield _finding("warn", env, "secrets", f"{env.github_environment!r} has no secret {', '.join(missing)}, "
                           "the Domino project token its deploy jobs need", f"add it under {settings}")
        else:
            yield _finding("ok", env, "secrets", f"{env.github_environment!r} holds {', '.join(needed)}")


def _projects(desired: Desired, env: Environment) -> list[str]:
    """The Domino projects ``env`` deploys (as `domino-mlops environments` lists them)."""
    manifest = desired.manifest
    listed = {item.project_id for item in (*manifest.for_environment(env.name), *manifest.jobs_for(env.name),
                                           *manifest.apps_for(env.name))}
    return [project for project in manifest.project_ids if project in listed]


# --- 4: the variables the workflows read -------------------------------------------------------

def _variables(github: GitHubClient, desired: Desired) -> Iterator[Finding]:
    repository = _listed(github.repository_variables, "the repository's variables", _VARIABLES_PERMISSION)
    if isinstance(repository, Finding):
        yield repository
        return
    repository_names = repository.names if repository is not None else ()
    for env in desired.environments.items:
        needed = [*NEEDED_VARIABLES, *([env.tracking_uri_variable] if env.tracking_uri_variable else [])]
        missing = [name for name in dict.fromkeys(needed) if name not in repository_names]
        if missing:
            own = _listed(lambda: github.environment_variables(env.github_environment),
                          f"the variables of the GitHub environment {env.github_environment!r}",
                          _VARIABLES_PERMISSION, env)
            if isinstance(own, Finding):
                yield own
                continue
            if own is not None:  # None: no such GitHub environment, so nothing set there
                missing = [name for name in missing if name not in own.names]
        for name in missing:
            yield _finding("warn", env, "variables", f"no variable {name}: neither a repository variable nor one of "
                           f"the GitHub environment {env.github_environment!r}",
                           "add it under Settings > Secrets and variables > Actions > Variables (or Settings > "
                           f"Environments > {env.github_environment} > Environment variables)")
        if not missing:
            yield _finding("ok", env, "variables", f"{', '.join(dict.fromkeys(needed))} are set")


def _listed(listing: Callable[[], NameListing], what: str, permission: str,
            env: Environment | None = None) -> NameListing | Finding | None:
    """A listing, the finding that says which permission would let the token read it, or None
    when GitHub has no such environment."""
    try:
        return listing()
    except NotFound:
        return None
    except PermissionDenied:
        # A warning, not a refusal: a workflow's own GITHUB_TOKEN can never read secrets.
        check = "secrets" if permission is _SECRETS_PERMISSION else "variables"
        return _finding("warn", env, check, f"cannot list {what}: the token may not read them (403)", permission)
