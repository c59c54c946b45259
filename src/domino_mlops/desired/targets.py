"""The export targets file (scripts/export_targets.yaml): where tagged model versions go as images.

A target names an external container registry and how an image gets there: ``build`` (this tool
lays out a build context and builds and pushes it with docker, podman or buildah) or ``server``
(Domino exports the image of the Model API version that serves it). A version asks for a target
with the MLflow version tag ``TARGET_<NAME>``. Credentials are named, never written here: the
file holds the names of the environment variables (GitHub secrets) with the registry login.

.. code-block:: yaml
    :caption: Example

    targets:
      - name: PLTR_FOUNDRY
        mode: build
        registry: registry.example.com/foundry
        credentials: {username: FOUNDRY_REGISTRY_USER, password: FOUNDRY_REGISTRY_TOKEN}
        monitoring:                  # optional: domino-mlops monitor-agent (docs/MONITORING.md)
          model_monitoring_id: 65f0c0ffee0000000000abcd
          interval: 60
          alerts: {latency_p95_ms: {condition: lessThan, upper_limit: 500}}
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from domino_mlops.desired import limits
from domino_mlops.desired.locate import Located, parse_yaml
from domino_mlops.desired.paths import DEFAULT_TARGETS
from domino_mlops.desired.schema_check import read_checked
from domino_mlops.errors import NotFound, ValidationFailed, ValidationIssue

SCHEMA = "export_targets.schema.json"
EXPORT_TAG_PREFIX = "domino_mlops.export."
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_ALLOWED = {"repository": {"model"}, "image_tag": {"version"}}
_CREDENTIAL_HINT = ("must name the environment variable (GitHub secret) that holds the value, in capitals, "
                    "digits and '_', never the value itself")


@dataclass(frozen=True, slots=True)
class Credentials:
    """Names of the variables holding the registry login (None: no login)."""

    username: str | None = None
    password: str | None = None


@dataclass(frozen=True, slots=True)
class AlertRange:
    """Where a metric's value belongs; outside it the agent sends a Domino metric alert."""

    condition: str  # lessThan | lessThanEqual | greaterThan | greaterThanEqual | between
    lower_limit: float | None = None
    upper_limit: float | None = None


@dataclass(frozen=True, slots=True)
class Monitoring:
    """A target's ``monitoring:`` block: what monitor-agent reports and where."""

    model_monitoring_id: str
    interval: int = 60
    capture_inputs: bool = False
    reference: str | None = None
    alerts: tuple[tuple[str, AlertRange], ...] = ()


# Which limit each condition compares with (Domino's TargetRange; the client checks the same).
_NEEDS = {"lessThan": ("upper_limit",), "lessThanEqual": ("upper_limit",), "greaterThan": ("lower_limit",),
          "greaterThanEqual": ("lower_limit",), "between": ("lower_limit", "upper_limit")}


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    mode: str  # build | server
    registry: str  # host[:port][/prefix]
    repository: str = "{model}"
    image_tag: str = "v{version}"
    tag: str = ""  # the MLflow tag that asks for this target (TARGET_<NAME> when empty)
    project_id: str | None = None
    models: tuple[str, ...] = ()
    templates: str | None = None
    credentials: Credentials = Credentials()
    monitoring: Monitoring | None = None
    line: int | None = None

    @property
    def request_tag(self) -> str:
        return self.tag or f"TARGET_{self.name}"

    @property
    def done_tag(self) -> str:
        """The version tag written once an export succeeded (image and digest, as JSON)."""
        return f"{EXPORT_TAG_PREFIX}{self.name}"

    @property
    def registry_host(self) -> str:
        return self.registry.split("/", 1)[0]

    def repository_for(self, model: str) -> str:
        """The image repository under the registry host: the registry's path, then ``repository``."""
        prefix = self.registry.split("/", 1)[1] if "/" in self.registry else ""
        name = self.repository.replace("{model}", model_slug(model))
        return f"{prefix}/{name}" if prefix else name

    def image_tag_for(self, version: str) -> str:
        return self.image_tag.replace("{version}", str(version))

    def image_for(self, model: str, version: str) -> str:
        """``<registry>/<model>:v<N>``: what is built, pushed and recorded."""
        return f"{self.registry_host}/{self.repository_for(model)}:{self.image_tag_for(version)}"

    def wants(self, model: str) -> bool:
        return not self.models or model in self.models


def model_slug(model: str) -> str:
    """A registered model's name as an image repository component: lower case, [a-z0-9._-]."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", model.lower()).strip("-._")
    return slug or "model"


@dataclass(frozen=True, slots=True)
class Targets:
    file: str
    items: tuple[Target, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.items)

    def select(self, name: str | None) -> tuple[Target, ...]:
        """Every target, or the one named (``--target``)."""
        if name is None:
            return self.items
        for target in self.items:
            if target.name == name or target.name == name.upper():
                return (target,)
        raise NotFound(f"export target {name!r} is not defined in {self.file}",
                       hint=f"Use one of: {', '.join(self.names)}.")


def read_targets(path: str | Path) -> tuple[Targets | None, list[ValidationIssue]]:
    """Parse and check a targets file; return it (or None) with every issue found."""
    located, issues = read_checked(path, parse_yaml, SCHEMA, "--targets", limits.ENVIRONMENTS)
    if located is None:
        return None, [_explain(issue) for issue in issues]
    targets = _build(located)
    issues = _rule_issues(targets, located) + _collision_issues(targets, located)
    return (None if issues else targets), issues


def load_targets(path: str | Path = DEFAULT_TARGETS) -> Targets:
    """The targets file, or ValidationFailed (exit 2) listing every problem with file:line."""
    targets, issues = read_targets(path)
    if issues or targets is None:
        error = ValidationFailed(issues)
        error.hint = (f"Fix the listed places in {path} (schema: domino_mlops/desired/schemas/{SCHEMA}) and run "
                      "`domino-mlops export --plan-only` again.")
        raise error
    return targets


def _explain(issue: ValidationIssue) -> ValidationIssue:
    """A credential that breaks its pattern is most likely a pasted secret: say so (without it)."""
    if re.search(r"\.credentials\.(username|password)$", issue.path) and "allowed form" in issue.message:
        return ValidationIssue(issue.file, issue.line, issue.path, _CREDENTIAL_HINT)
    return issue


def _build(located: Located) -> Targets:
    items = []
    for index, raw in enumerate(located.data["targets"]):
        credentials = raw.get("credentials", {})
        items.append(Target(
            name=raw["name"], mode=raw["mode"], registry=raw["registry"].rstrip("/"),
            repository=raw.get("repository", "{model}"), image_tag=raw.get("image_tag", "v{version}"),
            tag=raw.get("tag", ""), project_id=raw.get("project_id"), models=tuple(raw.get("models", ())),
            templates=raw.get("templates"),
            credentials=Credentials(credentials.get("username"), credentials.get("password")),
            monitoring=_monitoring(raw.get("monitoring")), line=located.line_of(("targets", index)),
        ))
    return Targets(located.file, tuple(items))


def _monitoring(raw: dict | None) -> Monitoring | None:
    if raw is None:
        return None
    alerts = tuple((name, AlertRange(a["condition"], a.get("lower_limit"), a.get("upper_limit")))
                   for name, a in sorted(raw.get("alerts", {}).items()))
    return Monitoring(raw["model_monitoring_id"], raw.get("interval", 60), raw.get("capture_inputs", False),
                      raw.get("reference"), alerts)


def _monitoring_issues(target: Target, where: tuple, located: Located) -> list[ValidationIssue]:
    """Each alert gives the limits its condition compares with, in order (as Domino would refuse)."""
    issues: list[ValidationIssue] = []
    for name, alert in target.monitoring.alerts if target.monitoring else ():
        at = where + ("monitoring", "alerts", name)
        missing = [limit for limit in _NEEDS[alert.condition] if getattr(alert, limit) is None]
        if missing:
            issues.append(located.issue(at, f"condition {alert.condition} needs {' and '.join(missing)}"))
        elif alert.lower_limit is not None and alert.upper_limit is not None and alert.lower_limit > alert.upper_limit:
            issues.append(located.issue(at, f"lower_limit {alert.lower_limit} is above upper_limit {alert.upper_limit}"))
    return issues


def _collision_issues(targets: Targets, located: Located) -> list[ValidationIssue]:
    """Models named in ``models`` that would share an image repository or a build folder (the
    plan refuses the same for tagged models it finds in MLflow, plan/export_plan.py)."""
    issues: list[ValidationIssue] = []
    claimed: dict[tuple[str, str], tuple[str, int | None]] = {}
    for index, target in enumerate(targets.items):
        for position, model in enumerate(target.models):
            where = ("targets", index, "models", position)
            keys = [("image repository", f"{target.registry_host}/{target.repository_for(model)}")]
            keys += [("build folder", model_slug(model))] if target.mode == "build" else []
            for kind, key in keys:
                first, line = claimed.setdefault((kind, key), (model, located.line_of(where)))
                if first != model:
                    issues.append(located.issue(where, f"models {first!r} ({located.file}:{line}) and {model!r} "
                                                f"both become {kind} {key!r}; rename one in MLflow or export "
                                                "them to different repositories"))
                    break
    return issues


def _rule_issues(targets: Targets, located: Located) -> list[ValidationIssue]:
    """Names unique; only known placeholders; a password needs a user name and the other way round;
    a templates folder only for build mode, and it must exist."""
    issues: list[ValidationIssue] = []
    seen: set[str] = set()
    for index, target in enumerate(targets.items):
        where = ("targets", index)
        if target.name in seen:
            issues.append(located.issue(where + ("name",), f"target {target.name!r} is defined twice"))
        seen.add(target.name)
        for key, allowed in _ALLOWED.items():
            for name in _PLACEHOLDER.findall(getattr(target, key)):
                if name not in allowed:
                    issues.append(located.issue(where + (key,), f"unknown placeholder {{{name}}}; "
                                                f"{key} knows {', '.join('{' + a + '}' for a in sorted(allowed))}"))
        if (target.credentials.username is None) != (target.credentials.password is None):
            issues.append(located.issue(where + ("credentials",),
                                        "name both variables, username and password, or neither"))
        issues += _monitoring_issues(target, where, located)
        if target.templates is not None:
            if target.mode != "build":
                issues.append(located.issue(where + ("templates",), "templates are used in build mode only"))
            elif not Path(target.templates).is_dir():
                issues.append(located.issue(where + ("templates",), f"no folder {target.templates!r} (paths are "
                                            "relative to the repository root, where the command runs)"))
    return issues
