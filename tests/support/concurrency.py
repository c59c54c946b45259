"""A model of GitHub's concurrency groups, and the contexts a job's group is evaluated in.

act does not implement `concurrency:`, so this states GitHub's documented rule in code
("Control the concurrency of workflows and jobs", docs.github.com):

- at most one running and one pending job per concurrency group;
- a job queued while another of its group runs is pending; an existing pending job of the group
  is cancelled and the new one takes its place (cancel-in-progress: false);
- with cancel-in-progress: true, the running (and pending) job is cancelled and the new one runs;
- group names are case insensitive (`prod` and `Prod` are one group);
- when the running job ends, the pending one starts.

Order inside a group is not guaranteed by GitHub; the model serves the pending job, the only one
left. Groups of different jobs are independent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.support.expressions import interpolate

RUNNING, PENDING, CANCELLED, DONE = "running", "pending", "cancelled", "done"
REPOSITORY = "acme/models"


@dataclass
class Group:
    running: str | None = None
    pending: str | None = None


@dataclass
class ConcurrencyModel:
    """Jobs by label; `queue` and `finish` move them as GitHub would."""

    states: dict[str, str] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    group_of: dict[str, str] = field(default_factory=dict)

    def queue(self, label: str, group: str, *, cancel_in_progress: bool = False) -> str:
        if label in self.states:
            raise ValueError(f"{label} was queued already")
        key = group.casefold()
        self.group_of[label] = key
        slot = self.groups.setdefault(key, Group())
        if cancel_in_progress:
            for other in (slot.running, slot.pending):
                if other is not None:
                    self.states[other] = CANCELLED
            slot.running, slot.pending = label, None
            self.states[label] = RUNNING
        elif slot.running is None:
            slot.running = label
            self.states[label] = RUNNING
        else:
            if slot.pending is not None:
                self.states[slot.pending] = CANCELLED
            slot.pending = label
            self.states[label] = PENDING
        return self.states[label]

    def finish(self, label: str) -> None:
        if self.states.get(label) != RUNNING:
            raise ValueError(f"{label} is {self.states.get(label)}, not running")
        self.states[label] = DONE
        slot = self.groups[self.group_of[label]]
        slot.running, slot.pending = slot.pending, None
        if slot.running is not None:
            self.states[slot.running] = RUNNING

    def state(self, label: str) -> str:
        return self.states[label]


# --- the contexts a job-level concurrency group sees (github, inputs, matrix, needs) -----------------


def _dispatch_defaults(workflow: Mapping[str, Any]) -> dict[str, Any]:
    on = workflow.get("on", workflow.get(True)) or {}
    declared = ((on.get("workflow_dispatch") or {}).get("inputs") or {}) if isinstance(on, dict) else {}
    return {name: spec.get("default", "") if spec.get("type") != "boolean" else spec.get("default", False)
            for name, spec in declared.items()}


def push_contexts(*, ref: str = "refs/heads/main", sha: str = "1" * 40) -> dict[str, Any]:
    """A push: no workflow inputs (the `inputs` context is empty)."""
    return {"github": {"event_name": "push", "ref": ref, "sha": sha, "repository": REPOSITORY,
                       "event": {"ref": ref, "after": sha, "repository": {"full_name": REPOSITORY}}},
            "inputs": {}}


def pull_request_contexts(number: int) -> dict[str, Any]:
    """A pull request: GitHub runs it on refs/pull/<number>/merge."""
    ref = f"refs/pull/{number}/merge"
    return {"github": {"event_name": "pull_request", "ref": ref, "repository": REPOSITORY,
                       "event": {"number": number, "pull_request": {"number": number}}},
            "inputs": {}}


def dispatch_contexts(workflow: Mapping[str, Any], inputs: Mapping[str, Any], *,
                      ref: str = "refs/heads/main") -> dict[str, Any]:
    """workflow_dispatch: the inputs given, and the declared defaults for the rest, as GitHub fills them."""
    return {"github": {"event_name": "workflow_dispatch", "ref": ref, "repository": REPOSITORY,
                       "event": {"inputs": dict(inputs)}},
            "inputs": {**_dispatch_defaults(workflow), **inputs}}


def job_group(workflow: Mapping[str, Any], job_id: str, contexts: Mapping[str, Any], *,
              matrix: Mapping[str, Any] | None = None, needs: Mapping[str, Any] | None = None,
              template: str | None = None) -> tuple[str, bool]:
    """The evaluated concurrency group of one job and its cancel-in-progress; ``template``
    replaces the workflow's own group expression (to evaluate an older one the same way)."""
    concurrency = workflow["jobs"][job_id].get("concurrency")
    if not isinstance(concurrency, Mapping):
        raise ValueError(f"{job_id} has no concurrency mapping")
    cancel = concurrency.get("cancel-in-progress", False)
    if not isinstance(cancel, bool):
        raise ValueError(f"{job_id}: cancel-in-progress is an expression; give the model a boolean")
    values = {**contexts, "matrix": dict(matrix or {}), "needs": dict(needs or {})}
    return interpolate(template or concurrency["group"], values), cancel
