"""An ApplyResult as Markdown (step summary, PR comment) and JSON (the `result-json` output)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from domino_mlops.apply.analysis import METRICS
from domino_mlops.apply.executor import ApplyResult, ModelResult
from domino_mlops.clients.domino.urls import model_invocation, model_page
from domino_mlops.errors import AnalysisFailed, AnalysisInconclusive, PutBackFailed
from domino_mlops.plan.steps import Plan

_ICON = {"done": ":white_check_mark:", "unchanged": ":heavy_minus_sign:", "failed": ":x:",
         "conflict": ":warning:", "held back": ":pause_button:", "unverified": ":rotating_light:",
         "blocked": ":no_entry:", "put back": ":leftwards_arrow_with_hook:"}
_PLANE_ICON = {"serving": ":white_check_mark:", "unchanged": ":heavy_minus_sign:", "put back": ":leftwards_arrow_with_hook:",
               "failed": ":x:", "not reached": ":white_circle:", "unverified": ":rotating_light:"}


def result_to_dict(result: ApplyResult) -> dict[str, Any]:
    return {
        "environment": result.environment,
        "exit_code": result.exit_code,
        "models": [
            {
                "model": m.model, "version": m.version, "status": m.status, "message": m.message,
                "writes": m.writes,
                "deployments": [{"model_api_name": d.step.model_api_name, "hardware_tier": d.step.hardware_tier,
                                 "model_api_id": d.model_api_id, "model_api_version_id": d.version_id,
                                 "endpoint_url": d.endpoint_url, "page_url": d.page_url} for d in m.deployed],
                "smoke": {name: r.summary() for name, r in m.smoke},
                "data_planes": [asdict(plane) for plane in m.data_planes],
                "warnings": list(m.warnings),
                "analysis": [{"model_api_name": v.target.model_api_name, "version": v.target.version_id,
                              "measurements": [x.summary() for x in v.measurements]} for v in m.analysis],
                "ledger_run_id": m.ledger.run_id if m.ledger else None,
            }
            for m in result.models
        ],
        "workloads": [
            {"kind": w.subject, "name": w.name, "status": w.status, "message": w.message, "writes": w.writes,
             "domino_ids": list(w.domino_ids), "url": w.url, "log_tail": list(w.log_tail),
             "ledger_run_id": w.ledger.run_id if w.ledger else None}
            for w in result.workloads
        ],
    }


def result_to_json(result: ApplyResult) -> str:
    return json.dumps(result_to_dict(result), indent=2)


def unchanged_to_dict(plan: Plan, domino_host: str, model_host: str = "") -> dict[str, Any]:
    """A run with nothing to write, in result_to_dict's shape: what was checked, per model the
    version the environment's alias serves and each Model API as observed, so a caller's next step
    reads the same document whether or not anything moved. ``model_host``: where models answer
    (default: the Domino host)."""
    def deployment(d: Any) -> dict[str, Any]:
        known = bool(d.model_api_id and domino_host)
        return {"model_api_name": d.model_api_name, "hardware_tier": d.hardware_tier,
                "model_api_id": d.model_api_id, "model_api_version_id": d.version_id,
                "endpoint_url": (model_host or domino_host) + model_invocation(d.model_api_id) if known else None,
                "page_url": domino_host + model_page(d.model_api_id) if known else None}

    models = []
    for change in plan.changes:
        serving = tuple(d for d in change.serving if d.action == "none")
        models.append({
            "model": change.model, "version": change.version, "serving_version": change.current,
            "status": "held back" if change.held_back else "unchanged",
            "message": change.held_back or "already serves what the manifest says", "writes": 0,
            "deployments": [deployment(d) for d in serving], "smoke": {},
            "data_planes": [{"model_api_name": d.model_api_name, "hardware_tier": d.hardware_tier, "wave": d.wave,
                             "status": "unchanged", "data_plane_id": None, "version_id": d.version_id,
                             "smoke_ms": None, "note": ""} for d in serving],
            "warnings": [], "analysis": [], "ledger_run_id": None,
        })
    return {
        "environment": plan.environment, "exit_code": 0,
        # False: Domino was not configured, so only MLflow was checked and no Model API is named.
        "domino_checked": plan.domino_observed,
        "models": models,
        "workloads": [{"kind": w.subject, "name": w.name, "status": "unchanged", "message": w.observed,
                       "writes": 0, "domino_ids": [], "url": None, "log_tail": [], "ledger_run_id": None}
                      for w in plan.workloads],
    }


def result_to_markdown(result: ApplyResult, *, title: str) -> str:
    lines = [f"### {title}: {result.environment}", "",
             "| | model | version | Model API (tier) | smoke | note |", "|---|---|---|---|---|---|"]
    for m in result.models:
        apis = "<br>".join(f"`{d.model_api_id}` v`{d.version_id}` ({d.step.hardware_tier or 'default'})"
                           for d in m.deployed) or "-"
        smoke = "<br>".join(f"{r.latency_ms:.0f} ms" for _, r in m.smoke) or ("skipped" if m.warnings else "-")
        note = m.message.replace("|", "\\|").replace("\n", " ") if m.message else (
            "nothing to do" if m.status == "unchanged" else f"{m.writes} write(s)")
        if m.warnings:
            note += "<br>" + "<br>".join(":warning: " + w.replace("|", "\\|") for w in m.warnings)
        lines.append(f"| {_ICON.get(m.status, '')} | `{m.model}` | {m.version} | {apis} | {smoke} | {note} |")
    return "\n".join(lines + _data_planes(result) + _analysis(result) + _workloads(result)) + "\n"


def _breach(m: ModelResult) -> AnalysisFailed | AnalysisInconclusive | None:
    error = m.error.cause if isinstance(m.error, PutBackFailed) else m.error
    return error if isinstance(error, (AnalysisFailed, AnalysisInconclusive)) else None


def _analysis(result: ApplyResult) -> list[str]:
    """Each new version's analysis, a column per metric: its last measurement, or the breach
    (the metric that failed shows its value against the threshold)."""
    rows = []
    for m in result.models:
        for v in m.analysis:
            last = v.last
            cells = [f"{x:.4g}" if (x := last.value(name)) is not None else "-" for name in METRICS]
            rows.append(f"| :white_check_mark: | `{m.model}` | `{v.target.model_api_name}` | {v.target.version_id} | "
                        f"{last.requests} | " + " | ".join(cells) + f" | passed ({len(v.measurements)} measurement(s)) |")
        found = _breach(m)
        if found is not None:
            last = found.measurements[-1] if found.measurements else None
            cells = []
            for name in METRICS:
                value = last.value(name) if last is not None else None
                text = f"{value:.4g}" if value is not None else "-"
                if found.condition.removeprefix("max_").removesuffix("_fraction") == name:
                    text = f"**{found.measured:.4g}** > {found.threshold:g}"
                cells.append(text)
            verdict = ("breach: " + found.condition if isinstance(found, AnalysisFailed)
                       else f"inconclusive: {int(found.measured)} < min_requests {int(found.threshold)}")
            rows.append(f"| :x: | `{m.model}` | `{found.model_api_name}` | {found.version_id} | "
                        f"{last.requests if last else '-'} | " + " | ".join(cells) + f" | {verdict}, put back |")
    if not rows:
        return []
    return ["", "#### Analysis", "", "| | model | Model API | version | requests | " + " | ".join(METRICS)
            + " | verdict |", "|---|---|---|---|---|" + "---|" * len(METRICS) + "---|", *rows]


def _workloads(result: ApplyResult) -> list[str]:
    """Every kind's outcomes beside the models (jobs, apps, ...), in the order they ran; a failed
    run's last log lines. Nothing here depends on the kind: the row is the WorkloadResult's."""
    if not result.workloads:
        return []
    lines = ["", "#### Jobs and apps", "", "| | kind | name | status | Domino | note |", "|---|---|---|---|---|---|"]
    for w in result.workloads:
        ids = "<br>".join(f"`{i}`" for i in w.domino_ids) or "-"
        where = f"[open]({w.url})" if w.url else ids
        note = (w.message or ("nothing to do" if w.status == "unchanged" else f"{w.writes} write(s)"))
        lines.append(f"| {_ICON.get(w.status, '')} | {w.subject} | `{w.name}` | {w.status} | {where} | "
                     f"{note.replace('|', chr(92) + '|').replace(chr(10), ' ')} |")
    for w in result.workloads:
        if w.log_tail:
            lines += ["", f"Last log lines of {w.subject} `{w.name}`:", "", "```text", *w.log_tail, "```"]
    return lines


def _data_planes(result: ApplyResult) -> list[str]:
    """Per data plane (hardware tier), wave by wave: where each model's Model API stands now."""
    planes = [(m.model, p) for m in result.models for p in m.data_planes]
    if not planes:
        return []
    lines = ["", "#### Data planes", "", "| wave | data plane (hardware tier) | model | Model API | status | "
             "serving version | smoke |", "|---|---|---|---|---|---|---|"]
    for model, p in sorted(planes, key=lambda item: (item[1].wave, item[1].hardware_tier or "", item[0])):
        where = (p.hardware_tier or "default") + (f" (`{p.data_plane_id}`)" if p.data_plane_id else "")
        smoke = f"{p.smoke_ms:.0f} ms" if p.smoke_ms is not None else "-"
        lines.append(f"| {p.wave + 1} | {where} | `{model}` | `{p.model_api_name}` | "
                     f"{_PLANE_ICON.get(p.status, '')} {p.status} | {p.version_id or '-'} | {smoke} |")
    return lines
