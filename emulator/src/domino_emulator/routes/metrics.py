"""The v4 model manager's metrics of a Model API version: the calls it answered by status
(``httpRequests``) and its pods' resource use (``usage``), from emulator/metrics.py."""

from __future__ import annotations

from typing import Any

from domino_emulator import metrics
from domino_emulator.auth import Principal
from domino_emulator.context import Context
from domino_emulator.routes.models import owned_api
from domino_emulator.web import Request, Router

V4 = "/v4/modelManager/{modelId}/{modelVersionId}"
DEFAULT_LIMIT, DEFAULT_RANGE_MINUTES = 256, 60  # the v4 document's stated defaults


def register(router: Router) -> None:
    router.add("GET", V4 + "/httpRequests", http_requests)
    router.add("GET", V4 + "/usage", usage)


def _number(req: Request, name: str, default: int) -> int:
    value = req.query.get(name)
    return default if value in (None, "") else max(1, int(value))  # the contract checked it is an integer


def http_requests(ctx: Context, req: Request, who: Principal) -> Any:
    api = owned_api(ctx, req.params["modelId"], who)
    version = ctx.world.version(api.id, req.params["modelVersionId"])
    return metrics.http_requests(version, ctx.now(), _number(req, "timeRangeMinutes", DEFAULT_RANGE_MINUTES),
                                 _number(req, "limit", DEFAULT_LIMIT))


def usage(ctx: Context, req: Request, who: Principal) -> Any:
    api = owned_api(ctx, req.params["modelId"], who)
    version = ctx.world.version(api.id, req.params["modelVersionId"])
    factor = ctx.faults.plan.memory_factor(metrics.source_key(version))
    return metrics.usage(version, api.replicas, factor, ctx.now(), _number(req, "limit", DEFAULT_LIMIT))
