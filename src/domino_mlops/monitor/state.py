"""The agent's small local state: per model version, the last interval flushed to Domino and the
interval being flushed (its record ids), written atomically before and after each metric POST.

Delivery from the spool is at least once, so this is what makes each interval counted once: a
record whose interval was posted but which was not acknowledged yet (the agent died between the
two) is acknowledged on the next run without being counted again.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Posting:
    interval: float
    ids: list[str]
    posted: bool = False  # the metric POST succeeded (ids counted) but the ack may not have


@dataclass
class AgentState:
    path: Path
    flushed: dict[str, float] = field(default_factory=dict)  # "model@version" -> last interval start
    postings: dict[str, Posting] = field(default_factory=dict)  # "model@version" -> the one in flight

    @classmethod
    def load(cls, path: Path) -> AgentState:
        if not path.is_file():
            return cls(path)
        data = json.loads(path.read_text(encoding="utf-8"))
        postings = {key: Posting(p["interval"], list(p["ids"]), p["posted"]) for key, p in data["postings"].items()}
        return cls(path, dict(data["flushed"]), postings)

    def counted_ids(self) -> set[str]:
        return {i for p in self.postings.values() if p.posted for i in p.ids}

    def save(self) -> None:
        """Write beside, fsync, rename: a crash leaves the old state or the new, never half of one."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".partial")
        body = {"flushed": self.flushed,
                "postings": {k: {"interval": p.interval, "ids": p.ids, "posted": p.posted}
                             for k, p in self.postings.items()}}
        with open(partial, "w", encoding="utf-8") as handle:
            json.dump(body, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, self.path)
