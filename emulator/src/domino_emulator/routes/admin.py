"""Emulator-only routes under ``/_emulator``: the request log, counters, faults, the world, and
what a Domino admin does in the UI (issue a Model API access token, make a Model API public).

They need no credential, are never recorded and never faulted, so an out-of-process test (a
GitHub Actions run under act, a shell script) can read what happened without changing it.
"""

from __future__ import annotations

from typing import Any

from domino_emulator import access, auth
from domino_emulator.context import Context
from domino_emulator.faults import FaultPlan
from domino_emulator.views.model_apis import access as access_view
from domino_emulator.web import EMULATOR_PREFIX, Request, Response, Router, bad_request
from domino_mlops.errors import ConfigError

PREFIX = EMULATOR_PREFIX


def register(router: Router) -> None:
    # write=False: these change the emulator, not the emulated Domino, so no state-file save.
    router.add("GET", PREFIX + "/requests", requests_log, auth=auth.NONE)
    router.add("POST", PREFIX + "/reset", reset, auth=auth.NONE, write=False)
    router.add("GET", PREFIX + "/faults", get_faults, auth=auth.NONE)
    router.add("PUT", PREFIX + "/faults", put_faults, auth=auth.NONE, write=False)
    router.add("GET", PREFIX + "/world", world_state, auth=auth.NONE)
    # These change the emulated Domino (saved to the state file), as an admin in its UI would.
    router.add("POST", PREFIX + "/modelApis/{modelApiId}/accessTokens", issue_token, auth=auth.NONE)
    router.add("PUT", PREFIX + "/modelApis/{modelApiId}/access", put_access, auth=auth.NONE)
    router.add("PUT", PREFIX + "/serviceAccounts/{serviceAccountIdpId}/projects/{projectId}", add_collaborator,
               auth=auth.NONE)


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


def issue_token(ctx: Context, req: Request, who: None) -> Any:
    """``{"name"}`` -> 201 ``{"id", "name", "token"}``: the one place a token's value is shown."""
    api = ctx.world.model_api(req.params["modelApiId"])
    body = req.json_object()
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise bad_request("body.name must be a non-empty string")
    issued = access.issue_token(api, name, ctx.now())
    return Response(201, {"id": issued["id"], "name": issued["name"], "token": issued["token"]})


def put_access(ctx: Context, req: Request, who: None) -> Any:
    """``{"isPublic": bool}`` -> the Model API's ``access`` as Domino reports it."""
    api = ctx.world.model_api(req.params["modelApiId"])
    public = req.json_object().get("isPublic")
    if not isinstance(public, bool):
        raise bad_request("body.isPublic must be true or false")
    access.set_public(api, public, ctx.now())
    return access_view(api)


def add_collaborator(ctx: Context, req: Request, who: None) -> Any:
    """Make a service account a collaborator of a project (Domino: the project's settings page)."""
    account = ctx.world.service_account(req.params["serviceAccountIdpId"])
    project = ctx.world.project(req.params["projectId"])
    if project.id not in account.projects:
        account.projects.append(project.id)
    return {"idpId": account.idp_id, "projects": list(account.projects)}
