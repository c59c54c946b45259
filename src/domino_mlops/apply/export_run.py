"""Carry out an export plan, one version at a time: check again, build context, build and push (or
Domino's export), ledger entry, then the ``domino_mlops.export.<target>`` tag, written last.

The tag is the commit point: a run that fails or dies before it leaves the version untagged, so
the next run exports it again (the same image to the same tag: harmless), and a version is never
marked exported without its image. The ledger entry is written just before the tag; a re-run
after a crash between the two finds that entry and does not add a second (state/ledger.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from domino_mlops.apply.options import RunInfo
from domino_mlops.apply.export_build import ContainerTool
from domino_mlops.apply.export_context import lay_out
from domino_mlops.apply.export_server import export_on_domino
from domino_mlops.state.ledger import Ledger, LedgerEntry
from domino_mlops.apply.poll import PollSettings
from domino_mlops.connections import Connections
from domino_mlops.desired.targets import Target, Targets
from domino_mlops.errors import DominoMlopsError
from domino_mlops.observed.export_snapshot import ExportRecord, TaggedVersion
from domino_mlops.observed.registry_credentials import BUNDLE, registry_login
from domino_mlops.plan.export_plan import ExportItem, ExportPlan

log = logging.getLogger(__name__)
Status = Literal["exported", "failed", "context-only", "skipped"]
# What the container tool never needs to see: the run's other credentials (it gets its login on stdin).
HIDDEN_FROM_TOOL = frozenset({BUNDLE, "MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD",
                              "DOMINO_USER_API_KEY", "DOMINO_TOKEN_FILE", "DMLOPS_PROJECT_TOKEN", "GITHUB_TOKEN"})


@dataclass(frozen=True, slots=True)
class ExportOptions:
    output: Path = Path("export-build")
    context_only: bool = False
    tool: str | None = None  # the container tool's path; None: lay out the contexts only
    poll: PollSettings = PollSettings(timeout=1800.0)
    run: RunInfo = RunInfo()
    on_event: Callable[[str, str], None] = field(default=lambda subject, message: None, compare=False)
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)


@dataclass(frozen=True, slots=True)
class ExportOutcome:
    item: ExportItem
    status: Status
    digest: str | None = None
    context: str | None = None
    export_id: str | None = None
    log_text: str = ""
    error: str | None = None
    hint: str = ""
    exit_code: int = 0
    ledger_run_id: str = ""

    @property
    def reference(self) -> str:
        return f"{self.item.image}@{self.digest}" if self.digest else self.item.image


@dataclass(frozen=True, slots=True)
class ExportResult:
    outcomes: tuple[ExportOutcome, ...]

    @property
    def exit_code(self) -> int:
        return next((o.exit_code for o in self.outcomes if o.status == "failed"), 0)

    @property
    def exported(self) -> tuple[ExportOutcome, ...]:
        return tuple(o for o in self.outcomes if o.status == "exported")


@dataclass(slots=True)
class ExportRun:
    """What the versions of one export run share: the targets by name, the connections, the
    options, the container tool (one auth file for the run) and which user it is logged in as on
    each registry host. Not frozen: the logins accumulate as the run goes."""

    targets: Mapping[str, Target]
    connections: Connections
    options: ExportOptions
    environ: Mapping[str, str]
    tool: ContainerTool | None = None
    logged_in: dict[str, str] = field(default_factory=dict)  # registry host -> the user the auth file holds


ExportOne = Callable[[ExportItem, ExportRun], ExportOutcome]


def apply_exports(plan: ExportPlan, targets: Targets, connections: Connections,
                  options: ExportOptions = ExportOptions(), *, environ: Mapping[str, str] | None = None,
                  export: ExportOne | None = None) -> ExportResult:
    """Export every version the plan says to; a failure is recorded and the next one goes on.
    ``export``: the per-version work (the export kind's apply, kinds/exports.py; export_one)."""
    env = connections.environ if environ is None else environ
    hidden = {n for t in targets.items for n in (t.credentials.username, t.credentials.password) if n}
    hidden |= {name for name in env if name in HIDDEN_FROM_TOOL or name.startswith("PROJECT_ID_")}
    tool = ContainerTool(options.tool, hide=hidden, environ=env) if options.tool and not options.context_only \
        else None
    run = ExportRun({t.name: t for t in targets.items}, connections, options, env, tool)
    try:
        return ExportResult(tuple(_attempt(item, run, export or export_one) for item in plan.to_export))
    finally:
        if tool is not None:
            tool.close()


def _attempt(item: ExportItem, run: ExportRun, export: ExportOne) -> ExportOutcome:
    subject = f"{item.target}: {item.model} v{item.version}"
    try:
        done = export(item, run)
    except DominoMlopsError as exc:
        log.info("export of %s failed: %s", subject, exc)
        run.options.on_event(subject, f"failed: {exc.message}")
        return ExportOutcome(item, "failed", error=exc.message, hint=exc.hint,
                             log_text=getattr(exc, "log_text", ""), exit_code=exc.exit_code)
    run.options.on_event(subject, f"{done.status}: {done.error if done.status == 'skipped' else done.reference}")
    return done


def export_one(item: ExportItem, run: ExportRun) -> ExportOutcome:
    """Check again, build context, build and push (or Domino's export), ledger entry, then the tag;
    raise our error on failure (nothing tagged)."""
    target, connections, options, tool, logged_in, env = (run.targets[item.target], run.connections, run.options,
                                                          run.tool, run.logged_in, run.environ)
    registry = connections.registry(target.project_id or "")
    subject = f"{item.target}: {item.model} v{item.version}"
    now = registry.get_version(item.model, item.version).tag_map  # re-checked: the plan may be minutes old
    if target.done_tag in now or not TaggedVersion(item.model, item.version, None, tuple(now.items())).requested(
            target.request_tag):
        why = "exported meanwhile by another run" if target.done_tag in now else f"its {target.request_tag} tag was removed"
        return ExportOutcome(item, "skipped", error=why)
    if target.mode == "server":
        login = registry_login(target, env, on_secret=connections.on_secret)
        done = export_on_domino(item, target, connections.domino(target.project_id or ""), login, poll=options.poll,
                                on_event=lambda message: options.on_event(subject, message), sleep=options.sleep)
        outcome = ExportOutcome(item, "exported", export_id=done.export_id, log_text=done.log_text)
    else:
        context = lay_out(options.output, item, target, registry.download_model)
        options.on_event(subject, f"build context laid out in {context.path}")
        if tool is None:
            return ExportOutcome(item, "context-only", context=str(context.path))
        login = registry_login(target, env, on_secret=connections.on_secret)
        if login is not None and logged_in.get(login.registry_host) != login.username:
            tool.login(login)  # one auth entry per host: another target's user on it needs a new login
            logged_in[login.registry_host] = login.username
        tool.build(context.path, item.image)
        digest = tool.push(item.image)
        outcome = ExportOutcome(item, "exported", digest=digest, context=str(context.path))
    record = ExportRecord(item.image, outcome.digest, target.mode,
                          datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    stored, _ = Ledger(registry).record(LedgerEntry(
        environment=f"export:{target.name}", subject=item.model, from_version=None, to_version=item.version,
        action="export", project_id=target.project_id or "", model_api_ids=item.model_api_id or "",
        model_api_version_ids=item.model_api_version_id or "", commit_sha=options.run.commit_sha,
        run_url=options.run.run_url, actor=options.run.actor, image=record.reference))
    registry.set_tags(item.model, item.version, {target.done_tag: record.to_tag()})  # last: the commit point
    return ExportOutcome(item, "exported", digest=outcome.digest, context=outcome.context,
                         export_id=outcome.export_id, log_text=outcome.log_text, ledger_run_id=stored.run_id)


