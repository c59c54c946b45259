"""A Plan as Markdown (for people: PR comments, step summaries) and JSON (for matrices, tests)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import asdict
from typing import IO, Any

from domino_mlops.plan import json_stream
from domino_mlops.plan.kinds import kind_of
from domino_mlops.plan.steps import Plan


def plan_to_dict(plan: Plan) -> dict[str, Any]:
    return _document(plan, list, asdict)


def _document(plan: Plan, many: Callable[[Iterable[Any]], Any], plain: Callable[[Any], Any]) -> dict[str, Any]:
    """The plan's JSON document; ``many`` holds the per-model and per-workload lists (list, or
    json_stream.Lazy to make each item only while it is written), ``plain`` turns a step into
    what the JSON holds (asdict, or the dataclass itself, which json_stream writes alike)."""
    return {
        "environment": plan.environment,
        "alias": plan.alias,
        "stage_mode": plan.stage_mode,
        "changed_models": [c.model for c in plan.changed],
        "blocked_models": [c.model for c in plan.blocked],
        "held_back": {c.model: c.held_back for c in plan.held_back},
        "warnings": list(plan.warnings),
        "analysis": plan.analysis,
        "changes": many(
            {
                "project_id": c.project_id, "model": c.model, "requested": c.requested,
                "version": c.version, "current": c.current, "run_id": c.run_id, "line": c.line,
                "changed": c.changed,
                "gate": None if c.gate is None else plain(c.gate),
                "steps": [plain(step) for step in c.steps],
            }
            for c in plan.changes
        ),
        "workloads": many(
            {"subject": w.subject, "name": w.name, "project_id": w.project_id, "phase": w.phase, "gate": w.gate,
             "line": w.line, "changed": w.changed, "observed": w.observed, "digest": w.digest,
             "steps": [plain(step) for step in w.steps]}
            for w in plan.workloads
        ),
    }


def plan_to_json(plan: Plan) -> str:
    text = io.StringIO()
    write_json(plan, text)
    return text.getvalue()


def write_json(plan: Plan, stream: IO[str]) -> None:
    """The plan's JSON (plan_to_json's text, byte for byte) written model by model: a 10,000-model
    plan is never whole in memory, as a document or as text."""
    json_stream.write(_document(plan, json_stream.Lazy, lambda step: step), stream)


def plan_to_markdown(plan: Plan) -> str:
    changed = plan.changed
    head = f"### Plan for {plan.environment} (alias `@{plan.alias}`, stage mode `{plan.stage_mode}`)"
    notes = [f"- **held back** `{_escape(c.model)}`: {_escape(c.held_back or '')}" for c in plan.held_back]
    notes += [f"- :warning: {_escape(w)}" for w in plan.warnings]
    if plan.analysis and changed:  # what judges each wave, so the reviewer approves it too
        notes.append(f"- each wave is judged by an {_escape(plan.analysis)}")
    tail = ("\n" + "\n".join(notes) + "\n") if notes else ""
    tail = _workloads(plan) + tail
    if not changed:
        what = "every model is already where the manifest says" if not plan.held_back else "nothing moves forward"
        if plan.has_work:  # only jobs or apps change
            return f"{head}\n\nModels: no changes ({what}).\n{tail}"
        return f"{head}\n\nNo changes: {what}.\n{tail}"
    lines = [head, "", f"{len(changed)} of {len(plan.changes)} model(s) change.", "",
             "| model | project | from | to | gate | steps |", "|---|---|---|---|---|---|"]
    for c in plan.changes:
        gate = "-" if c.gate is None else (f":white_check_mark: {c.gate.requires}" if c.gate.passed
                                           else f":no_entry: {c.gate.detail}")
        steps = "<br>".join(_escape(step) for step in kind_of(c).describe(c).steps) or (
            "held back" if c.held_back else "no change")
        to = c.version if c.requested == c.version else f"{c.version} ({_escape(c.requested)})"
        lines.append(f"| `{_escape(c.model)}` | `{c.project_id}` | {c.current or '-'} | {to} | "
                     f"{gate} | {steps} |")
    if plan.blocked:
        lines += ["", f"**Blocked by gates:** {', '.join(c.model for c in plan.blocked)}."]
    return "\n".join(lines) + "\n" + tail


_PHASE = {"before_models": "before the models", "after_models": "after the models", "apps": "last (apps)"}


def _workloads(plan: Plan) -> str:
    """Jobs, apps (every kind's changes but the models') in the order they run, what Domino shows
    now and what will be done, as each change's kind describes it."""
    if not plan.workloads:
        return ""
    lines = ["", "#### Jobs and apps", "", "| order | kind | name | project | now | steps |",
             "|---|---|---|---|---|---|"]
    for w in plan.workloads:
        described = kind_of(w).describe(w)
        steps = "<br>".join(_escape(step) for step in described.steps) or "no change"
        lines.append(f"| {_PHASE.get(w.phase, w.phase)} | {described.label} | `{_escape(w.name)}` | `{w.project_id}` | "
                     f"{_escape(w.observed) or '-'} | {steps} |")
    return "\n".join(lines) + "\n"


def _escape(text: str) -> str:
    """Keep a table cell a cell: pipes and newlines would break the Markdown table."""
    return text.replace("|", "\\|").replace("\n", " ")
