"""The export verb through its kind (kinds/exports.py): select the targets, observe their tagged
versions, plan (shown through Reporter.on_export_plan), check the approved digest, the guard, then
each version exported by the kind (apply/export_run.py runs them one after the other). Failures of
single versions are in the result, not raised."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from domino_mlops.api._engine import GitHubRun, guard_writes
from domino_mlops.api._types import ExportRequest, ExportRunOutcome
from domino_mlops.apply.export_run import ExportOptions, apply_exports
from domino_mlops.connections import Connections
from domino_mlops.desired.environments import Environment
from domino_mlops.desired.load import Desired, read_desired, read_environments_file
from domino_mlops.desired.manifest import Manifest, ManifestEntry, VersionRef
from domino_mlops.desired.targets import Targets
from domino_mlops.errors import PlanChanged
from domino_mlops.plan.export_plan import ExportPlan
from domino_mlops.plan.kinds import kind_named


def export(request: ExportRequest, targets: Targets, connections: Connections) -> ExportRunOutcome:
    """One MLflow search per target (``request.target``: only that one), the plan (shown through
    Reporter.on_export_plan), then, unless ``plan_only``, the approved digest
    (``expect_plan_digest``: PlanChanged), the guard and the export."""
    kind = kind_named("export")
    exporter = Environment("export", request.github_environment, alias="")
    chosen = kind.select(targets, exporter, target=request.target)
    plan = kind.plan(chosen, kind.observe(chosen, exporter, connections), exporter)
    request.reporter.on_export_plan(plan)
    if request.plan_only:
        return ExportRunOutcome(plan)
    _check_digest(plan, request)
    if not plan.to_export:
        return ExportRunOutcome(plan)
    if any(i.mode == "build" for i in plan.to_export) and request.tool is None and not request.context_only:
        request.reporter.on_warning("", "no docker, podman or buildah on PATH: the build contexts are laid out in "
                                        f"{request.output}, nothing is pushed or tagged")
    if isinstance(request.approval, GitHubRun):
        _guard_export(request, targets, exporter, request.approval)
    options = ExportOptions(output=request.output, context_only=request.context_only, tool=request.tool,
                            poll=request.poll, run=request.run, on_event=request.reporter.on_event,
                            sleep=request.sleep)
    return ExportRunOutcome(plan, apply_exports(plan, targets, connections, options, export=kind.apply))


def _check_digest(plan: ExportPlan, request: ExportRequest) -> None:
    """The plan a reviewer approved (its plan-digest output), checked before the guard and any
    write; with nothing to export too, so a plan that lost its versions is not taken as done."""
    expected = (request.expect_plan_digest or "").strip().lower()
    if expected and plan.digest != expected:
        raise PlanChanged(f"export to {', '.join(plan.targets) or 'no targets'}", expected, plan.digest,
                          why="a version was tagged for export, untagged or became exportable meanwhile")
    if expected:
        request.reporter.on_notice(f"The plan is the approved one (digest {plan.digest[:16]}).")


def _guard_export(request: ExportRequest, targets: Targets, exporter: Environment, run: GitHubRun) -> None:
    """In Actions, before the first tag or ledger write: the export's MLflow token reaches the
    models it tags (and, on the same server, every model of the manifest), so if a protected
    environment marks any of them, the export's GitHub environment must admit only the default
    branch, as any environment sharing reach must (guard_writes). Outside Actions the holder of
    the credentials decides, as for every verb."""
    from domino_mlops.clients.github import GitHubClient

    desired = _desired_with_targets(request, targets)
    with GitHubClient.from_env(on_secret=request.reporter.on_secret) as client:
        guard_writes(exporter, desired, client, run)


def _desired_with_targets(request: ExportRequest, targets: Targets) -> Desired:
    """The repository's environments and manifest, with the targets' models added to the manifest
    (they are what the export writes to). A repository without a manifest still has the targets'."""
    desired = (read_desired(request.manifest, request.environments) if Path(request.manifest).exists() else
               Desired(Manifest(request.manifest, ()), read_environments_file(request.environments)))
    named = tuple(ManifestEntry(target.project_id or "", model, VersionRef(number=1))
                  for target in targets.items for model in target.models)
    return replace(desired, manifest=replace(desired.manifest, entries=desired.manifest.entries + named))
