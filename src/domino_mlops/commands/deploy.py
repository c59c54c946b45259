"""`domino-mlops deploy` / `promote`: plan one environment against MLflow and Domino, then apply.

deploy-to-staging and promote-to-production are the same engine; what differs is the
environment (and so its gate, tiers and alias) and the word recorded in the ledger.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Sequence

from domino_mlops.apply.executor import ApplyContext, ApplyResult, apply_plan
from domino_mlops.apply.ledger import Ledger
from domino_mlops.apply.poll import PollSettings
from domino_mlops.commands.common import apply_mlflow_http_defaults, read_desired, registry_factory
from domino_mlops.apply.lease import Leases
from domino_mlops.commands.runtime import DominoClients, adopt_project_token, lease_settings, run_info
from domino_mlops.desired.environments import Environment
from domino_mlops.desired.load import Desired
from domino_mlops.desired.manifest import ManifestEntry, VersionRef
from domino_mlops.errors import AliasConflict, ConfigError, GateRefused, NotFound
from domino_mlops.observed.model_tokens import ModelTokens
from domino_mlops.observed.registry import observe_registry
from domino_mlops.observed.serving import ServingSnapshot, observe_serving
from domino_mlops.plan.naming import model_api_name, tiers_in_waves
from domino_mlops.plan.planner import plan_environment
from domino_mlops.plan.render import plan_to_json, plan_to_markdown
from domino_mlops.plan.steps import Plan
from domino_mlops.report import github
from domino_mlops.report.results import result_to_json, result_to_markdown


def run(args: argparse.Namespace, *, action: str) -> int:
    apply_mlflow_http_defaults()
    adopt_project_token(args.project)
    desired = read_desired(args)
    env = desired.environments.get(args.env)
    entries = select_entries(desired, env, project=args.project, model=args.model, version=args.version)
    return apply_entries(entries, desired, env, args, action=action)


def select_entries(desired: Desired, env: Environment, *, project: str | None, model: str | None,
                   version: str | None) -> tuple[ManifestEntry, ...]:
    entries = tuple(e for e in desired.manifest.for_environment(env.name) if project in (None, e.project_id))
    known = sorted({e.project_id for e in desired.manifest.entries})
    if project is not None and model is None and project not in known:
        raise NotFound(f"project {project!r} is not in {desired.manifest.file}",
                       hint=f"Its projects are: {', '.join(known) or '(none)'}. Check --project for a typo.")
    if model is None:
        if version is not None:
            raise ConfigError("--version needs --model", hint="Name the model whose version you pass.")
        return entries
    chosen = [e for e in entries if e.name == model]
    listed_elsewhere = any(e.name == model for e in desired.manifest.for_environment(env.name))
    if not chosen and listed_elsewhere:
        return ()  # a matrix job of another project: the model is not this project's to deploy
    if not chosen and project is None:
        raise NotFound(f"model {model!r} is not in {desired.manifest.file} for {env.name}",
                       hint="Add it to the manifest, or pass --project <id> to deploy it anyway.")
    base = chosen[0] if chosen else ManifestEntry(project or "", model, VersionRef(number=1))
    if version is None:
        return (base,)
    ref = VersionRef.parse(version if version.startswith("@") or version.isdigit() else _bad_version(version))
    return (ManifestEntry(base.project_id, base.name, ref, base.index, base.line, base.environments,
                          base.replicas, base.smoke_test),)


def _bad_version(version: str) -> str:
    raise ConfigError(f"--version {version!r} is not a version number or an @alias",
                      hint="Pass a number such as 3, or an alias such as @candidate.")


def apply_entries(entries: Sequence[ManifestEntry], desired: Desired, env: Environment,
                  args: argparse.Namespace, *, action: str, registry_for=None) -> int:
    """Plan, report, apply. ``registry_for`` lets a caller that already read MLflow share its
    per-project registries (and the secrets they masked) instead of building them again."""
    registry_for = registry_for or registry_factory()
    clients = DominoClients(os.environ)
    tokens = ModelTokens.from_env(os.environ, env.name, on_secret=github.mask)
    try:
        retry_failed = getattr(args, "retry_failed_builds", False)
        plan = compute_plan(entries, desired, env, registry_for, clients, action=action, tokens=tokens,
                            retry_failed=retry_failed)
        markdown = report_plan(plan)
        if getattr(args, "pr_comment", False):
            comment_plan(markdown, env.name)
        if not plan.changed:
            print(f"Nothing to do: {env.name} already serves what the manifest says.")
            return 0
        printer = _Printer()
        run = run_info()
        ctx = ApplyContext(
            registry_for=registry_for, domino_for=clients.for_project, domino_host=clients.host,
            environment_id_for=clients.environment_id(env), run=run, leases=Leases(lease_settings(run)),
            poll=PollSettings(timeout=args.deploy_timeout), max_parallel=args.max_parallel,
            on_event=printer.event, on_warning=printer.warning, model_tokens=tokens, retry_failed=retry_failed)
        try:
            result = apply_plan(plan, env, ctx)
        except (GateRefused, AliasConflict) as refusal:
            _point_at_manifest(refusal, plan, desired)
            raise
        _report_result(result, plan, desired, action)
        return result.exit_code
    finally:
        clients.close()


def _point_at_manifest(refusal: GateRefused | AliasConflict, plan: Plan, desired: Desired) -> None:
    """A refusal names models; the annotation should sit on their lines in the manifest."""
    file = desired.manifest.file
    if isinstance(refusal, GateRefused):
        refusal.places = [(file, plan.line_of(model), reason) for model, reason in refusal.reasons]
    else:
        refusal.places = [(file, plan.line_of(refusal.model), refusal.message)]


def compute_plan(entries: Sequence[ManifestEntry], desired: Desired, env: Environment, registry_for,
                 clients: DominoClients, *, action: str, tokens: ModelTokens | None = ModelTokens(),
                 retry_failed: bool = False) -> Plan:
    """Read MLflow (2 requests per model), Domino (1 list per project + versions of the Model
    APIs involved) and the ledger, then plan. Writes nothing."""
    observed = observe_manifest(entries, registry_for, desired)
    wanted: dict[str, set[tuple[str, str]]] = {}
    for item in observed:
        project = env.project_id or item.entry.project_id
        for _, tier in tiers_in_waves(env):
            wanted.setdefault(project, set()).add((project, model_api_name(item.model.name, env, tier)))
    apis = []
    for project, names in sorted(wanted.items()):
        apis += observe_serving(clients.for_project(project), names).apis
    # One ledger search for the environment (entries come oldest first), not one per model.
    ledger_last: dict[str, str | None] = {item.model.name: None for item in observed}
    if observed:
        for entry in Ledger(registry_for(observed[0].entry.project_id)).entries(environment=env.name):
            if entry.model in ledger_last:
                ledger_last[entry.model] = entry.to_version
    return plan_environment(env, desired.environments, observed, ServingSnapshot(tuple(sorted(apis))),
                            action=action, ledger_last=ledger_last, tokens=tokens, retry_failed=retry_failed)


def observe_manifest(entries: Sequence[ManifestEntry], registry_for, desired: Desired) -> tuple:
    """observe_registry, with every missing model or version pointed at its manifest line."""
    try:
        return observe_registry(entries, registry_for)
    except NotFound as exc:
        exc.places = [(file or desired.manifest.file, line, what) for file, line, what in exc.places]
        raise


def report_plan(plan: Plan, *, show_json: bool = False) -> str:
    """Print the plan (Markdown, or JSON), write its outputs and step summary; return the Markdown."""
    as_json, markdown = plan_to_json(plan), plan_to_markdown(plan)
    shown = as_json if show_json else markdown
    print(shown, end="" if shown.endswith("\n") else "\n", flush=True)
    github.set_output("plan-json", as_json)
    github.set_output("changed-models", " ".join(c.model for c in plan.changed))
    github.set_output("has-changes", "true" if plan.changed else "false")
    github.append_summary(markdown)
    return markdown


def _report_result(result: ApplyResult, plan: Plan, desired: Desired, action: str) -> None:
    markdown = result_to_markdown(result, title={"deploy": "Deployed", "promote": "Promoted",
                                                  "rollback": "Rolled back"}.get(action, action))
    print(markdown, flush=True)
    github.append_summary(markdown)
    github.set_output("result-json", result_to_json(result))
    first = next((d for m in result.models for d in m.deployed), None)
    if first is not None:
        github.set_output("endpoint-url", first.endpoint_url)
        github.set_output("model-api-id", first.model_api_id)
        github.set_output("model-api-version-id", first.version_id)
    for model in result.models:
        if model.error is not None:
            github.annotate("error", f"{model.model} version {model.version}: {model.error}",
                            file=desired.manifest.file, line=plan.line_of(model.model), stream=sys.stderr)
            if model.error.hint:
                print(f"hint: {model.error.hint}", file=sys.stderr)


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


class _Printer:
    """Progress lines from parallel workers, one whole line at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def event(self, model: str, message: str) -> None:
        with self._lock:
            print(f"[{model}] {message}", flush=True)

    def warning(self, model: str, message: str) -> None:
        with self._lock:
            github.annotate("warning", f"{model}: {message}", stream=sys.stdout)
