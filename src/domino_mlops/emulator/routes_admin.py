"""Emulator-only routes under ``/_emulator``: the request log, counters, faults and the world.

They need no credential, are never recorded and never faulted, so an out-of-process test (a
GitHub Actions run under act, a shell script) can read what happened without changing it.
"""

from __future__ import annotations

from typing import Any

from domino_mlops.emulator.context import Context
from domino_mlops.emulator.faults import FaultPlan
from domino_mlops.emulator.web import Request, Router, bad_request
from domino_mlops.errors import ConfigError

PREFIX = "/_emulator"


def register(router: Router) -> None:
    # write=False: these change the emulator, not the emulated Domino, so no state-file save.
    router.add("GET", PREFIX + "/requests", requests_log, auth=False)
    router.add("POST", PREFIX + "/reset", reset, auth=False, write=False)
    router.add("GET", PREFIX + "/faults", get_faults, auth=False)
    router.add("PUT", PREFIX + "/faults", put_faults, auth=False, write=False)
    router.add("GET", PREFIX + "/world", world_state, auth=False)


def requests_log(ctx: Context, req: Request, who: None) -> Any:
    return {"requests": [x.to_dict() for x in ctx.log.records()], "counters": ctx.log.counters.to_dict()}


def reset(ctx: Context, req: Request, who: None) -> Any:
    """Clear the request log and counters (the world stays as it is)."""
    ctx.log.clear()
    return {"requests": [], "counters": ctx.log.counters.to_dict()}


def get_faults(ctx: Context, req: Request, who: None) -> Any:
    return ctx.faults.plan.to_dict()


def put_faults(ctx: Context, req: Request, who: None) -> Any:
    try:
        ctx.faults.set(FaultPlan.parse(req.json_object(required=False)))
    except ConfigError as exc:
        raise bad_request(str(exc)) from exc
    return ctx.faults.plan.to_dict()


def world_state(ctx: Context, req: Request, who: None) -> Any:
    return ctx.world.to_state()
