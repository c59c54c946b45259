"""Fault injection: added latency, 429 (with Retry-After), 503, dropped connections, slow deploys.

Every rule draws from its own random generator seeded by ``(seed, rule index)``, so the same
seed and the same requests to a rule's routes give the same faults in the same order, whatever
traffic other routes see meanwhile. The first rule whose prefix and methods match a request
decides for it (list specific prefixes before general ones).

A plan as JSON (``--faults``, ``PUT /_emulator/faults``, ``Emulator(faults=...)``)::

    {"seed": 7, "slow_deploy_seconds": 0, "failing_tiers": ["prod-small"], "failing_apps": ["dash-prod"],
     "omit_active_version": false, "model_error_share": {"churn/2": 0.5}, "model_memory_factor": {"churn/2": 4},
     "rules": [{"prefix": "/api/modelServing", "methods": ["GET"], "latency_ms": 20,
                "rate_429": 0.2, "rate_503": 0.1, "drop_rate": 0.05, "retry_after": 1, "limit": null}]}
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from domino_mlops.errors import ConfigError

_HINT = "See the fault plan format in emulator/src/domino_emulator/faults.py."


@dataclass(frozen=True, slots=True)
class FaultRule:
    prefix: str = "/"
    methods: tuple[str, ...] = ()  # empty: every method
    latency_ms: float = 0.0
    rate_429: float = 0.0
    rate_503: float = 0.0
    drop_rate: float = 0.0  # close the socket without answering
    retry_after: int = 1  # seconds, sent with each 429
    limit: int | None = None  # at most this many faults from this rule (latency is not a fault)

    def __post_init__(self) -> None:
        rates = (self.rate_429, self.rate_503, self.drop_rate)
        if any(x < 0 for x in (*rates, self.latency_ms, self.retry_after)) or sum(rates) > 1.0:
            raise ConfigError(f"bad fault rule for {self.prefix!r}: rates must be >= 0 and add up to at most 1",
                              hint=_HINT)

    def matches(self, method: str, path: str) -> bool:
        return path.startswith(self.prefix) and (not self.methods or method in self.methods)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultRule:
        unknown = set(data) - {f for f in cls.__dataclass_fields__}
        if unknown:
            raise ConfigError(f"unknown fault rule keys: {', '.join(sorted(unknown))}", hint=_HINT)
        values = dict(data)
        if "methods" in values:
            values["methods"] = tuple(str(m).upper() for m in values["methods"] or ())
        return cls(**values)


@dataclass(frozen=True, slots=True)
class FaultPlan:
    seed: int = 0
    rules: tuple[FaultRule, ...] = ()
    slow_deploy_seconds: float = 0.0  # added to every new deployment's build + start time
    # Model API versions built for these hardware tiers fail (a data plane that cannot serve):
    # what a rollout's later wave meets while the earlier waves are fine. Apps started on them fail too.
    failing_tiers: tuple[str, ...] = ()
    # Apps with these names fail to start (Pending -> Failed) while the plan holds: a new app
    # version that is broken, then (plan cleared) the previous one put back.
    failing_apps: tuple[str, ...] = ()
    # A Domino version that predates the public Apps API (/api/apps/beta): those routes answer the
    # gateway's 404 and only the v4 model products serve apps.
    v4_apps_only: bool = False
    # Where running apps are served when not on the Domino host (an origin, "http://apps.example:80"):
    # runningAppUrl and the public app url are then absolute URLs there.
    app_host: str = ""
    # The create answer leaves out activeVersion, which the public ModelApi marks optional: a
    # client must find the first version without it.
    omit_active_version: bool = False
    # Model API versions built from these registered model versions ("<name>/<version>") answer this
    # share of their calls with a 500 (spread evenly, the first call answered), and report memory
    # multiplied by this factor: a new version that breaches an analysis for real (apply/analysis.py).
    model_error_share: tuple[tuple[str, float], ...] = ()
    model_memory_factor: tuple[tuple[str, float], ...] = ()

    def error_share(self, source: str) -> float:
        return dict(self.model_error_share).get(source, 0.0)

    def memory_factor(self, source: str) -> float:
        return dict(self.model_memory_factor).get(source, 1.0)

    @classmethod
    def parse(cls, value: FaultPlan | Mapping[str, Any] | str | None) -> FaultPlan:
        """A plan from a plan, a mapping, a JSON text, or None (no faults)."""
        if value is None:
            return cls()
        if isinstance(value, FaultPlan):
            return value
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as exc:
                raise ConfigError(f"the fault plan is not valid JSON: {exc}", hint=_HINT) from exc
        if not isinstance(value, Mapping):
            raise ConfigError("a fault plan must be a JSON object", hint=_HINT)
        unknown = set(value) - {"seed", "rules", "slow_deploy_seconds", "failing_tiers", "failing_apps",
                                  "v4_apps_only", "app_host", "omit_active_version", "model_error_share",
                                  "model_memory_factor"}
        if unknown:
            raise ConfigError(f"unknown fault plan keys: {', '.join(sorted(unknown))}", hint=_HINT)
        try:
            return cls(seed=int(value.get("seed", 0)),
                       rules=tuple(FaultRule.from_dict(x) for x in value.get("rules", ())),
                       slow_deploy_seconds=float(value.get("slow_deploy_seconds", 0.0)),
                       failing_tiers=tuple(str(t) for t in value.get("failing_tiers", ())),
                       failing_apps=tuple(str(a) for a in value.get("failing_apps", ())),
                       v4_apps_only=bool(value.get("v4_apps_only", False)),
                       app_host=str(value.get("app_host", "")).rstrip("/"),
                       omit_active_version=_flag(value.get("omit_active_version", False)),
                       model_error_share=_by_source(value.get("model_error_share", {}), 0.0, 1.0),
                       model_memory_factor=_by_source(value.get("model_memory_factor", {}), 0.0, 1000.0))
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"bad fault plan: {exc}", hint=_HINT) from exc

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("model_error_share", "model_memory_factor"):  # as written: an object, so parse reads it back
            data[name] = dict(data[name])
        return data


@dataclass(frozen=True, slots=True)
class Decision:
    latency_s: float = 0.0
    action: str | None = None  # None (answer normally), "429", "503" or "drop"
    retry_after: int = 1


@dataclass(slots=True)
class _RuleState:
    rng: random.Random
    injected: int = 0


class FaultInjector:
    def __init__(self, plan: FaultPlan | None = None) -> None:
        self._lock = threading.Lock()
        self.plan = FaultPlan()
        self._states: list[_RuleState] = []
        self.set(plan or FaultPlan())

    def set(self, plan: FaultPlan) -> None:
        """Replace the plan and restart every rule's random sequence from the seed."""
        with self._lock:
            self.plan = plan
            self._states = [_RuleState(random.Random(f"{plan.seed}/{i}")) for i in range(len(plan.rules))]

    def decide(self, method: str, path: str) -> Decision:
        with self._lock:
            for rule, state in zip(self.plan.rules, self._states, strict=True):
                if not rule.matches(method, path):
                    continue
                latency = rule.latency_ms / 1000.0
                draw = state.rng.random()  # always drawn, so a limit does not shift later draws
                if rule.limit is not None and state.injected >= rule.limit:
                    return Decision(latency)
                action = _pick(draw, rule)
                if action:
                    state.injected += 1
                return Decision(latency, action, rule.retry_after)
            return Decision()


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise ConfigError("omit_active_version must be true or false", hint=_HINT)
    return value


def _by_source(value: object, low: float, high: float) -> tuple[tuple[str, float], ...]:
    if not isinstance(value, Mapping):
        raise ConfigError("model_error_share and model_memory_factor map \"<model>/<version>\" to a number",
                          hint=_HINT)
    pairs = tuple(sorted((str(k), float(v)) for k, v in value.items()))
    if any(not low <= v <= high for _, v in pairs):
        raise ConfigError(f"fault values must lie between {low:g} and {high:g}: {dict(pairs)}", hint=_HINT)
    return pairs


def _pick(draw: float, rule: FaultRule) -> str | None:
    for action, rate in (("drop", rule.drop_rate), ("429", rule.rate_429), ("503", rule.rate_503)):
        if draw < rate:
            return action
        draw -= rate
    return None
