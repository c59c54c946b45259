"""Which tagged versions to export to which target: pure, from the targets and what MLflow lists.

A version is exported once per target: the ``domino_mlops.export.<target>`` tag, written only
after the image is pushed, makes every later plan skip it. A server-mode target needs the Model
API version that serves the model version (the ``DOMINO_MODEL_ID`` / ``DOMINO_MODEL_VERSION_ID``
tags a deploy writes); without it the version waits, with a note saying why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from domino_mlops.desired.targets import Target, model_slug
from domino_mlops.errors import NamesCollide
from domino_mlops.observed.export_snapshot import ExportRecord, TargetSnapshot

Action = Literal["export", "done", "waiting"]
MODEL_API_TAGS = ("DOMINO_MODEL_ID", "DOMINO_MODEL_VERSION_ID")


@dataclass(frozen=True, slots=True)
class ExportItem:
    """One (target, model version): export it now, already done, or waiting for something."""

    target: str
    mode: str
    model: str
    version: str
    image: str
    action: Action
    detail: str = ""
    run_id: str | None = None
    model_api_id: str | None = None
    model_api_version_id: str | None = None
    done: ExportRecord | None = None

    def describe(self) -> str:
        if self.action == "export":
            how = "build and push" if self.mode == "build" else "Domino exports"
            return f"{how} `{self.image}`"
        if self.action == "done":
            return f"exported: `{self.done.reference if self.done else self.image}`"
        return f"waiting: {self.detail}"


@dataclass(frozen=True, slots=True)
class ExportPlan:
    targets: tuple[str, ...]
    items: tuple[ExportItem, ...]
    # What an approval of the plan covers (kinds/exports.py fills it in; "" from plan_exports alone):
    # `domino-mlops export --expect-plan-digest` refuses a plan whose digest differs.
    digest: str = ""

    @property
    def to_export(self) -> tuple[ExportItem, ...]:
        return tuple(i for i in self.items if i.action == "export")

    @property
    def waiting(self) -> tuple[ExportItem, ...]:
        return tuple(i for i in self.items if i.action == "waiting")

    @property
    def done(self) -> tuple[ExportItem, ...]:
        return tuple(i for i in self.items if i.action == "done")


def plan_exports(targets: Sequence[Target], snapshots: Sequence[TargetSnapshot]) -> ExportPlan:
    """Every tagged version of every target, in (target, model, version) order."""
    by_name = {s.target: s for s in snapshots}
    items = []
    for target in targets:
        snapshot = by_name.get(target.name)
        for version in snapshot.versions if snapshot else ():
            if not version.requested(target.request_tag) or not target.wants(version.model):
                continue
            image = target.image_for(version.model, version.version)
            tags = version.tag_map
            base = dict(target=target.name, mode=target.mode, model=version.model, version=version.version,
                        image=image, run_id=version.run_id, model_api_id=tags.get(MODEL_API_TAGS[0]),
                        model_api_version_id=tags.get(MODEL_API_TAGS[1]))
            record = version.export_record(target.done_tag)
            if record is not None:
                items.append(ExportItem(**base, action="done", done=record))
            elif target.mode == "server" and not (base["model_api_id"] and base["model_api_version_id"]):
                items.append(ExportItem(**base, action="waiting", detail=(
                    "no Model API serves this version yet (no DOMINO_MODEL_ID / DOMINO_MODEL_VERSION_ID tags); "
                    "deploy it first, or export it in build mode")))
            else:
                items.append(ExportItem(**base, action="export"))
    items.sort(key=lambda i: (i.target, i.model, int(i.version) if i.version.isdigit() else 0))
    _refuse_collisions(items, {t.name: t for t in targets})
    return ExportPlan(tuple(t.name for t in targets), tuple(items))


def _refuse_collisions(items: Sequence[ExportItem], targets: dict[str, Target]) -> None:
    """Two registered models must not share an image repository ("Bad Name" and "bad-name" both
    push ``<registry>/bad-name:v1``) or a build folder (``<output>/<slug>/v<N>``, one for every
    target): the second push would replace the first model's image under its recorded name."""
    claimed: dict[tuple[str, str], str] = {}
    for item in items:
        target = targets[item.target]
        image = f"{target.registry_host}/{target.repository_for(item.model)}"
        keys = [("image repository", image)] + ([("build folder", model_slug(item.model))]
                                                  if item.mode == "build" else [])
        for kind, key in keys:
            first = claimed.setdefault((kind, key), item.model)
            if first != item.model:
                raise NamesCollide(f"registered models {first!r}", repr(item.model), f"{kind} {key!r}",
                                   hint="Rename one of them in MLflow, or remove the export tag from one; "
                                        "nothing was exported.")
