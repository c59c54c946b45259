"""A rollback as its reviewer sees it: per model and data plane, the version it goes back from
and the one it goes back to, in the step summary and as outputs the apply job is handed
(rollback-json, from-version, to-version next to plan-digest)."""

from __future__ import annotations

import json
from typing import Any

from domino_mlops.desired.environments import Environment
from domino_mlops.desired.naming import model_api_name, tiers_in_waves
from domino_mlops.plan.steps import Plan
from domino_mlops.report import github


def rollback_moves(plan: Plan, env: Environment) -> list[dict[str, Any]]:
    """Each model's from -> to, with the data planes (wave, Model API, hardware tier) it covers and
    whether each already serves the target (a finished or partial rollback). Waves count from 1,
    as the plan's steps say them."""
    moves = []
    for change in plan.changes:
        serving = {d.hardware_tier: d.action == "none" for d in change.serving}
        moves.append({
            "model": change.model, "project": change.project_id, "from": change.rolls_back_from,
            "to": change.version, "alias_now": change.current, "done": not change.changed,
            "data_planes": [{"wave": wave + 1, "model_api": model_api_name(change.model, env, tier),
                             "hardware_tier": tier, "serves_target": serving.get(tier, False)}
                            for wave, tier in tiers_in_waves(env)],
        })
    return moves


def rollback_to_markdown(plan: Plan, env: Environment) -> str:
    lines = [f"### Rollback of {plan.environment}: from -> to", "",
             "| Model | Wave | Model API | Hardware tier | From | To | Now |", "|---|---|---|---|---|---|---|"]
    for move in rollback_moves(plan, env):
        for plane in move["data_planes"]:
            now = f"serves {move['to']}" if plane["serves_target"] else "to change"
            lines.append(f"| {move['model']} | {plane['wave']} | {plane['model_api']} | {plane['hardware_tier'] or '-'} "
                         f"| {move['from'] or 'none'} | {move['to']} | {now} |")
        state = ("nothing to do: the rollback is finished" if move["done"]
                 else f"alias `{plan.alias}` names version {move['alias_now'] or 'none'} now")
        lines.append("")
        lines.append(f"{move['model']}: version {move['from'] or 'none'} -> {move['to']}; {state}.")
    return "\n".join(lines) + "\n"


def report_rollback(plan: Plan, env: Environment) -> None:
    """Print the from -> to, add it to the step summary, and set the outputs the apply job checks."""
    markdown = rollback_to_markdown(plan, env)
    print(markdown, flush=True)
    github.append_summary(markdown)
    moves = rollback_moves(plan, env)
    github.set_output("rollback-json", json.dumps(moves, separators=(",", ":")))
    if len(moves) == 1:  # a rollback names one model: its from and to, for `--expect-from`
        github.set_output("from-version", moves[0]["from"] or "")
        github.set_output("to-version", moves[0]["to"])
