"""The CLI's ears on the facade (api.Reporter): what a verb says while it runs, printed, commented
and annotated as the commands always have."""

from __future__ import annotations

import sys

from domino_mlops.api import Reporter
from domino_mlops.desired.environments import Environment
from domino_mlops.plan.export_plan import ExportPlan
from domino_mlops.plan.steps import Plan
from domino_mlops.report import github
from domino_mlops.report.exports import report_export_plan
from domino_mlops.report.rollback import report_rollback
from domino_mlops.report.runs import Progress, comment_plan, report_plan


class RunReporter(Reporter):
    """deploy, promote, rollout, rollback: the plan (a rollback's from -> to first), progress lines,
    warnings as annotations; ``pr_comment``: the plan on the pull request too."""

    def __init__(self, *, pr_comment: bool = False, rollback: bool = False) -> None:
        self.progress, self.pr_comment, self.rollback = Progress(), pr_comment, rollback

    def on_plan(self, plan: Plan, env: Environment) -> None:
        if self.rollback:
            report_rollback(plan, env)
        markdown = report_plan(plan, env)
        if self.pr_comment:
            comment_plan(markdown, env.name)

    def on_event(self, subject: str, message: str) -> None:
        self.progress.event(subject, message)

    def on_warning(self, subject: str, message: str) -> None:
        if subject:
            self.progress.warning(subject, message)
        else:
            github.annotate("warning", message, title="domino-mlops", stream=sys.stdout)

    def on_notice(self, message: str) -> None:
        print(message, flush=True)

    def on_secret(self, value: str) -> None:
        github.mask(value)


class ExportReporter(Reporter):
    """export: the plan as Markdown, or under ``json`` as part of one JSON document on stdout
    (the plan alone, or with the result after an apply), so progress goes to stderr then."""

    def __init__(self, *, json: bool = False, pr_comment: bool = False, plan_only: bool = False) -> None:
        self.json, self.pr_comment, self.plan_only, self.progress = json, pr_comment, plan_only, Progress()

    def on_export_plan(self, plan: ExportPlan) -> None:
        applying = bool(plan.to_export) and not self.plan_only
        markdown = report_export_plan(plan, show=("none" if applying else "json") if self.json else "markdown")
        if self.pr_comment:
            comment_plan(markdown, "export")

    def on_event(self, subject: str, message: str) -> None:
        if self.json:
            print(f"[{subject}] {message}", file=sys.stderr, flush=True)
        else:
            self.progress.event(subject, message)

    def on_warning(self, subject: str, message: str) -> None:
        github.annotate("warning", f"{subject}: {message}" if subject else message, title="domino-mlops export",
                        stream=sys.stderr)

    def on_notice(self, message: str) -> None:
        print(message, file=sys.stderr if self.json else sys.stdout, flush=True)  # stdout: one JSON document

    def on_secret(self, value: str) -> None:
        github.mask(value)
