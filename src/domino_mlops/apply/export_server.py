"""Server-side export: Domino pushes the image of the Model API version that serves the model
version (``exportImageToRegistry``), we poll its status to ``complete`` or ``failed`` and fetch its log.

The export is a POST that cannot be looked up afterwards (Domino lists no exports), so it is sent
once; after an ambiguous failure the next run sends it again, which pushes the same image to the
same tag. Domino reports no digest: the record says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from domino_mlops.apply.poll import PollSettings, PollTimeout, poll_until
from domino_mlops.clients.domino.client import DominoClient
from domino_mlops.clients.domino.serving_types import ExportStatus
from domino_mlops.desired.targets import Target
from domino_mlops.errors import DominoMlopsError, ExportFailed
from domino_mlops.observed.registry_credentials import Login
from domino_mlops.plan.export_plan import ExportItem


@dataclass(frozen=True, slots=True)
class ServerExport:
    export_id: str
    status: str
    log_text: str


def export_on_domino(item: ExportItem, target: Target, domino: DominoClient, login: Login | None, *,
                     poll: PollSettings, on_event: Callable[[str], None] = lambda message: None,
                     sleep: Callable[[float], None] = time.sleep) -> ServerExport:
    """Start the export, wait for it, return it with its log; ExportFailed (with the log) otherwise."""
    if not (item.model_api_id and item.model_api_version_id):
        raise ExportFailed(f"{item.model} version {item.version} is served by no Model API",
                           hint="Deploy it first, or export it in build mode.")
    started = domino.deployments.export_image(
        item.model_api_id, item.model_api_version_id, registry_url=target.registry_host,
        username=login.username if login else None, password=login.password if login else None,
        repository=target.repository_for(item.model), tag=target.image_tag_for(item.version))
    if not started.export_id:
        raise ExportFailed("Domino accepted the export but named no export id to follow",
                           hint="Check the export in Domino (Model APIs > Versions > Export).")
    export_id = started.export_id
    on_event(f"Domino export {export_id} started: {started.status or 'pending'}")
    try:
        final: ExportStatus = poll_until(
            lambda: domino.deployments.export_status(export_id), lambda s: s.is_complete or s.is_failed,
            settings=poll, key=lambda s: s.status, sleep=sleep,
            on_change=lambda s: on_event(f"Domino export {export_id}: {s.status}"))
    except PollTimeout as exc:
        raise ExportFailed(f"Domino's export {export_id} of {item.image} is still {exc.last} after {exc.waited:.0f} s",
                           hint="Raise --export-timeout, or check the export in Domino; the next run starts it again.",
                           log_text=_logs(domino, export_id)) from exc
    text = _logs(domino, export_id)
    if final.is_failed:
        reason = final.error_message or "no reason given"
        raise ExportFailed(f"Domino's export {export_id} of {item.image} failed: {reason}", log_text=text,
                           hint="Read the export log below; the next scheduled run tries again.")
    return ServerExport(export_id, final.status or "complete", text)


def _logs(domino: DominoClient, export_id: str) -> str:
    """The export's log; a failure to read it must not hide the export's own outcome."""
    try:
        return domino.deployments.export_logs(export_id).text
    except DominoMlopsError as exc:
        return f"(the export log could not be read: {exc})"
