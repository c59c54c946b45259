"""Which models a forward change (promote, rollout) must leave alone: only rollback moves back.

Two ways an old desired state could come back and undo later work:

- a re-run of an older workflow run (GitHub re-runs use the run's original commit): promote
  1 -> 2, then re-run the earlier run, and production would go 2 -> 1 as a "promotion";
- a later run whose manifest still names a version that was rolled back: the rollback would be
  undone by the next unrelated merge.

So, per model, against the environment's last ledger entry: a run whose commit does not come
after that entry's commit is held back; so is one at the very commit a rollback was made from;
and a version a rollback moved away from is not promoted again unless asked for by name
(``--model X --version N``). Held-back models get no steps, and the plan says why. Pure: the
commit relation is looked up by the caller (observed/ancestry.py).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from domino_mlops.state.entries import LedgerEntry
from domino_mlops.observed.ancestry import BEHIND, DIVERGED
from domino_mlops.plan.actions import PlanAction

FORWARD_ACTIONS: tuple[PlanAction, ...] = ("promote", "rollout")


@dataclass(frozen=True, slots=True)
class Forward:
    held: dict[str, str]  # model -> why it is left alone
    warnings: tuple[str, ...] = ()  # relations nothing could tell


def hold_back(action: PlanAction, environment: str, last: Mapping[str, LedgerEntry], targets: Mapping[str, str],
              run_commit: str, relation: Callable[[str, str], str | None],
              explicit: Collection[str] = ()) -> Forward:
    """``targets``: model -> the version this run would move it to; ``explicit``: models whose
    version was named on the command line (a deliberate re-promotion)."""
    if action not in FORWARD_ACTIONS:
        return Forward({})
    held: dict[str, str] = {}
    warnings: list[str] = []
    for model, target in targets.items():
        entry = last.get(model)
        if entry is None or entry.to_version == target:
            continue  # nothing recorded, or the run converges on what the ledger says already
        why = _older_commit(entry, environment, run_commit, relation, warnings)
        if why is None and entry.action == "rollback" and entry.from_version == target and model not in explicit:
            why = (f"version {target} was rolled back in {environment} ({_made(entry)}); the manifest still names "
                   f"it. Put another version in the manifest, or promote it again on purpose with --model {model} "
                   f"--version {target} (workflow_dispatch: model and version)")
        if why is not None:
            held[model] = why
    return Forward(held, tuple(warnings))


def _older_commit(entry: LedgerEntry, environment: str, run_commit: str,
                  relation: Callable[[str, str], str | None], warnings: list[str]) -> str | None:
    if not run_commit or not entry.commit_sha:
        return None  # a local run, or an entry made by one: no commit to compare
    last_change = (f"{entry.commit_sha[:12]}, which last changed {entry.subject} in {environment} "
                   f"({entry.action} {entry.from_version or '(none)'} -> {entry.to_version}; {_made(entry)})")
    if run_commit == entry.commit_sha:
        if entry.action == "rollback":
            return (f"this run's commit is {last_change}: a re-run does not undo that rollback; "
                    "only a newer commit promotes again")
        return None
    found = relation(entry.commit_sha, run_commit)
    if found in (BEHIND, DIVERGED):
        return (f"this run's commit {run_commit[:12]} does not come after {last_change}: a re-run of an older run "
                "changes nothing; only rollback moves an environment back")
    if found is None:
        warnings.append(f"cannot tell whether commit {run_commit[:12]} comes after {entry.commit_sha[:12]}, the "
                        f"last change of {entry.subject} in {environment}; going ahead")
    return None


def _made(entry: LedgerEntry) -> str:
    return entry.run_url or (f"by {entry.actor}" if entry.actor else "run not recorded")
