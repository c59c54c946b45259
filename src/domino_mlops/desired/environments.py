"""The environments file (scripts/environments.yaml): the ordered road a version travels.

Each environment names the GitHub environment that guards it (approvers live there), the Domino
project and data planes (hardware tiers, rolled in waves), the MLflow alias it owns, whether the
deprecated MLflow stages are also written, smoke-test settings, and which environment the exact
version must have passed first. Without a file, DEV -> STAGE -> PROD is assumed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from domino_mlops.clients.domino.serving_types import VersionSettings
from domino_mlops.desired import limits
from domino_mlops.desired.aliases import alias_problem
from domino_mlops.desired.locate import Located, parse_yaml
from domino_mlops.desired.schema_check import read_checked
from domino_mlops.errors import NotFound, ValidationFailed, ValidationIssue

SCHEMA = "environments.schema.json"

# Conventional aliases and legacy stages, so a minimal file (just names) does the expected thing.
_DEFAULT_ALIAS = {"STAGE": "staging", "STAGING": "staging", "PROD": "production", "PRODUCTION": "production"}
_DEFAULT_STAGE = {"staging": "Staging", "production": "Production"}
MODEL_PLACEHOLDER = "{model}"  # in mlflow.registered_model: the manifest's model name


@dataclass(frozen=True, slots=True)
class SmokeSettings:
    enabled: bool = True
    required: bool = False  # True: no way to call the model (token or public access) is a refusal
    timeout_seconds: float = 30.0
    max_latency_ms: int | None = None


INCONCLUSIVE = ("fail", "pass", "extend")
# Synthetic traffic is a load we put on a model: bounded, whatever the file asks.
MAX_TRAFFIC_CALLS = 3600


@dataclass(frozen=True, slots=True)
class Traffic:
    """Calls sent to each new Model API version of a wave before it is measured (the smoke input)."""

    rate_per_second: float
    duration: float  # seconds

    @property
    def calls(self) -> int:
        return max(1, min(MAX_TRAFFIC_CALLS, round(self.rate_per_second * self.duration)))


@dataclass(frozen=True, slots=True)
class Analysis:
    """domino.analysis: after each wave, every new Model API version is measured ``count`` times,
    ``interval_seconds`` apart, over the last ``window_minutes`` of Domino's own metrics
    (apply/analysis.py). A condition left out (None) is not checked."""

    window_minutes: int = 10
    interval_seconds: float = 60.0
    count: int = 1
    min_requests: int = 0  # fewer requests in the window: that measurement is inconclusive
    inconclusive: str = "fail"  # fail | pass | extend
    max_extensions: int = 0  # extend: at most this many measurements more
    max_error_rate: float | None = None  # share of 5xx (and 4xx with count_4xx) among the requests
    count_4xx: bool = False
    max_error_rate_increase: float | None = None  # over the version the new one replaced, same window
    max_memory_fraction: float | None = None  # usage snapshots' memory (a fraction of the pod's limit)
    max_cpu: float | None = None  # usage snapshots' cpu (cores)
    traffic: Traffic | None = None

    def conditions(self) -> tuple[tuple[str, float], ...]:
        """The thresholds set, by name, in a fixed order (the plan, its digest and the summary show them)."""
        named = (("max_error_rate", self.max_error_rate), ("max_error_rate_increase", self.max_error_rate_increase),
                 ("max_memory_fraction", self.max_memory_fraction), ("max_cpu", self.max_cpu))
        return tuple((name, value) for name, value in named if value is not None)

    def describe(self) -> str:
        """One line for the plan.

        >>> Analysis(window_minutes=5, count=3, max_error_rate=0.01, min_requests=20).describe()
        'analysis: 3 x every 60 s over 5 min; max_error_rate 0.01 (5xx); min_requests 20, inconclusive: fail'
        """
        conditions = ", ".join(f"{name} {value:g}" + (f" ({'4xx+5xx' if self.count_4xx else '5xx'})"
                                                      if name.startswith("max_error") else "")
                               for name, value in self.conditions())
        policy = self.inconclusive + (f" up to {self.max_extensions}" if self.inconclusive == "extend" else "")
        traffic = (f"; traffic {self.traffic.rate_per_second:g}/s for {self.traffic.duration:g} s"
                   if self.traffic else "")
        return (f"analysis: {self.count} x every {self.interval_seconds:g} s over {self.window_minutes} min; "
                f"{conditions}; min_requests {self.min_requests}, inconclusive: {policy}{traffic}")


def is_production(name: str, alias: str) -> bool:
    """The environment the defaults treat as production: alias `production`, or named PROD."""
    return alias == "production" or name.upper() in ("PROD", "PRODUCTION")


def default_model_api_settings(name: str, alias: str) -> VersionSettings:
    """Prediction capture and monitoring on in production, off elsewhere (DEV, STAGE)."""
    production = is_production(name, alias)
    return VersionSettings(production, production, production)


@dataclass(frozen=True, slots=True)
class Environment:
    name: str
    github_environment: str
    alias: str
    stage_mode: str = "alias"  # alias | stage | both
    stage: str | None = None  # legacy stage written when stage_mode is stage or both
    requires: str | None = None
    protected: bool = False  # its GitHub environment must enforce an approval (checked at run time)
    # Accept GitHub's "Allow administrators to bypass" on its GitHub environment (shown in every plan).
    allow_admin_bypass: bool = False
    project_id: str | None = None  # None: the manifest's project id
    environment_id: str | None = None
    model_host: str | None = None  # domino.model_host: where this environment's models answer; None: DOMINO_MODEL_HOST
    replicas: int = 1
    waves: tuple[tuple[str, ...], ...] = ()
    bake_seconds: float = 0.0  # between waves: let a wave serve, then smoke-test it again
    # Ceilings of the wait between status reads by phase, as written ("building", "starting");
    # apply/poll.py has the defaults for what is left out.
    poll_seconds: tuple[tuple[str, float], ...] = ()
    smoke: SmokeSettings = SmokeSettings()
    model_api: VersionSettings = VersionSettings(False, False, False)  # what new versions record
    analysis: Analysis | None = None  # domino.analysis; None: waves are judged by their smoke tests only
    registered_model: str | None = None  # mlflow.registered_model: "{model}-prod"; None: the manifest's name
    tracking_uri_variable: str | None = None  # mlflow.tracking_uri_variable: its own MLflow server; None: MLFLOW_TRACKING_URI
    line: int | None = None

    @property
    def uses_alias(self) -> bool:
        return self.stage_mode in ("alias", "both")

    @property
    def uses_stage(self) -> bool:
        return self.stage_mode in ("stage", "both")

    @property
    def hardware_tiers(self) -> tuple[str, ...]:
        return tuple(tier for wave in self.waves for tier in wave)

    def registered_model_name(self, model: str) -> str:
        """The registered model this environment marks and serves for manifest model ``model``:
        its own (``registered_model`` applied, the separated topology), or ``model`` itself.

        >>> prod = Environment("PROD", "production", "production", registered_model="{model}-prod")
        >>> prod.registered_model_name("churn")
        'churn-prod'
        """
        if self.registered_model is None:
            return model
        return self.registered_model.replace(MODEL_PLACEHOLDER, model)

    def passed_tag(self) -> str:
        """The MLflow version tag that records this environment's verdict on a version."""
        return f"domino_mlops.{self.name}.status"


@dataclass(frozen=True, slots=True)
class Environments:
    file: str
    items: tuple[Environment, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(env.name for env in self.items)

    def get(self, name: str) -> Environment:
        for env in self.items:
            if env.name == name:
                return env
        raise NotFound(f"environment {name!r} is not defined in {self.file}",
                       hint=f"Use one of: {', '.join(self.names)}.")


def default_environments() -> Environments:
    """DEV -> STAGE -> PROD, used when no environments file exists."""
    dev = Environment("DEV", "dev", "dev")
    stage = Environment("STAGE", "staging", "staging", stage="Staging", requires=None)
    prod = Environment("PROD", "production", "production", stage="Production", requires="STAGE", protected=True,
                       model_api=default_model_api_settings("PROD", "production"))
    return Environments("(built-in defaults)", (dev, stage, prod))


def read_environments(path: str | Path) -> tuple[Environments | None, list[ValidationIssue]]:
    """Parse and check an environments file; return it (or None) with every issue found."""
    located, issues = read_checked(path, parse_yaml, SCHEMA, "--environments", limits.ENVIRONMENTS)
    if located is None:
        return None, issues
    environments = _build(located)
    issues = _order_issues(environments, located)
    return (None if issues else environments), issues


def load_environments(path: str | Path) -> Environments:
    environments, issues = read_environments(path)
    if issues or environments is None:
        raise ValidationFailed(issues)
    return environments


def _build(located: Located) -> Environments:
    items = []
    for index, raw in enumerate(located.data["environments"]):
        name = raw["name"]
        mlflow = raw.get("mlflow", {})
        domino = raw.get("domino", {})
        smoke = raw.get("smoke_test", {})
        alias = mlflow.get("alias", _DEFAULT_ALIAS.get(name.upper(), name.lower()))
        defaults = default_model_api_settings(name, alias)
        model_api = domino.get("model_api", {})
        items.append(Environment(
            name=name,
            github_environment=raw.get("github_environment", name.lower()),
            alias=alias,
            stage_mode=mlflow.get("stage_mode", "alias"),
            stage=mlflow.get("stage", _DEFAULT_STAGE.get(alias)),
            requires=raw.get("requires"),
            protected=raw.get("protected", is_production(name, alias)),
            allow_admin_bypass=raw.get("allow_admin_bypass", False),
            project_id=domino.get("project_id"),
            environment_id=domino.get("environment_id"),
            model_host=domino.get("model_host"),
            replicas=domino.get("replicas", 1),
            waves=tuple(tuple(wave) for wave in domino.get("waves", ())),
            bake_seconds=float(domino.get("bake_seconds", 0)),
            poll_seconds=tuple(sorted((phase, float(seconds))
                                      for phase, seconds in domino.get("poll_seconds", {}).items())),
            smoke=SmokeSettings(enabled=smoke.get("enabled", True), required=smoke.get("required", False),
                                timeout_seconds=float(smoke.get("timeout_seconds", 30.0)),
                                max_latency_ms=smoke.get("max_latency_ms")),
            model_api=VersionSettings(*(model_api.get(key, getattr(defaults, key)) for key in (
                "log_http_request_response", "monitoring_enabled", "record_invocation"))),
            analysis=_analysis(domino.get("analysis")),
            registered_model=mlflow.get("registered_model"),
            tracking_uri_variable=mlflow.get("tracking_uri_variable"),
            line=located.line_of(("environments", index)),
        ))
    return Environments(located.file, tuple(items))


def _analysis(raw: dict | None) -> Analysis | None:
    if raw is None:
        return None
    conditions = raw.get("conditions", {})
    traffic = raw.get("traffic")
    return Analysis(
        window_minutes=raw.get("window_minutes", 10), interval_seconds=float(raw.get("interval_seconds", 60)),
        count=raw.get("count", 1), min_requests=raw.get("min_requests", 0),
        inconclusive=raw.get("inconclusive", "fail"), max_extensions=raw.get("max_extensions", 0),
        max_error_rate=conditions.get("max_error_rate"), count_4xx=conditions.get("count_4xx", False),
        max_error_rate_increase=conditions.get("max_error_rate_increase"),
        max_memory_fraction=conditions.get("max_memory_fraction"), max_cpu=conditions.get("max_cpu"),
        traffic=Traffic(float(traffic["rate_per_second"]), float(traffic["duration"])) if traffic else None)


def _order_issues(environments: Environments, located: Located) -> list[ValidationIssue]:
    """Names unique; `requires` names an earlier environment (which also rules out cycles)."""
    issues: list[ValidationIssue] = []
    seen: list[str] = []
    aliases: dict[str, str] = {}
    folded: dict[str, Environment] = {}
    for index, env in enumerate(environments.items):
        where = ("environments", index)
        if env.name in seen:
            issues.append(located.issue(where + ("name",), f"environment {env.name!r} is defined twice"))
            continue  # its other problems would only repeat this one
        # Domino names carry the environment in lower case (both would share every Model API and
        # app, each under its own lease); the model tokens' secret folds '-' and '_' as well.
        for key, shared in ((env.name.lower(), f"Domino names use {env.name.lower()!r} for both, so they would "
                                                "share Model APIs and apps"),
                            (variable_for(env.name), f"both read their model tokens from {variable_for(env.name)}")):
            first = folded.setdefault(key, env)
            if first is not env:
                issues.append(located.issue(where + ("name",), (
                    f"environments {env.name!r} and {first.name!r} ({located.file}:{first.line}) are one name to "
                    f"Domino: {shared}; rename one")))
                break
        issues += _wave_issues(env, located, where)
        if env.requires is not None and env.requires not in seen:
            known = env.requires in environments.names
            issues.append(located.issue(where + ("requires",), (
                f"{env.requires!r} must come before {env.name!r} in the list" if known else
                f"unknown environment {env.requires!r}; defined: {', '.join(environments.names)}")))
        if env.uses_stage and env.stage is None:
            issues.append(located.issue(where + ("mlflow",),
                                        f"stage_mode {env.stage_mode!r} needs mlflow.stage "
                                        "(Staging, Production or Archived)"))
        if env.uses_alias and (why := alias_problem(env.alias)):
            # Named only through the environment's name (no mlflow.alias): say where it came from.
            issues.append(located.issue(where + ("mlflow",), f"the alias {env.alias!r} of {env.name!r} cannot "
                                        f"be used: {why}; set mlflow.alias to another name"))
        if env.uses_alias and env.alias in aliases:
            issues.append(located.issue(where + ("mlflow",),
                                        f"alias {env.alias!r} is already owned by {aliases[env.alias]!r}"))
        aliases.setdefault(env.alias, env.name)
        seen.append(env.name)
        issues += _topology_issues(env, located, where)
        issues += _analysis_issues(env, located, where)
    return issues


def _analysis_issues(env: Environment, located: Located, where: tuple[str | int, ...]) -> list[ValidationIssue]:
    """What the schema cannot say: an analysis that checks nothing, an `extend` with nowhere to go,
    and synthetic traffic over the bound (it would be cut short silently otherwise)."""
    analysis, here = env.analysis, where + ("domino", "analysis")
    if analysis is None:
        return []
    issues: list[ValidationIssue] = []
    if not analysis.conditions():
        issues.append(located.issue(here, f"domino.analysis of {env.name!r} sets no condition; add conditions "
                                          "(e.g. max_error_rate: 0.01) or remove the analysis"))
    if analysis.inconclusive == "extend" and analysis.max_extensions < 1:
        issues.append(located.issue(here + ("inconclusive",), (
            f"inconclusive: extend in {env.name!r} needs max_extensions (how many measurements more, at least 1)")))
    if analysis.traffic is not None and analysis.traffic.rate_per_second * analysis.traffic.duration > MAX_TRAFFIC_CALLS:
        issues.append(located.issue(here + ("traffic",), (
            f"synthetic traffic of {env.name!r} would send {analysis.traffic.rate_per_second * analysis.traffic.duration:g} "
            f"calls per version; at most {MAX_TRAFFIC_CALLS}: lower rate_per_second or duration")))
    return issues


def _wave_issues(env: Environment, located: Located, where: tuple[str | int, ...]) -> list[ValidationIssue]:
    """A tier is one Model API per model: listed twice, its waves would deploy it twice (and the
    second wave's barrier would mean nothing)."""
    issues: list[ValidationIssue] = []
    first_wave: dict[str, int] = {}
    for number, wave in enumerate(env.waves):
        for position, tier in enumerate(wave):
            seen = first_wave.setdefault(tier, number)
            if seen != number:
                issues.append(located.issue(where + ("domino", "waves", number, position), (
                    f"hardware tier {tier!r} of {env.name!r} is listed in wave {seen + 1} and again in wave "
                    f"{number + 1}; list each tier once")))
    return issues


def _topology_issues(env: Environment, located: Located, where: tuple[str | int, ...]) -> list[ValidationIssue]:
    """The separated topology: a template that makes one valid MLflow name per model (the schema
    checks the `{model}` count); its own MLflow server is not carried out yet, so it is refused
    rather than silently ignored (the copy would land on the shared server)."""
    issues: list[ValidationIssue] = []
    if env.registered_model is not None:
        bare = env.registered_model.replace(MODEL_PLACEHOLDER, "")
        if any(c in bare for c in "/:") or env.registered_model.strip() != env.registered_model:
            issues.append(located.issue(where + ("mlflow", "registered_model"), (
                f"mlflow.registered_model {env.registered_model!r} of {env.name!r} does not make a valid MLflow "
                "model name ('/' and ':' are not allowed, nor spaces at either end); write e.g. \"{model}-prod\"")))
    if env.tracking_uri_variable is not None:
        issues.append(located.issue(where + ("mlflow", "tracking_uri_variable"), (
            f"mlflow.tracking_uri_variable of {env.name!r} is not supported yet (an environment's own MLflow "
            "server); remove it and use mlflow.registered_model on the shared server")))
    return issues


# Where a smoke test's model tokens come from (observed/model_tokens.py reads them): one variable
# per environment, else the shared one. Named here because validation refuses two environments
# whose names give the same variable (below).
TOKENS_VARIABLE = "DOMINO_MODEL_TOKENS"


def variable_for(environment: str) -> str:
    """The environment's own variable: DOMINO_MODEL_TOKENS_PROD for PROD."""
    return f"{TOKENS_VARIABLE}_{re.sub(r'[^A-Za-z0-9]+', '_', environment).upper().strip('_')}"
