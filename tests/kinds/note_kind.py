"""A kind of change defined in one module, as a user of the library would: a "note" (a text file
per name in a folder the test owns) written after the models. Registered by tests/kinds/test_new_kind.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from domino_mlops.kinds.protocol import WorkloadKind, short_digest
from domino_mlops.plan.steps import AFTER_MODELS, RecordLedger, WorkloadChange


@dataclass(frozen=True, slots=True)
class NoteSpec:
    project_id: str
    name: str
    text: str
    line: int | None = None


@dataclass(frozen=True, slots=True)
class WriteNote:
    path: str
    text: str
    kind: str = field(default="write_note", init=False)

    def describe(self) -> str:
        return f"write note {Path(self.path).name!r} ({len(self.text)} characters)"


def write_note(step: WriteNote, run) -> None:
    Path(step.path).write_text(step.text)
    run.writes += 1
    run.message = f"wrote {Path(step.path).name}"


class Notes(WorkloadKind):
    name = "note"
    ledger_kind = "note"

    def handlers(self):
        return {WriteNote: write_note}

    def __init__(self, folder: Path, notes: Sequence[NoteSpec]) -> None:
        self.folder, self.notes = folder, tuple(notes)

    def candidates(self, desired, env) -> tuple[NoteSpec, ...]:
        return self.notes

    def observe(self, specs, env, connections, *, commit: str) -> dict[str, str | None]:
        paths = {spec.name: self.folder / f"{spec.name}-{env.name}.txt" for spec in specs}
        return {name: path.read_text() if path.exists() else None for name, path in paths.items()}

    def plan(self, specs, observed, env, *, commit: str, action: str, ledger) -> tuple[WorkloadChange, ...]:
        recorded = self.recorded(ledger)
        changes = []
        for spec in specs:
            digest = short_digest({"environment": env.name, "name": spec.name, "text": spec.text})
            record = RecordLedger(env.name, spec.name, None, digest, action, subject=self.ledger_kind)
            now = observed.get(spec.name)
            if now == spec.text:
                steps = () if (self.ledger_kind, spec.name, digest) in recorded else (record,)
            else:
                steps = (WriteNote(str(self.folder / f"{spec.name}-{env.name}.txt"), spec.text), record)
            changes.append(WorkloadChange(self.ledger_kind, spec.name, spec.project_id, AFTER_MODELS, steps,
                                          observed="absent" if now is None else f"{len(now)} characters",
                                          line=spec.line, digest=digest, kind=self.name))
        return tuple(changes)
