"""The promotion manifest (scripts/model_version.json): which model versions should be served.

Domino's own shape is valid unchanged, so teams already using it switch without edits::

    {"6650c1a3e1b2c3d4e5f60718": [{"name": "churn", "version": 2}]}

A project may instead be a mapping ``{"models": [...], "jobs": [...], "apps": [...]}`` (each
optional) to declare Domino jobs and apps beside its models (desired/workloads.py). ``entries``
are the models either way, so everything about models reads the same.

Entries may add `environments`, `replicas` and a `smoke_test`. A version is a pinned number or
an alias ("@candidate"); "latest" and "@latest" are refused because a plan must say exactly what
it promotes, and so is every alias name MLflow itself refuses (desired/aliases.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from domino_mlops.desired import limits
from domino_mlops.desired.aliases import alias_problem
from domino_mlops.desired.locate import Located, parse_json
from domino_mlops.desired.schema_check import read_checked
from domino_mlops.desired.workloads import AppSpec, JobSpec, parse_apps, parse_jobs, workload_issues
from domino_mlops.errors import ConfigError, ValidationFailed, ValidationIssue

SCHEMA = "manifest.schema.json"


@dataclass(frozen=True, slots=True)
class VersionRef:
    """A pinned version number or an alias; exactly one is set."""

    number: int | None = None
    alias: str | None = None

    @classmethod
    def parse(cls, value: int | str) -> VersionRef:
        """2, "2" or "@alias"; ConfigError for an alias MLflow reserves or refuses (``--version @latest``)."""
        if isinstance(value, str) and value.startswith("@"):
            if why := alias_problem(value[1:]):
                raise ConfigError(f"{value!r} is not a usable version: {why}",
                                  hint="Name a version number or an alias that the model has.")
            return cls(alias=value[1:])
        return cls(number=int(value))

    def __str__(self) -> str:
        return f"@{self.alias}" if self.alias is not None else str(self.number)


@dataclass(frozen=True, slots=True)
class SmokeTest:
    """What to send to the deployed model and what must come back (all optional)."""

    input: Any = None
    expect: Any = None
    expect_shape: tuple[int, ...] | None = None
    tolerance: float | None = None
    max_latency_ms: int | None = None


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    project_id: str
    name: str
    version: VersionRef
    index: int = 0  # position in its project's list of models
    line: int | None = None
    environments: tuple[str, ...] | None = None  # None: every environment
    replicas: int | None = None
    smoke_test: SmokeTest | None = None
    grouped: bool = False  # listed under the project's "models" key, not as the project's list

    @property
    def path(self) -> tuple[str | int, ...]:
        """Where it is in the manifest: $.<project_id>[index], or $.<project_id>.models[index]."""
        return (self.project_id, "models", self.index) if self.grouped else (self.project_id, self.index)

    def applies_to(self, environment: str) -> bool:
        return self.environments is None or environment in self.environments


@dataclass(frozen=True, slots=True)
class Manifest:
    file: str
    entries: tuple[ManifestEntry, ...]  # the models
    jobs: tuple[JobSpec, ...] = ()
    apps: tuple[AppSpec, ...] = ()
    located: Located | None = field(default=None, compare=False, repr=False)  # the file's lines

    def line_of(self, path: tuple[str | int, ...]) -> int | None:
        """The line of the value at a JSON path (or of its nearest parent); None without the file."""
        return self.located.line_of(path) if self.located is not None else None

    @property
    def project_ids(self) -> tuple[str, ...]:
        """Every project with a model, a job or an app, in file order."""
        used = {item.project_id for item in (*self.entries, *self.jobs, *self.apps)}
        order = self.located.data if self.located is not None else {
            item.project_id: None for item in (*self.entries, *self.jobs, *self.apps)}
        return tuple(project for project in order if project in used)

    def for_environment(self, environment: str) -> tuple[ManifestEntry, ...]:
        return tuple(entry for entry in self.entries if entry.applies_to(environment))

    def jobs_for(self, environment: str) -> tuple[JobSpec, ...]:
        return tuple(job for job in self.jobs if job.applies_to(environment))

    def apps_for(self, environment: str) -> tuple[AppSpec, ...]:
        return tuple(app for app in self.apps if app.applies_to(environment))

    def find(self, name: str) -> ManifestEntry | None:
        return next((entry for entry in self.entries if entry.name == name), None)


def read_manifest(path: str | Path) -> tuple[Manifest | None, list[ValidationIssue]]:
    """Parse and check a manifest file; return it (or None) with every issue found."""
    located, issues = read_checked(path, parse_json, SCHEMA, "--manifest", limits.MANIFEST)
    if located is None:
        return None, issues
    manifest = _build(located)
    issues = (_duplicate_models(manifest, located) + _ragged_smoke_inputs(manifest, located)
              + workload_issues(manifest.jobs, manifest.apps, located))
    return (None if issues else manifest), issues


def load_manifest(path: str | Path) -> Manifest:
    """Like read_manifest, but raise ValidationFailed listing every issue."""
    manifest, issues = read_manifest(path)
    if issues or manifest is None:
        raise ValidationFailed(issues)
    return manifest


def _build(located: Located) -> Manifest:
    entries: list[ManifestEntry] = []
    jobs: list[JobSpec] = []
    apps: list[AppSpec] = []
    for project_id, value in located.data.items():
        if project_id == "$schema":
            continue
        grouped = isinstance(value, dict)
        models = value.get("models", []) if grouped else value
        for index, item in enumerate(models):
            entries.append(_entry(located, project_id, index, item, grouped))
        if grouped:
            jobs += parse_jobs(located, project_id, value.get("jobs", []))
            apps += parse_apps(located, project_id, value.get("apps", []))
    return Manifest(located.file, tuple(entries), tuple(jobs), tuple(apps), located)


def _entry(located: Located, project_id: str, index: int, item: dict[str, Any], grouped: bool) -> ManifestEntry:
    smoke = item.get("smoke_test")
    path = (project_id, "models", index) if grouped else (project_id, index)
    return ManifestEntry(
        project_id=project_id,
        name=item["name"],
        version=VersionRef.parse(item["version"]),
        index=index,
        line=located.line_of(path),
        environments=tuple(item["environments"]) if "environments" in item else None,
        replicas=item.get("replicas"),
        smoke_test=None if smoke is None else SmokeTest(
            input=smoke.get("input"), expect=smoke.get("expect"),
            expect_shape=tuple(smoke["expect_shape"]) if "expect_shape" in smoke else None,
            tolerance=smoke.get("tolerance"), max_latency_ms=smoke.get("max_latency_ms")),
        grouped=grouped,
    )


def _duplicate_models(manifest: Manifest, located: Located) -> list[ValidationIssue]:
    """One model listed twice would make the plan ambiguous: which version wins? Under two
    projects it is worse: the MLflow model (and its alias per environment) is one, so each run
    would move the alias back and forth between the two entries."""
    issues: list[ValidationIssue] = []
    first: dict[str, ManifestEntry] = {}
    for entry in manifest.entries:
        seen = first.get(entry.name)
        if seen is None:
            first[entry.name] = entry
        elif seen.project_id == entry.project_id:
            issues.append(located.issue(entry.path + ("name",),
                                        f"model {entry.name!r} is listed twice in project "
                                        f"{entry.project_id} (first on line {seen.line}); keep one entry"))
        else:
            issues.append(located.issue(entry.path + ("name",),
                                        f"model {entry.name!r} is listed under project {entry.project_id} and "
                                        f"under project {seen.project_id} (line {seen.line}); an MLflow model has "
                                        "one alias per environment, so list it under the one project that "
                                        "serves it"))
    return issues


def _ragged_smoke_inputs(manifest: Manifest, located: Located) -> list[ValidationIssue]:
    """A smoke input in MLflow's split form needs one value per column in every row; found here,
    it costs a validate run, found at smoke time it would cost a deploy and a put-back."""
    issues = []
    for entry in manifest.entries:
        given = entry.smoke_test.input if entry.smoke_test else None
        if not (isinstance(given, dict) and isinstance(given.get("columns"), list)
                and isinstance(given.get("data"), list)):
            continue
        width = len(given["columns"])
        for number, row in enumerate(given["data"]):
            if not isinstance(row, list) or len(row) != width:
                got = f"{len(row)} value(s)" if isinstance(row, list) else "not a list"
                issues.append(located.issue(entry.path + ("smoke_test", "input", "data", number),
                                            f"row {number} has {got}, but there are {width} columns; "
                                            "give each row one value per column"))
    return issues
