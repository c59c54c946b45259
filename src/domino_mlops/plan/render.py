"""A Plan as Markdown (for people: PR comments, step summaries) and JSON (for matrices, tests)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from domino_mlops.plan.steps import Plan


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    return {
        "environment": plan.environment,
        "alias": plan.alias,
        "stage_mode": plan.stage_mode,
        "changed_models": [c.model for c in plan.changed],
        "blocked_models": [c.model for c in plan.blocked],
        "held_back": {c.model: c.held_back for c in plan.held_back},
        "warnings": list(plan.warnings),
        "changes": [
            {
                "project_id": c.project_id, "model": c.model, "requested": c.requested,
                "version": c.version, "current": c.current, "run_id": c.run_id, "line": c.line,
                "changed": c.changed,
                "gate": None if c.gate is None else asdict(c.gate),
                "steps": [asdict(step) for step in c.steps],
            }
            for c in plan.changes
        ],
    }


def plan_to_json(plan: Plan) -> str:
    return json.dumps(plan_to_dict(plan), indent=2, sort_keys=False)


def plan_to_markdown(plan: Plan) -> str:
    changed = plan.changed
    head = f"### Plan for {plan.environment} (alias `@{plan.alias}`, stage mode `{plan.stage_mode}`)"
    notes = [f"- **held back** `{_escape(c.model)}`: {_escape(c.held_back or '')}" for c in plan.held_back]
    notes += [f"- :warning: {_escape(w)}" for w in plan.warnings]
    tail = ("\n" + "\n".join(notes) + "\n") if notes else ""
    if not changed:
        what = "every model is already where the manifest says" if not plan.held_back else "nothing moves forward"
        return f"{head}\n\nNo changes: {what}.\n{tail}"
    lines = [head, "", f"{len(changed)} of {len(plan.changes)} model(s) change.", "",
             "| model | project | from | to | gate | steps |", "|---|---|---|---|---|---|"]
    for c in plan.changes:
        gate = "-" if c.gate is None else (f":white_check_mark: {c.gate.requires}" if c.gate.passed
                                           else f":no_entry: {c.gate.detail}")
        steps = "<br>".join(_escape(step.describe()) for step in c.steps) or ("held back" if c.held_back else "no change")
        to = c.version if c.requested == c.version else f"{c.version} ({_escape(c.requested)})"
        lines.append(f"| `{_escape(c.model)}` | `{c.project_id}` | {c.current or '-'} | {to} | "
                     f"{gate} | {steps} |")
    if plan.blocked:
        lines += ["", f"**Blocked by gates:** {', '.join(c.model for c in plan.blocked)}."]
    return "\n".join(lines) + "\n" + tail


def _escape(text: str) -> str:
    """Keep a table cell a cell: pipes and newlines would break the Markdown table."""
    return text.replace("|", "\\|").replace("\n", " ")
