"""What `domino-mlops init` writes into a consumer repository, as text: pure, no I/O.

A consumer repository holds only its two files (the manifest and the environments), one workflow
that calls this project's reusable workflows pinned to a release's commit, a CODEOWNERS for the
files that decide what is deployed, and a dependabot.yml that proposes the next release's commit.

    >>> files = render(Answers(project="65f0", ref="0" * 40, release="v1.2.0", owners=("@acme/ml",),
    ...                        environments=default_environments()))
    >>> sorted(files)[:2]
    ['.github/CODEOWNERS', '.github/dependabot.yml']
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from domino_mlops.errors import ConfigError

DEFAULT_REPOSITORY = "domino-mlops/domino-mlops"
SHA = re.compile(r"^[0-9a-f]{40}$")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_TIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_PROJECT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_OWNER = re.compile(r"^@[A-Za-z0-9][A-Za-z0-9._/-]*$|^[^@\s]+@[^@\s]+$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$")
# The names the workflows use for GitHub environments and aliases; anything else: its name in lower case.
_GITHUB_ENVIRONMENT = {"DEV": "dev", "STAGE": "staging", "PROD": "production"}
_ALIAS = {"STAGE": "staging", "PROD": "production"}
# The reusable workflows deploy STAGE on a merge and promote PROD after it.
REQUIRED = ("STAGE", "PROD")
WORKFLOW = ".github/workflows/models.yml"


@dataclass(frozen=True, slots=True)
class EnvironmentAnswer:
    name: str
    waves: tuple[tuple[str, ...], ...]  # hardware tiers, wave by wave
    project_id: str = ""  # its own Domino project (the separated topology); "" = the manifest's

    @property
    def github_environment(self) -> str:
        return _GITHUB_ENVIRONMENT.get(self.name, self.name.lower())

    @property
    def protected(self) -> bool:
        return self.name == "PROD"


@dataclass(frozen=True, slots=True)
class Answers:
    project: str  # the Domino project the manifest lists its models under
    ref: str  # the full commit SHA of the domino-mlops release the workflows are pinned to
    release: str  # its tag, as the comment dependabot keeps beside the SHA
    owners: tuple[str, ...]  # CODEOWNERS of scripts/ and .github/
    environments: tuple[EnvironmentAnswer, ...]
    repository: str = DEFAULT_REPOSITORY
    models: tuple[tuple[str, str], ...] = ()  # (name, version) to start the manifest with


def default_environments() -> tuple[EnvironmentAnswer, ...]:
    return (EnvironmentAnswer("STAGE", (("small-k8s",),)), EnvironmentAnswer("PROD", (("medium-k8s",),)))


def parse_environment(text: str) -> EnvironmentAnswer:
    """``NAME[:TIERS][@PROJECT]``: waves separated by ``/``, the tiers of one wave by ``,``; e.g.
    ``PROD:medium-k8s/prod-small,prod-gpu@65f0`` (wave 1 medium-k8s, wave 2 two tiers at once, served
    by Domino project 65f0 of its own)."""
    text_, _, project = text.partition("@")
    if project and not _PROJECT.match(project):
        raise ConfigError(f"--env {text!r}: {project!r} is not a Domino project id",
                          hint="Give NAME[:TIERS][@PROJECT], e.g. --env PROD:medium-k8s@65f0c0ffee00000000000003.")
    name, _, waves_text = text_.partition(":")
    if not _NAME.match(name):
        raise ConfigError(f"--env {text!r}: {name!r} is not an environment name",
                          hint="Give NAME[:TIERS], e.g. --env PROD:medium-k8s/prod-small (waves split by '/').")
    waves = tuple(tuple(t.strip() for t in wave.split(",") if t.strip()) for wave in waves_text.split("/")
                  if wave.strip()) if waves_text else (("small-k8s",),)
    bad = [t for wave in waves for t in wave if not _TIER.match(t)]
    if bad or not waves:
        raise ConfigError(f"--env {text!r}: {', '.join(bad) or 'no tier'} is not a hardware tier",
                          hint="Tiers are Domino hardware tier ids, e.g. small-k8s; waves split by '/', tiers by ','.")
    return EnvironmentAnswer(name, waves, project)


def check(answers: Answers) -> None:
    """Everything wrong with the answers, before anything is written (exit 2)."""
    if not SHA.match(answers.ref):
        raise ConfigError(f"--ref must be the full 40-character commit SHA of a release, not {answers.ref!r}",
                          hint="A tag can be moved to code nobody reviewed: git ls-remote https://github.com/"
                               f"{answers.repository} refs/tags/{answers.release or 'vX.Y.Z'} prints it.")
    if not _REPOSITORY.match(answers.repository):
        raise ConfigError(f"--repository {answers.repository!r} is not owner/name", hint=f"e.g. {DEFAULT_REPOSITORY}.")
    if not _PROJECT.match(answers.project):
        raise ConfigError(f"--project {answers.project!r} is not a Domino project id",
                          hint="Copy it from the project's settings in Domino (letters, digits, '_', '-').")
    if not answers.owners or any(not _OWNER.match(o) for o in answers.owners):
        raise ConfigError(f"--owner {' '.join(answers.owners) or '(none)'}: CODEOWNERS needs @user, @org/team or "
                          "an e-mail", hint="Name who owns the pipeline, e.g. --owner @acme/ml-platform.")
    names = [e.name for e in answers.environments]
    missing = [n for n in REQUIRED if n not in names]
    if missing or len(set(names)) != len(names):
        raise ConfigError(f"environments {', '.join(names)}: {'missing ' + ', '.join(missing) if missing else 'a name twice'}",
                          hint="The workflows deploy STAGE on a merge and promote PROD after it: give both, once "
                               "each, in roll-out order (--env STAGE:small-k8s --env PROD:medium-k8s).")
    if names.index("STAGE") > names.index("PROD"):
        raise ConfigError("PROD comes before STAGE", hint="Give the environments in roll-out order.")
    for name, version in answers.models:
        if not _TIER.match(name) or not version.isdigit():
            raise ConfigError(f"--model {name}={version}: give NAME=VERSION (a registered model and a number)",
                              hint="e.g. --model churn=3; or leave the manifest empty and add models later.")


def render(answers: Answers) -> dict[str, str]:
    """Relative path -> text of every file init writes."""
    check(answers)
    return {"scripts/model_version.json": manifest(answers), "scripts/environments.yaml": environments(answers),
            WORKFLOW: workflow(answers), ".github/CODEOWNERS": codeowners(answers),
            ".github/dependabot.yml": DEPENDABOT}


def schema_url(answers: Answers, name: str) -> str:
    """The schema at the pinned commit: editors validate against what the workflows will run."""
    return f"https://raw.githubusercontent.com/{answers.repository}/{answers.ref}/src/domino_mlops/desired/schemas/{name}"


def manifest(answers: Answers) -> str:
    entries = [{"name": name, "version": int(version)} for name, version in answers.models]
    return json.dumps({"$schema": schema_url(answers, "manifest.schema.json"), answers.project: entries}, indent=2) + "\n"


def environments(answers: Answers) -> str:
    lines = ["# Ordered environments a model version passes through (written by `domino-mlops init`).",
             f"# Schema: {schema_url(answers, 'environments.schema.json')}",
             "# Check it with `domino-mlops validate`.", "environments:"]
    previous = ""
    for env in answers.environments:
        lines += [f"  - name: {env.name}", f"    github_environment: {env.github_environment}"]
        if env.protected:
            lines.append("    protected: true              # required reviewers approve in its GitHub environment")
        if env.name == "PROD":
            lines.append(f"    requires: {previous}                # the exact version must have passed it first")
        lines.append("    domino:")
        if env.project_id:
            lines.append(f"      project_id: {env.project_id}")
        lines.append("      waves:                       # hardware tiers, rolled wave by wave")
        lines += [f"        - [{', '.join(wave)}]" for wave in env.waves]
        lines += ["    mlflow:", f"      alias: {_ALIAS.get(env.name, env.name.lower())}",
                  "    smoke_test:", "      enabled: true", ""]
        previous = env.name
    return "\n".join(lines)


def codeowners(answers: Answers) -> str:
    owners = " ".join(answers.owners)
    return ("# Who must review a change to what is deployed and how (with branch protection's\n"
            "# \"Require review from Code Owners\"). Written by `domino-mlops init`.\n"
            f"/scripts/   {owners}\n/.github/   {owners}\n")


# Dependabot proposes the next release's commit for every `uses:` pinned by SHA, the comment too.
DEPENDABOT = """\
# Proposes a pull request when an action or reusable workflow pinned in .github/workflows
# (domino-mlops among them) has a newer release: the SHA and its `# vX.Y.Z` comment change.
# Written by `domino-mlops init`. domino-mlops-ref in the same file must change with it.
version: 2
updates:
  - package-ecosystem: github-actions
    directory: /
    schedule:
      interval: weekly
"""


def workflow(answers: Answers) -> str:
    pin = f"{answers.repository}/.github/workflows/{{file}}@{answers.ref} # {answers.release}"
    read_only = ("    secrets:                                     # by name: never `secrets: inherit`\n"
                 "      DOMINO_READONLY_API_KEY: ${{ secrets.DOMINO_READONLY_API_KEY }}\n"
                 "      MLFLOW_READONLY_TOKEN: ${{ secrets.MLFLOW_READONLY_TOKEN }}\n")
    inputs = ("    with:\n"
              f"      domino-mlops-repository: {answers.repository}\n"
              f"      domino-mlops-ref: {answers.ref}   # the SHA in uses:, always the same\n")
    return (
        "# Written by `domino-mlops init`: plan on a pull request, deploy STAGE on the merge, then\n"
        "# promote PROD after its reviewers approve. The write secrets (PROJECT_ID_<id>,\n"
        "# DOMINO_USER_API_KEY, MLFLOW_TRACKING_TOKEN, DOMINO_MODEL_TOKENS) are secrets of the GitHub\n"
        "# environments the writing jobs enter: they are not passed from here.\n"
        "name: models\n"
        "on:\n"
        "  pull_request:                                  # plan only, read-only credentials\n"
        "    paths: [scripts/model_version.json, scripts/environments.yaml]\n"
        "  push:                                          # staging, then production\n"
        "    branches: [main]\n"
        "    paths: [scripts/model_version.json, scripts/environments.yaml]\n"
        "permissions: {}\n"
        "jobs:\n"
        "  staging:\n"
        f"    uses: {pin.format(file='deploy-staging.yml')}\n"
        "    permissions:\n"
        "      actions: read\n"
        "      contents: read\n"
        "      pull-requests: write\n"
        + inputs + read_only +
        "  production:\n"
        "    if: ${{ github.event_name == 'push' }}\n"
        "    needs: staging                               # the gate (requires: STAGE) sees staging's result\n"
        f"    uses: {pin.format(file='promote-production.yml')}\n"
        "    permissions:\n"
        "      actions: read\n"
        "      contents: read\n"
        + inputs + read_only)


def settings(answers: Answers) -> tuple[str, ...]:
    """The GitHub settings init cannot make, in the order to make them (docs/WORKFLOWS.md, "Setting up a
    repository"; docs/SECURITY.md)."""
    projects = sorted({answers.project} | {e.project_id for e in answers.environments if e.project_id})
    writing = [e for e in answers.environments if e.name in REQUIRED]
    lines = ["Variables (Settings > Secrets and variables > Actions > Variables): MLFLOW_TRACKING_URI, DOMINO_API_HOST "
             "(and DOMINO_MODEL_HOST when models answer on another host).",
             "Repository secrets (the plan jobs' read-only credentials): DOMINO_READONLY_API_KEY, MLFLOW_READONLY_TOKEN."]
    for env in writing:
        guard = ("required reviewers, Prevent self-review, no administrator bypass, deployment branches: "
                 "the default branch only" if env.protected else "deployment branches: the default branch only "
                 "(its credentials reach what production uses unless it has its own project and model)")
        own = [env.project_id] if env.project_id else projects
        lines.append(f"GitHub environment {env.github_environment!r} (for {env.name}): {guard}; secrets "
                     + ", ".join(f"PROJECT_ID_{p}" for p in own)
                     + ", DOMINO_USER_API_KEY, MLFLOW_TRACKING_TOKEN, DOMINO_MODEL_TOKENS (environment secrets, "
                       "never repository secrets).")
    lines.append("Branch protection on the default branch: require a pull request and review from Code Owners.")
    return tuple(lines)
