"""Kinds of change: one module per kind (plan/kinds.py says what each answers and holds the
registry the engine asks). Importing this package registers the built-in kinds, in the order the
engine asks them: the models first (they observe and plan first, and the others' phases are
around them), then jobs, scheduled jobs and apps; exports last, asked only by their own verb
(api.export)."""

from domino_mlops.kinds.apps import APPS_KIND
from domino_mlops.kinds.exports import EXPORTS
from domino_mlops.kinds.jobs import JOBS
from domino_mlops.kinds.models import MODELS
from domino_mlops.kinds.protocol import Description, Kind, WorkloadKind
from domino_mlops.kinds.scheduled_jobs import SCHEDULED_JOBS
from domino_mlops.plan.kinds import in_run_order, kind_named, kind_of, kinds, register, unregister, workload_kinds

for _kind in (MODELS, JOBS, SCHEDULED_JOBS, APPS_KIND, EXPORTS):
    if not any(known is _kind for known in kinds()):
        register(_kind)

__all__ = ["Description", "Kind", "WorkloadKind", "in_run_order", "kind_named", "kind_of", "kinds", "register",
           "unregister", "workload_kinds"]
