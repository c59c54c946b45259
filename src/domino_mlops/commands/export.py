"""`domino-mlops export`: plan which tagged model versions go to which registry, then export them.

Read-only with --plan-only; --context-only (or no docker, podman or buildah on PATH) lays out the
build contexts and pushes nothing, so nothing is tagged either.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dataclasses import replace

from domino_mlops import api, export_api
from domino_mlops.apply.export_build import find_tool
from domino_mlops.apply.export_run import ExportOptions
from domino_mlops.apply.poll import PollSettings
from domino_mlops.commands.runtime import adopt_project_token, connect, run_info
from domino_mlops.desired.environments import Environment
from domino_mlops.desired.load import Desired, read_desired, read_environments_file
from domino_mlops.desired.manifest import Manifest, ManifestEntry, VersionRef
from domino_mlops.desired.paths import DEFAULT_TARGETS
from domino_mlops.desired.targets import load_targets
from domino_mlops.report import github
from domino_mlops.report.exports import report_export_plan, report_export_result
from domino_mlops.report.runs import Progress, comment_plan


def run(args: argparse.Namespace) -> int:
    adopt_project_token(args.project)
    if args.targets == DEFAULT_TARGETS and not Path(DEFAULT_TARGETS).exists():
        # The scheduled workflow in a repository that exports nothing yet: not an error.
        github.annotate("notice", f"No {DEFAULT_TARGETS}: no export targets, nothing to export.",
                        title="domino-mlops export", stream=sys.stderr)
        return 0
    targets = load_targets(args.targets)
    with connect() as connections:
        plan = export_api.plan(targets, connections, target=args.target)
        applying = bool(plan.to_export) and not args.plan_only
        # --json prints one document: the plan alone, or the plan with the result after the apply.
        markdown = report_export_plan(plan, show=("none" if applying else "json") if args.json else "markdown")
        if args.pr_comment:
            comment_plan(markdown, "export")
        if not applying:
            if not args.plan_only and not args.json:
                print("Nothing to export: every tagged version is in its registry.", flush=True)
            return 0
        tool = None if args.context_only else find_tool()
        builds = any(i.mode == "build" for i in plan.to_export)
        if builds and tool is None and not args.context_only:
            github.annotate("warning", "no docker, podman or buildah on PATH: the build contexts are laid out in "
                            f"{args.output}, nothing is pushed or tagged", title="domino-mlops export",
                            stream=sys.stderr)
        guard_export(args, targets)
        options = ExportOptions(output=Path(args.output), context_only=args.context_only, tool=tool,
                                poll=PollSettings(timeout=args.export_timeout), run=run_info(),
                                on_event=_to_stderr if args.json else Progress().event)
        result = export_api.apply(plan, targets, connections, options)
    report_export_result(result, plan, show_json=args.json)
    return result.exit_code


def guard_export(args: argparse.Namespace, targets) -> None:  # type: ignore[no-untyped-def]
    """In Actions, before the first tag or ledger write: the export's MLflow token reaches the
    models it tags (and, on the same server, every model of the manifest), so if a protected
    environment marks any of them, the export's GitHub environment must admit only the default
    branch, as any environment sharing reach must (api.guard_writes). Outside Actions the holder
    of the credentials decides, as for every command."""
    if not github.in_actions():
        return
    from domino_mlops.clients.github import GitHubClient

    desired = _desired_with_targets(args, targets)
    exporter = Environment("export", args.github_environment, alias="")
    with GitHubClient.from_env(on_secret=github.mask) as client:
        api.guard_writes(exporter, desired, client, api.GitHubRun.from_env())


def _desired_with_targets(args: argparse.Namespace, targets):  # type: ignore[no-untyped-def]
    """The repository's environments and manifest, with the targets' models added to the manifest
    (they are what the export writes to). A repository without a manifest still has the targets'."""
    manifest_path = Path(args.manifest)
    desired = (read_desired(args.manifest, args.environments) if manifest_path.exists() else
               Desired(Manifest(args.manifest, ()), read_environments_file(args.environments)))
    named = tuple(ManifestEntry(target.project_id or "", model, VersionRef(number=1))
                  for target in targets.items for model in target.models)
    return replace(desired, manifest=replace(desired.manifest, entries=desired.manifest.entries + named))


def _to_stderr(subject: str, message: str) -> None:
    """Progress under --json: stdout holds the one JSON document."""
    print(f"[{subject}] {message}", file=sys.stderr, flush=True)
