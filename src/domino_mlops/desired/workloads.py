"""Domino jobs and apps declared beside the models in the manifest, per Domino project.

A project's value is Domino's list of models, or a mapping with ``models``, ``jobs`` and
``apps`` (docs/JOBS_AND_APPS.md)::

    {"6650c1a3e1b2c3d4e5f60718": {
        "models": [{"name": "churn", "version": 2}],
        "jobs": [{"name": "validate", "command": "python validate.py", "hardware_tier": {"PROD": "medium-k8s"}}],
        "apps": [{"name": "dashboard", "visibility": "AUTHENTICATED", "environments": ["PROD"]}]}}

This module turns the schema-checked ``jobs`` and ``apps`` lists into frozen specs and finds
what a schema cannot say: names repeated in a project, a commit and a branch together,
``DOMINO_ENV`` set by hand, Domino's file-name shorthand before the ``env`` prefix, a cron
expression Domino's (Quartz) scheduler would refuse. What a spec means in one environment (its
hardware tier, project, ``DOMINO_ENV``) is asked of it with the Environment in hand.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from domino_mlops.desired.environments import Environment
from domino_mlops.desired.locate import Located
from domino_mlops.errors import ValidationIssue

When = Literal["before_models", "after_models"]
Visibility = Literal["PUBLIC", "AUTHENTICATED", "GRANT_BASED", "GRANT_BASED_STRICT"]

# What python-domino's app create sends, and so what an app gets when nobody chooses.
DEFAULT_VISIBILITY: Visibility = "GRANT_BASED"
# Set by domino-mlops to the environment's name in every job, as Domino's own MLOps templates do.
STAGE_VARIABLE = "DOMINO_ENV"

_VARIABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Domino runs "train.py" with the interpreter its extension names; after `env` it would be
# looked up as a program and fail on Domino, minutes into the run. (.sh stays: `./run.sh` works.)
_SHORTHAND = re.compile(r"^\S+\.(py|r|ipynb|m|jl)$", re.IGNORECASE)
_INTERPRETER = {"py": "python", "r": "Rscript", "ipynb": "jupyter nbconvert --to notebook --execute",
                "m": "matlab -batch", "jl": "julia"}


@dataclass(frozen=True, slots=True)
class TierChoice:
    """A hardware tier for every environment, one per environment, or neither: then the
    environment's first wave tier, else (None) the project's default tier on Domino."""

    everywhere: str | None = None
    per_environment: tuple[tuple[str, str], ...] = ()  # (environment name, tier id), in file order

    @classmethod
    def parse(cls, value: str | Mapping[str, str] | None) -> TierChoice:
        if value is None:
            return cls()
        if isinstance(value, str):
            return cls(everywhere=value)
        return cls(per_environment=tuple(value.items()))

    def named(self, environment: str) -> str | None:
        """The tier the manifest names for this environment, if it names one."""
        return dict(self.per_environment).get(environment, self.everywhere)

    def for_environment(self, env: Environment) -> str | None:
        return self.named(env.name) or (env.hardware_tiers[0] if env.hardware_tiers else None)


@dataclass(frozen=True, slots=True)
class Schedule:
    """A Quartz cron expression (Domino's scheduler) and the time zone it is read in."""

    cron: str
    timezone: str = "UTC"

    @classmethod
    def parse(cls, value: str | Mapping[str, str] | None) -> Schedule | None:
        if value is None:
            return None
        if isinstance(value, str):
            return cls(value.strip())
        return cls(value["cron"].strip(), value.get("timezone", "UTC"))


class _InEnvironments:
    """What jobs and apps share: where they are in the manifest, and in which environments, on
    which tier and in which project they run. (Fields of the dataclasses below.)"""

    __slots__ = ()
    LIST: ClassVar[str]  # the manifest list it comes from: "jobs" or "apps"
    project_id: str
    hardware_tier: TierChoice
    environments: tuple[str, ...] | None
    index: int

    @property
    def path(self) -> tuple[str | int, ...]:
        """Where it is in the manifest: $.<project_id>.<jobs|apps>[index]."""
        return (self.project_id, self.LIST, self.index)

    def applies_to(self, environment: str) -> bool:
        return self.environments is None or environment in self.environments

    def tier_for(self, env: Environment) -> str | None:
        """The hardware tier id to run on in ``env``; None: Domino's default tier of the project."""
        return self.hardware_tier.for_environment(env)

    def project_for(self, env: Environment) -> str:
        """The Domino project it runs in: the environment's own project, else the manifest's."""
        return env.project_id or self.project_id


@dataclass(frozen=True, slots=True)
class JobSpec(_InEnvironments):
    """A Domino job that runs in each of its environments (or, with a schedule, is scheduled there)."""

    project_id: str
    name: str
    command: str
    hardware_tier: TierChoice = TierChoice()
    environment_id: str | None = None  # None: the project's default compute environment
    commit: str | None = None  # at most one of commit and branch; neither: the project's newest commit
    branch: str | None = None
    schedule: Schedule | None = None
    variables: tuple[tuple[str, str], ...] = ()  # without DOMINO_ENV: see variables_for
    when: When = "before_models"
    gate: bool = True  # the environment passes only if the job succeeds
    environments: tuple[str, ...] | None = None  # None: every environment
    description: str = ""
    index: int = 0  # position in its project's "jobs" list
    line: int | None = None

    LIST: ClassVar[str] = "jobs"

    def variables_for(self, env: Environment) -> tuple[tuple[str, str], ...]:
        """Its environment variables in ``env``: DOMINO_ENV first (the environment's name), then its own."""
        return ((STAGE_VARIABLE, env.name), *self.variables)


@dataclass(frozen=True, slots=True)
class AppSpec(_InEnvironments):
    """A Domino app published in each of its environments."""

    project_id: str
    name: str
    hardware_tier: TierChoice = TierChoice()
    environment_id: str | None = None
    visibility: Visibility = DEFAULT_VISIBILITY
    entry_point: str | None = None  # None: Domino's default, app.sh at the project's root
    commit: str | None = None
    branch: str | None = None
    smoke_path: str = "/"
    environments: tuple[str, ...] | None = None
    description: str = ""
    index: int = 0  # position in its project's "apps" list
    line: int | None = None

    LIST: ClassVar[str] = "apps"


# --- parsing (the document passed the schema) ------------------------------------------------------


def parse_jobs(located: Located, project_id: str, items: Iterable[Mapping[str, Any]]) -> tuple[JobSpec, ...]:
    jobs = []
    for index, item in enumerate(items):
        schedule = Schedule.parse(item.get("schedule"))
        jobs.append(JobSpec(
            project_id=project_id, name=item["name"], command=item["command"].strip(),
            hardware_tier=TierChoice.parse(item.get("hardware_tier")),
            environment_id=item.get("environment_id"), commit=item.get("commit"), branch=item.get("branch"),
            schedule=schedule, variables=tuple((item.get("variables") or {}).items()),
            when=item.get("when", "before_models"), gate=item.get("gate", schedule is None),
            environments=tuple(item["environments"]) if "environments" in item else None,
            description=item.get("description", ""), index=index,
            line=located.line_of((project_id, "jobs", index)),
        ))
    return tuple(jobs)


def parse_apps(located: Located, project_id: str, items: Iterable[Mapping[str, Any]]) -> tuple[AppSpec, ...]:
    return tuple(
        AppSpec(
            project_id=project_id, name=item["name"], hardware_tier=TierChoice.parse(item.get("hardware_tier")),
            environment_id=item.get("environment_id"), visibility=item.get("visibility", DEFAULT_VISIBILITY),
            entry_point=item.get("entry_point"), commit=item.get("commit"), branch=item.get("branch"),
            smoke_path=item.get("smoke_path", "/"),
            environments=tuple(item["environments"]) if "environments" in item else None,
            description=item.get("description", ""), index=index,
            line=located.line_of((project_id, "apps", index)),
        )
        for index, item in enumerate(items)
    )


# --- what the schema cannot say ---------------------------------------------------------------------


def workload_issues(jobs: Iterable[JobSpec], apps: Iterable[AppSpec], located: Located) -> list[ValidationIssue]:
    """Every problem of the jobs and apps that needs more than one field to see."""
    jobs, apps = tuple(jobs), tuple(apps)
    issues = _repeated_names(jobs, "job", located) + _repeated_names(apps, "app", located)
    for spec in (*jobs, *apps):
        if spec.commit and spec.branch:
            issues.append(located.issue(spec.path + ("branch",),
                                        "give a commit or a branch, not both: Domino starts from one git ref"))
    for job in jobs:
        issues += _job_issues(job, located)
    return issues


def _repeated_names(specs: tuple[JobSpec, ...] | tuple[AppSpec, ...], kind: str,
                    located: Located) -> list[ValidationIssue]:
    """A name is how a plan, a ledger entry and Domino's job title or app name find the item again."""
    issues, first = [], {}
    for spec in specs:
        seen = first.setdefault((spec.project_id, spec.name), spec)
        if seen is not spec:
            issues.append(located.issue(spec.path + ("name",), f"{kind} {spec.name!r} is listed twice in project "
                                        f"{spec.project_id} (first on line {seen.line}); give each {kind} its own name"))
    return issues


def _job_issues(job: JobSpec, located: Located) -> list[ValidationIssue]:
    issues = []
    first_word = job.command.split()[0]
    if shorthand := _SHORTHAND.match(first_word):
        program = _INTERPRETER[shorthand.group(1).lower()]
        issues.append(located.issue(job.path + ("command",), (
            f"the command starts with the file {first_word!r}: Domino's shorthand cannot follow the "
            f"`env {STAGE_VARIABLE}=...` prefix that gives the job its variables; name the program, "
            f"e.g. \"{program} {first_word}\"")))
    for name, _ in job.variables:
        where = job.path + ("variables", name)
        if name == STAGE_VARIABLE:
            issues.append(located.issue(where, f"{STAGE_VARIABLE} is set by domino-mlops to the environment's "
                                        "name (STAGE, PROD, ...); remove it here"))
        elif not _VARIABLE_NAME.match(name):
            issues.append(located.issue(where, f"{name!r} is not a variable name: use letters, digits and '_', "
                                        "not starting with a digit"))
    if job.schedule is not None:
        if job.gate:  # a scheduled job is no gate unless the file says so
            issues.append(located.issue(job.path + ("gate",), (
                "a scheduled job runs on Domino's clock, not in the pipeline, so it cannot gate the "
                "environment; remove gate, or the schedule")))
        schedule_path = job.path + ("schedule",)
        if why := cron_problem(job.schedule.cron):
            issues.append(located.issue(schedule_path, why))
        if why := timezone_problem(job.schedule.timezone):
            issues.append(located.issue(schedule_path, why))
    return issues


# Quartz: seconds, minutes, hours, day of month, month, day of week, [year].
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*?/,#-]+$")


def cron_problem(cron: str) -> str | None:
    """Why Domino's scheduler (Quartz cron) would refuse ``cron``, or None.

    Checks the shape only: six or seven fields, seconds first, and '?' in exactly one of
    day-of-month and day-of-week (Quartz requires it). Ranges within a field are Domino's to judge.
    """
    fields = cron.split()
    example = "\"0 0 6 * * ?\" (06:00 every day)"
    if len(fields) == 5:
        return (f"{cron!r} has 5 fields (Unix cron); Domino's scheduler takes Quartz cron: seconds first "
                f"and '?' in day-of-month or day-of-week, e.g. {example}")
    if len(fields) not in (6, 7):
        return f"{cron!r} has {len(fields)} fields; a Quartz cron expression has 6 or 7, e.g. {example}"
    if bad := next((f for f in fields if not _CRON_FIELD.match(f)), None):
        return f"{bad!r} is not a cron field (digits, names, and * ? / , - # L W only)"
    day_of_month, day_of_week = fields[3], fields[5]
    if (day_of_month == "?") == (day_of_week == "?"):
        return (f"{cron!r}: Quartz needs '?' in exactly one of day-of-month ({day_of_month!r}) and "
                f"day-of-week ({day_of_week!r}), e.g. {example}")
    return None


def timezone_problem(name: str) -> str | None:
    """Why ``name`` is not an IANA time zone this machine knows, or None."""
    if name == "UTC":
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # only a schedule with a zone pays the import

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return f"{name!r} is not an IANA time zone (e.g. UTC, Europe/Paris, America/New_York)"
    return None
