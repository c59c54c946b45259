"""What a Model API version served, for the v4 model manager's metric routes
(``GET /v4/modelManager/{modelId}/{modelVersionId}/httpRequests`` and ``.../usage``).

Counted from the calls the emulator really answered (routes/predict.py), per version, per minute
and per status, so an analysis (apply/analysis.py) judges what happened. Resource use is derived
from that load: a model at rest uses a little cpu and memory, each call in a minute adds some.
Domino publishes the shapes but not the units of ``cpu`` and ``memory``; here cpu is in cores and
memory a fraction of the pod's limit (docs/CONTRACT_DECISIONS.md: a guess, labelled so).

The fault plan can make a version answer a share of its calls with a 500 and inflate its memory
(``model_error_share``, ``model_memory_factor`` in faults.py), so a test breaches each condition
for real.
"""

from __future__ import annotations

import math
from typing import Any

from domino_emulator import records as r
from domino_emulator.views import iso

# Resource use of one replica: at rest, and what each call of a minute adds (a small model).
IDLE_CPU, CPU_PER_CALL = 0.02, 0.005
IDLE_MEMORY, MEMORY_PER_CALL = 0.20, 0.001


def source_key(version: r.ModelVersion) -> str:
    """"<registered model>/<version>": how the fault plan names a version."""
    return f"{version.source.get('registeredModelName')}/{version.source.get('registeredModelVersion')}"


def calls_so_far(version: r.ModelVersion) -> int:
    return sum(version.http_requests.values())


def should_fail(share: float, calls_before: int) -> bool:
    """Evenly spread failures: call n fails when it crosses the next multiple of 1/share (the
    first call answers unless the share is 1), so the same calls always fail the same way."""
    return share > 0 and (share >= 1 or math.floor((calls_before + 1) * share) > math.floor(calls_before * share))


def record(version: r.ModelVersion, when: float, status: int) -> None:
    """One answered call (the caller holds the world lock)."""
    key = f"{int(when // 60) * 60}/{status}"
    version.http_requests[key] = version.http_requests.get(key, 0) + 1


def _minutes(version: r.ModelVersion) -> dict[int, dict[int, int]]:
    minutes: dict[int, dict[int, int]] = {}
    for key, count in version.http_requests.items():
        minute, status = (int(part) for part in key.split("/"))
        minutes.setdefault(minute, {})[status] = count
    return minutes


def http_requests(version: r.ModelVersion, now: float, range_minutes: int, limit: int) -> dict[str, Any]:
    """``ModelHttpRequestUsage``: a snapshot per minute and status within the range, newest last."""
    since = now - range_minutes * 60
    rows = [(minute, status, count) for minute, statuses in _minutes(version).items() if minute + 60 > since
            for status, count in statuses.items()]
    rows.sort()
    return {"snapshots": [{"timestamp": iso(minute), "status": status, "requestCount": count}
                          for minute, status, count in rows[-limit:]]}


def usage(version: r.ModelVersion, replicas: int, memory_factor: float, now: float, limit: int) -> dict[str, Any]:
    """``ModelResourceUsage``: a snapshot per replica for each minute the version served (and the
    current minute), moving with the calls of that minute; load is shared across replicas."""
    if version.deploy_started is None:
        return {"snapshots": []}
    minutes = _minutes(version)
    first = int(version.deploy_started // 60) * 60
    current = int(now // 60) * 60
    wanted = sorted({*(m for m in minutes if m >= first), current} if current >= first else set(minutes))
    snapshots = []
    for minute in wanted:
        calls = sum(minutes.get(minute, {}).values()) / max(1, replicas)
        for pod in range(max(1, replicas)):
            snapshots.append({"timestamp": iso(minute), "pod": f"model-{version.id}-{pod}",
                              "cpu": round(IDLE_CPU + CPU_PER_CALL * calls, 4),
                              "memory": round(min(1.0, (IDLE_MEMORY + MEMORY_PER_CALL * calls) * memory_factor), 4)})
    return {"snapshots": snapshots[-limit:]}
