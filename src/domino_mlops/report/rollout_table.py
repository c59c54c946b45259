"""The rollout as a picture: one small table per environment, a row per model and a column per
wave, each data plane (hardware tier) with a status symbol. The plan's (PR comment, step summary)
says what each plane is about to do; the result's says where each ended up. The detailed tables
stay below it; this is the one a reviewer reads at a glance."""

from __future__ import annotations

from collections.abc import Iterable

from domino_mlops.apply.executor import ApplyResult
from domino_mlops.plan.steps import DeployVersion, ModelChange, Plan

# What a plane is about to do (the plan) and where it ended (the result): a symbol and its word.
PLANNED = {"deploy": (":arrow_up:", "deploys"), "unchanged": (":heavy_minus_sign:", "unchanged"),
           "reconfigure": (":gear:", "settings change"), "refused": (":x:", "failed before, not rebuilt"),
           "held back": (":pause_button:", "held back"), "blocked": (":no_entry:", "blocked by its gate")}
APPLIED = {"serving": (":white_check_mark:", "serving"), "unchanged": (":heavy_minus_sign:", "unchanged"),
           "put back": (":leftwards_arrow_with_hook:", "put back"), "failed": (":x:", "failed"),
           "not reached": (":white_circle:", "not reached"), "unverified": (":rotating_light:", "unverified")}


def plan_table(plan: Plan) -> str:
    """The planned rollout of one environment; "" when no Model API is in the plan (Domino not read)."""
    rows = [(change, [(d.wave, d.hardware_tier, _planned(change, d)) for d in change.serving])
            for change in plan.changes]
    return _table(f"Rollout of {plan.environment}, wave by wave (planned)", PLANNED,
                  [(f"`{_escape(c.model)}` {c.current or '-'} -> {c.version}", planes) for c, planes in rows])


def result_table(result: ApplyResult) -> str:
    """Where one environment's data planes ended up; "" when no model reached a data plane."""
    return _table(f"Rollout of {result.environment}, wave by wave", APPLIED,
                  [(f"`{_escape(m.model)}` {m.version}", [(p.wave, p.hardware_tier, p.status) for p in m.data_planes])
                   for m in result.models])


def _planned(change: ModelChange, deploy: DeployVersion) -> str:
    if change.held_back:
        return "held back"
    if change.gate is not None and not change.gate.passed and change.changed:
        return "blocked"
    if deploy.action == "failed_before":
        return "refused"
    if deploy.action != "none":
        return "deploy"
    return "reconfigure" if deploy.reconfigures else "unchanged"


def _table(title: str, symbols: dict[str, tuple[str, str]],
           rows: Iterable[tuple[str, list[tuple[int, str | None, str]]]]) -> str:
    rows = [(label, planes) for label, planes in rows if planes]
    if not rows:
        return ""
    waves = sorted({wave for _, planes in rows for wave, _, _ in planes})
    lines = [f"#### {title}", "", "| model | " + " | ".join(f"wave {w + 1}" for w in waves) + " |",
             "|---|" + "---|" * len(waves)]
    seen: set[str] = set()
    for label, planes in rows:
        cells = []
        for wave in waves:
            here = sorted((tier or "default", status) for w, tier, status in planes if w == wave)
            seen.update(status for _, status in here)
            cells.append("<br>".join(f"{symbols.get(status, ('', ''))[0]} {_escape(tier)}" for tier, status in here)
                         or "-")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    legend = ", ".join(f"{symbols[s][0]} {symbols[s][1]}" for s in symbols if s in seen)
    return "\n".join(lines + ["", legend, ""])


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
