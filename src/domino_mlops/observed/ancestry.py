"""Does one commit come after another? Asked of the local git history first, then of GitHub.

A re-run of an old workflow run uses its original commit. Promoting from it after a newer
promotion (or a rollback) would move production backwards and call it a promotion; so a forward
change first asks how the run's commit relates to the commit the environment's last ledger entry
records (plan/forward.py decides what that means).

The local clone answers when it has both commits (a full clone, act); a shallow Actions checkout
does not, and GitHub's compare API does (`contents: read`).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

# GitHub's words for how head relates to base (https://docs.github.com/rest/commits/commits#compare-two-commits).
AHEAD, BEHIND, IDENTICAL, DIVERGED = "ahead", "behind", "identical", "diverged"


@dataclass
class Ancestry:
    """``relation(base, head)``: AHEAD when head descends from base, BEHIND when it is an
    ancestor, IDENTICAL, DIVERGED, or None when nothing here can tell."""

    git_dir: Path | None = None  # a work tree with history (None: the current directory)
    github: Callable[[str, str], str] | None = None  # GitHubClient.compare, when a token is at hand
    _cache: dict[tuple[str, str], str | None] = field(default_factory=dict)

    def relation(self, base: str, head: str) -> str | None:
        if base == head:
            return IDENTICAL
        if (base, head) not in self._cache:
            self._cache[(base, head)] = self._local(base, head) or (self.github(base, head) if self.github else None)
        return self._cache[(base, head)]

    def _local(self, base: str, head: str) -> str | None:
        if not (self._git("cat-file", "-e", f"{base}^{{commit}}") and self._git("cat-file", "-e", f"{head}^{{commit}}")):
            return None  # a shallow checkout, or not a git work tree at all
        if self._git("merge-base", "--is-ancestor", base, head):
            return AHEAD
        if self._git("merge-base", "--is-ancestor", head, base):
            return BEHIND
        return DIVERGED

    def _git(self, *argv: str) -> bool:
        try:
            done = subprocess.run(["git", *argv], cwd=self.git_dir, capture_output=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return False
        return done.returncode == 0
