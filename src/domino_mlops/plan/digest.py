"""The digest of a plan: what a reviewer approves, as one hash the apply job must match.

A promotion is planned twice: in the plan job (what the reviewer reads before approving) and in
the apply job after the approval. Between the two, an alias the manifest names (`@candidate`)
can move, or the manifest can change under a re-run; the apply job then re-plans and refuses
(exit 4) when the digest differs, so what is applied is what was approved.

The digest covers where each model goes: environment, alias, project, model, the version asked
for and the version it resolved to, the registered model a separated environment copies it into,
replicas, the data planes (wave, Model API, hardware tier),
and what new Model API versions record of their calls, and the environment's analysis of each wave
(its window, conditions and inconclusive policy: an approved plan cannot be applied with a weaker
one; an environment without an analysis keeps the digest it had before analyses existed). It leaves out what the approval does not decide
and what a partial first attempt legitimately changes: how a step reaches its goal (create,
start, already serving), Domino ids, where the alias points now, gate results (checked again at
apply), and how smoke tests authenticate (the plan job does not hold the tokens).

A rollback's plan also covers the version each model goes back from (ModelChange.rolls_back_from):
the digest of "back from 2 to 1" is not that of "back from 3 to 2", so a rollback approved before a
newer promotion is refused rather than applied to the environment that promotion left. It is the
ledger's "from", which a partial or finished attempt does not change.

Jobs and apps count by their definition in the environment (WorkloadChange.digest: command,
variables, tier, compute environment, git ref; an app's visibility and entry point), not by
whether they already ran. A plan without jobs and apps has the digest it had before they existed.
What each change contributes is its kind's to say (Kind.digest, kinds/).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, replace
from typing import Any

from domino_mlops.desired.environments import Environment
from domino_mlops.plan.kinds import kind_of
from domino_mlops.plan.steps import ModelChange, Plan, WorkloadChange


def plan_digest(plan: Plan, env: Environment, *, project: str | None = None) -> str:
    """sha256 (hex) of where the plan's models go; ``project``: only the models the manifest
    lists under that project (what `--project` selects).

    Every selected model counts, changed or not, so a re-run after a partial first attempt (some
    models done, some not) has the digest the reviewer approved."""
    changes = [c for c in plan.changes if project in (None, _listed_under(c))]
    document = {
        "environment": plan.environment, "alias": plan.alias, "stage_mode": plan.stage_mode,
        "settings": [env.model_api.log_http_request_response, env.model_api.monitoring_enabled,
                     env.model_api.record_invocation],
        "models": sorted((kind_of(c).digest(c, env) for c in changes), key=lambda m: (m["project"], m["model"])),
    }
    if env.analysis is not None:
        document["analysis"] = asdict(env.analysis)
    workloads = [kind_of(w).digest(w, env) for w in plan.workloads if project in (None, w.listed_under or w.project_id)]
    if workloads:
        document["workloads"] = workloads  # in run order: the order is part of what is approved
    return _hash(document)


def digests_by_project(plan: Plan, env: Environment) -> dict[str, str]:
    """One digest per Domino project: a promotion runs one job per project, each checks its own."""
    # Each project's digest is taken over its own models only, grouped in one pass: filtering the
    # whole plan per project is projects x models (500 x 10,000 for a large manifest).
    changes: dict[str, list[ModelChange]] = {}
    for change in plan.changes:
        changes.setdefault(_listed_under(change), []).append(change)
    workloads: dict[str, list[WorkloadChange]] = {}
    for work in plan.workloads:
        workloads.setdefault(work.listed_under or work.project_id, []).append(work)
    return {project: plan_digest(replace(plan, changes=tuple(changes.get(project, ())),
                                         workloads=tuple(workloads.get(project, ()))), env, project=project)
            for project in sorted(changes.keys() | workloads.keys())}


def projects_with_work(plan: Plan) -> list[str]:
    """The projects (keyed as digests_by_project keys them) with something to write: a model that
    changes, a job or app that changes. A held-back or finished model is no work: the apply job
    of a project without work would only ask a reviewer to approve nothing."""
    return sorted({_listed_under(c) for c in plan.changed}
                  | {w.listed_under or w.project_id for w in plan.changed_workloads})


def _listed_under(change: ModelChange) -> str:
    return change.registry_project


def _hash(document: dict[str, Any]) -> str:
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
