"""An export run as people and workflows read it: the plan and the result as Markdown (terminal,
step summary, PR comment) and JSON (outputs), annotations for failures and waiting versions."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from typing import Any

from domino_mlops.apply.export_run import ExportResult
from domino_mlops.plan.export_plan import ExportItem, ExportPlan
from domino_mlops.plan.kinds import kind_named
from domino_mlops.report import github, limits

MAX_LOG_LINES = 40  # of a failed export's log, in the step summary


def plan_to_dict(plan: ExportPlan) -> dict[str, Any]:
    return {"targets": list(plan.targets), "digest": plan.digest,
            "to_export": [f"{i.target}:{i.model}:{i.version}" for i in plan.to_export],
            "items": [{**asdict(i), "done": asdict(i.done) if i.done else None} for i in plan.items]}


def plan_to_markdown(plan: ExportPlan) -> str:
    head = f"### Export plan ({', '.join(plan.targets) or 'no targets'})"
    if not plan.items:
        return f"{head}\n\nNo model version carries a target's tag (TARGET_<NAME>).\n"
    lines = [head, "", f"{len(plan.to_export)} to export, {len(plan.done)} exported before, "
             f"{len(plan.waiting)} waiting.", "", "| target | model | version | mode | what |", "|---|---|---|---|---|"]
    for i in plan.items:
        lines.append(f"| {i.target} | `{_cell(i.model)}` | {i.version} | {i.mode} | {_cell(_what(i))} |")
    # What `export --expect-plan-digest` matches: the versions exported or to export, by image.
    lines += ["", f"Plan digest: `{plan.digest}`"] if plan.digest else []
    return "\n".join(lines) + "\n"


def result_to_dict(result: ExportResult) -> dict[str, Any]:
    return {"exit_code": result.exit_code, "outcomes": [
        {"target": o.item.target, "model": o.item.model, "version": o.item.version, "mode": o.item.mode,
         "status": o.status, "image": o.item.image, "digest": o.digest, "reference": o.reference,
         "context": o.context, "export_id": o.export_id, "error": o.error, "ledger_run_id": o.ledger_run_id}
        for o in result.outcomes]}


def result_to_markdown(result: ExportResult) -> str:
    icon = {"exported": ":white_check_mark:", "failed": ":x:", "context-only": ":package:", "skipped": ":fast_forward:"}
    lines = ["### Exported", "", "| target | model | version | result | image |", "|---|---|---|---|---|"]
    for o in result.outcomes:
        what = {"exported": o.reference, "context-only": o.context or "", "skipped": o.error or ""}.get(
            o.status, f"{o.error} {o.hint}".strip())
        lines.append(f"| {o.item.target} | `{_cell(o.item.model)}` | {o.item.version} | {icon[o.status]} {o.status} | "
                     f"{_cell(what)} |")
    for o in result.outcomes:
        if o.log_text.strip() and o.status == "failed":
            tail = o.log_text.strip().splitlines()[-MAX_LOG_LINES:]
            lines += ["", f"<details><summary>Log of {_cell(o.item.model)} v{o.item.version} "
                      f"({o.item.target})</summary>", "", "```text", *tail, "```", "", "</details>"]
    return "\n".join(lines) + "\n"


def report_export_plan(plan: ExportPlan, *, show: str = "markdown") -> str:
    """Print the plan (``show``: markdown, json, or none when the result will carry it), write its
    outputs and summary, annotate waiting versions; return the Markdown."""
    markdown, as_json = plan_to_markdown(plan), json.dumps(plan_to_dict(plan), indent=2)
    if show != "none":
        print(as_json if show == "json" else markdown, flush=True)
    artifact = limits.artifact_name("export-plan", "-".join(plan.targets) or "none")
    limits.set_json("plan", as_json, github.write_run_file(f"{artifact}.json", as_json), artifact)
    github.set_output("plan-count", str(len(plan.to_export)))
    github.set_output("has-changes", "true" if plan.to_export else "false")
    github.set_output("plan-digest", plan.digest)
    github.append_summary(limits.within_summary(markdown, artifact, "plan"))
    for item in plan.waiting:
        github.annotate("warning", f"{item.model} version {item.version} waits for export to {item.target}: "
                        f"{item.detail}", title="domino-mlops export", stream=sys.stderr)
    return markdown


def report_export_result(result: ExportResult, plan: ExportPlan, *, show_json: bool = False) -> None:
    """Print the result (Markdown with each export's log in a group; or one JSON document holding
    the plan and the result), write the outputs and the summary, annotate failures."""
    markdown = result_to_markdown(result)
    if show_json:
        print(json.dumps({"plan": plan_to_dict(plan), "result": result_to_dict(result)}, indent=2), flush=True)
    else:
        for o in result.outcomes:
            if o.log_text.strip():
                with github.group(f"Export log: {o.item.model} v{o.item.version} to {o.item.target} ({o.status})"):
                    with github.untrusted():  # the build tool's output: shown, never obeyed
                        print(o.log_text.rstrip(), flush=True)
        with github.untrusted():  # the Markdown quotes failed exports' log lines
            print(markdown, flush=True)
    as_json = json.dumps(result_to_dict(result), separators=(",", ":"))
    artifact = limits.artifact_name("export-result", "-".join(plan.targets) or "none")
    limits.set_json("result", as_json, github.write_run_file(f"{artifact}.json", as_json), artifact)
    github.append_summary(limits.within_summary(markdown, artifact, "result"))
    github.set_output("exported", " ".join(o.reference for o in result.exported))
    for o in result.outcomes:
        if o.status == "failed":
            github.annotate("error", f"export of {o.item.model} version {o.item.version} to {o.item.target} "
                            f"failed: {o.error}", title="domino-mlops export", stream=sys.stderr)


def _what(item: ExportItem) -> str:
    """The row's "what" cell: the export kind's description of the version (kinds/exports.py)."""
    return " ".join(kind_named("export").describe(item).steps)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
