"""A run as the person reading it sees it: the plan, progress lines, the result, in the terminal
and in GitHub (outputs, step summary, PR comment, annotations on the manifest)."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import replace

from domino_mlops.apply.executor import ApplyResult
from domino_mlops.clients.domino.urls import model_invocation, model_page
from domino_mlops.desired.environments import Environment
from domino_mlops.plan.actions import Action
from domino_mlops.plan.digest import digests_by_project, plan_digest, projects_with_work
from domino_mlops.plan.render import plan_to_json, plan_to_markdown, write_json
from domino_mlops.plan.steps import Plan
from domino_mlops.report import github, limits
from domino_mlops.report.rollout_table import plan_table, result_table
from domino_mlops.report.results import result_to_json, result_to_markdown, unchanged_to_dict

TITLES = {"deploy": "Deployed", "promote": "Promoted", "rollback": "Rolled back"}


def report_plan(plan: Plan, env: Environment, *, show_json: bool = False) -> str:
    """Print the plan (Markdown, or JSON), write its file, outputs and step summary; return the
    Markdown for the pull-request comment (changes first and cut to GitHub's comment limit when
    the whole plan would not fit; report/limits.py).

    Outputs include the plan's digest (plan/digest.py), overall and per project, for the apply
    job to match: what the reviewer approved is what is applied. The whole plan is always in
    plan-file (uploaded as the artifact plan-artifact); plan-json carries it only when small."""
    digest = plan_digest(plan, env)
    markdown = _plan_markdown(plan, digest)
    if show_json:  # streamed: a 10,000-model plan is 20 MB of JSON, never held whole for the terminal
        write_json(plan, sys.stdout)
        print(flush=True)
    else:
        print(markdown, end="" if markdown.endswith("\n") else "\n", flush=True)
    artifact = limits.artifact_name("plan", env.name)
    if os.environ.get("GITHUB_OUTPUT"):  # the file and the outputs exist only in a run
        # Streamed to its file (a 10,000-model plan is 20 MB of JSON), read back only when small
        # enough for the plan-json output.
        path = github.write_run_file(f"plan-{env.name}.json", lambda out: write_json(plan, out))
        if path is None:
            as_json = plan_to_json(plan)
            limits.set_json("plan", as_json, path, artifact)
        else:
            size = os.path.getsize(path)
            with open(path, encoding="utf-8") as handle:
                as_json = handle.read() if size <= limits.INLINE_JSON_BYTES else ""
            limits.set_json("plan", as_json, path, artifact, size=size)
    github.set_output("plan-count", str(len(plan.changed) + len(plan.changed_workloads)))
    github.set_output("plan-digest", digest)
    github.set_output("plan-digests", json.dumps(digests_by_project(plan, env), separators=(",", ":")))
    github.set_output("changed-models", " ".join(c.model for c in plan.changed))
    github.set_output("has-changes", "true" if plan.has_work else "false")
    # The apply jobs' matrix: only projects with work, as JSON (never a string built in YAML).
    github.set_output("work-projects", json.dumps(projects_with_work(plan), separators=(",", ":")))
    github.append_summary(_shortened(plan, digest, markdown, limits.SUMMARY_BYTES, limits.utf8_size, artifact))
    return _shortened(plan, digest, markdown, limits.COMMENT_CHARS - COMMENT_MARKER_ROOM, len, artifact)


# The PR comment's hidden marker and the line joining it (report/comment.py) take this much of the
# comment's 65,536 characters.
COMMENT_MARKER_ROOM = 200


def _plan_markdown(plan: Plan, digest: str) -> str:
    picture = plan_table(plan)
    return plan_to_markdown(plan) + (f"\n{picture}" if picture else "") + f"\nPlan digest: `{digest}`\n"


def _shortened(plan: Plan, digest: str, markdown: str, limit: int, size: Callable[[str], int],
               artifact: str) -> str:
    """The plan's Markdown within ``limit``: whole if it fits; else the rows that change
    something first (the unchanged ones counted, not shown), then, if still too long, as many of
    those as fit; a line says what is left out and which artifact holds the whole plan."""
    if size(markdown) <= limit:
        return markdown
    changes = replace(plan, changes=plan.changed, workloads=plan.changed_workloads)
    unchanged = len(plan.changes) - len(changes.changes) + len(plan.workloads) - len(changes.workloads)
    picture = plan_table(changes)
    body = plan_to_markdown(changes) + (f"\n{picture}" if picture else "")
    tail = limits.pointer(10 ** 9, unchanged, artifact) + f"\nPlan digest: `{digest}`\n"  # the longest it can be
    cut = limits.fit(body, limit, size=size, tail=tail)
    return (f"{cut.text.rstrip()}\n\n{limits.pointer(cut.rows_left_out, unchanged, artifact)}"
            f"\nPlan digest: `{digest}`\n")


def report_serving(plan: Plan, domino_host: str, model_host: str = "") -> None:
    """Nothing to change: the endpoint outputs come from what Domino serves, so a caller's next
    step (calling the endpoint) works on a re-run too. ``model_host``: where models answer
    (default: the Domino host); the page is in Domino's UI, on the Domino host. result-json says
    what was checked (every model as it serves, status "unchanged"), never nothing."""
    as_json = json.dumps(unchanged_to_dict(plan, domino_host, model_host), indent=2)
    _set_result_json(as_json, plan.environment, [c.project_id for c in plan.changes])
    first = next((d for c in plan.changes for d in c.serving if d.model_api_id and d.action == "none"), None)
    if first is not None and domino_host:
        github.set_output("endpoint-url", (model_host or domino_host) + model_invocation(first.model_api_id))
        github.set_output("model-page-url", domino_host + model_page(first.model_api_id))
        github.set_output("model-api-id", first.model_api_id)
        github.set_output("model-api-version-id", first.version_id or "")


def comment_plan(markdown: str, environment: str) -> None:
    """Post the plan on the pull request (one comment per environment, updated in place). A GitHub
    outage is a warning: the plan is also in the step summary, and a deploy must not depend on
    github.com being up."""
    from domino_mlops.errors import OperationError
    from domino_mlops.report.comment import upsert_pr_comment

    try:
        url = upsert_pr_comment(markdown, f"plan:{environment}")
    except OperationError as exc:
        github.annotate("warning", f"could not post the plan on the pull request: {exc}", stream=sys.stderr)
        return
    if url:
        print(f"Plan posted to the pull request: {url}", flush=True)


def report_result(result: ApplyResult, plan: Plan, manifest_file: str, action: Action) -> None:
    markdown = _with_picture(result_to_markdown(result, title=TITLES.get(action, action)), result_table(result))
    with github.untrusted():  # the Markdown quotes failed jobs' log lines
        print(markdown, flush=True)
    artifact = _set_result_json(result_to_json(result), result.environment, [c.project_id for c in plan.changes])
    github.append_summary(limits.within_summary(markdown, artifact, "result"))
    first = next((d for m in result.models for d in m.deployed), None)
    if first is not None:
        github.set_output("endpoint-url", first.endpoint_url)
        github.set_output("model-page-url", first.page_url)
        github.set_output("model-api-id", first.model_api_id)
        github.set_output("model-api-version-id", first.version_id)
    for model in result.models:
        if model.error is not None:
            github.annotate("error", f"{model.model} version {model.version}: {model.error}",
                            file=manifest_file, line=plan.line_of(model.model), stream=sys.stderr)
            if model.error.hint:
                print(f"hint: {model.error.hint}", file=sys.stderr)
    for work in result.workloads:
        if work.error is None:
            continue
        line = next((w.line for w in plan.workloads if (w.subject, w.name) == (work.subject, work.name)), None)
        github.annotate("error", f"{work.subject} {work.name}: {work.error}", file=manifest_file, line=line,
                        stream=sys.stderr)
        if work.log_tail:
            print(f"Last {len(work.log_tail)} log lines of job {work.name}:", file=sys.stderr)
            with github.untrusted(stream=sys.stderr):  # the job's output: shown, never obeyed
                for text in work.log_tail:
                    print(f"  | {text}", file=sys.stderr)


def _set_result_json(as_json: str, environment: str, projects: list[str]) -> str:
    """result-json (only when small), result-file and result-artifact; returns the artifact's name.
    A matrix job works on one project, which names its artifact apart from its siblings'."""
    artifact = limits.artifact_name("result", environment, projects)
    limits.set_json("result", as_json, github.write_run_file(f"{artifact}.json", as_json), artifact)
    return artifact


def _with_picture(markdown: str, picture: str) -> str:
    """The picture right under the title, where the eye lands first; the details follow."""
    if not picture:
        return markdown
    title, _, rest = markdown.partition("\n")
    return f"{title}\n\n{picture}{rest}"


class Progress:
    """Progress lines from parallel workers, one whole line at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def event(self, model: str, message: str) -> None:
        with self._lock:
            print(f"[{model}] {message}", flush=True)

    def warning(self, model: str, message: str) -> None:
        with self._lock:
            github.annotate("warning", f"{model}: {message}", stream=sys.stdout)
