"""What the export plan reasons about: tagged model versions and earlier exports, as frozen values.

No I/O here (plan/ imports it): observed/exports.py fills these from MLflow.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

# A tag value that says "do not export" (a tag set to false rather than removed).
OFF_VALUES = frozenset({"false", "no", "0", "off"})


@dataclass(frozen=True, slots=True)
class ExportRecord:
    """What the ``domino_mlops.export.<target>`` tag says was pushed."""

    image: str
    digest: str | None = None
    mode: str = ""
    exported_at: str = ""

    @property
    def reference(self) -> str:
        return f"{self.image}@{self.digest}" if self.digest else self.image

    def to_tag(self) -> str:
        return json.dumps({"image": self.image, "digest": self.digest, "mode": self.mode,
                           "exported_at": self.exported_at}, separators=(",", ":"))

    @classmethod
    def from_tag(cls, value: str) -> ExportRecord:
        """The tag's JSON; any other value still counts as exported (someone marked it by hand)."""
        try:
            data = json.loads(value)
        except ValueError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("image"), str):
            return cls(image=value.strip() or "(marked exported by hand)")
        digest = data.get("digest")
        return cls(image=data["image"], digest=digest if isinstance(digest, str) and digest else None,
                   mode=str(data.get("mode") or ""), exported_at=str(data.get("exported_at") or ""))


@dataclass(frozen=True, slots=True)
class TaggedVersion:
    """A registered model version carrying a target's request tag."""

    model: str
    version: str
    run_id: str | None
    tags: tuple[tuple[str, str], ...]  # sorted (key, value)

    @property
    def tag_map(self) -> dict[str, str]:
        return dict(self.tags)

    def requested(self, tag: str) -> bool:
        value = self.tag_map.get(tag)
        return value is not None and value.strip().lower() not in OFF_VALUES

    def export_record(self, done_tag: str) -> ExportRecord | None:
        value = self.tag_map.get(done_tag)
        return None if value is None else ExportRecord.from_tag(value)


@dataclass(frozen=True, slots=True)
class TargetSnapshot:
    """One target's tagged versions, as MLflow listed them."""

    target: str
    versions: tuple[TaggedVersion, ...]
