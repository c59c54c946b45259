"""Version, projects, hardware tiers, environments, commits, the caller: what every caller reads first."""

from __future__ import annotations

from typing import Any

from domino_emulator import auth
from domino_emulator.auth import Principal
from domino_emulator.context import Context
from domino_emulator.views import platform as views
from domino_emulator.web import ApiError, Request, Router, not_found

DEFAULT_LIMIT, MAX_LIMIT = 10, 100


def register(router: Router) -> None:
    router.add("GET", "/version", version, auth=auth.NONE)
    router.add("GET", "/v4/gateway/projects", list_projects)
    router.add("GET", "/v4/gateway/projects/findProjectByOwnerAndName", find_project)
    router.add("GET", "/v4/projects/{projectId}", get_project)
    router.add("GET", "/v4/projects/{projectId}/hardwareTiers", project_tiers)
    router.add("GET", "/v4/projects/{projectId}/useableEnvironments", useable_environments)
    router.add("GET", "/api/hardwaretiers/v1/hardwaretiers", all_tiers)
    router.add("GET", "/api/users/v1/self", current_user)
    router.add("GET", "/api/environments/v1/environments/{environmentId}", get_environment)
    router.add("GET", "/v1/environments", environments)
    router.add("GET", "/v1/projects/{ownerName}/{projectName}/commits", commits)
    router.add("GET", "/v4/users", users)
    router.add("GET", "/v4/environments/defaultEnvironment", default_environment)


def version(ctx: Context, req: Request, who: None) -> Any:
    # Public on Domino: the official client calls it before anything else.
    return {"version": ctx.world.domino_version, "buildId": "domino-mlops-emulator", "commitId": "emulator"}


def list_projects(ctx: Context, req: Request, who: Principal) -> Any:
    relationship = req.query["relationship"]  # required and an enum: the contract check saw to it
    visible = [p for p in ctx.world.projects.values() if who.can(p.id)]
    if relationship == "Owned":
        found = [p for p in visible if p.owner == who.username]
    elif relationship == "Collaborating":
        found = [p for p in visible if p.owner != who.username]
    elif relationship == "OwnedAndCollaborating":
        found = visible
    else:  # Popular, Suggested: the emulator keeps no usage to rank projects by
        found = []
    limit = int(req.query.get("limit") or len(found) or 1)
    return [views.project_gateway_summary(p, relationship) for p in found[:limit]]


def find_project(ctx: Context, req: Request, who: Principal) -> Any:
    owner, name = req.query["ownerName"], req.query["projectName"]
    found = ctx.world.find_project(owner, name)
    if found is None:
        # The v4 document declares 200, 403 and 500 here, no 404: an unknown project is a 403,
        # indistinguishable from one the caller may not see.
        raise ApiError(403, f"project {owner}/{name} does not exist or user {who.username!r} has no access")
    who.require(found.id)
    role = "Owner" if found.owner == who.username else "Admin" if who.admin else "Contributor"
    return views.project_overview(found, ctx.world, role)


def get_project(ctx: Context, req: Request, who: Principal) -> Any:
    found = ctx.world.project(req.params["projectId"])
    who.require(found.id)
    return views.project_summary(found)


def project_tiers(ctx: Context, req: Request, who: Principal) -> Any:
    found = ctx.world.project(req.params["projectId"])
    who.require(found.id)
    return [views.tier_v4(t, ctx.world) for t in ctx.world.tiers_for(found.id)]


def all_tiers(ctx: Context, req: Request, who: Principal) -> Any:
    offset, limit = req.page(DEFAULT_LIMIT, MAX_LIMIT)
    return views.tiers_page(list(ctx.world.hardware_tiers.values()), offset, limit)


def current_user(ctx: Context, req: Request, who: Principal) -> Any:
    """``UserEnvelopeV1`` of the caller (a scheduled job names who scheduled it by this id)."""
    return views.current_user(who.username)


def get_environment(ctx: Context, req: Request, who: Principal) -> Any:
    found = ctx.world.environments.get(req.params["environmentId"])
    if found is None:
        raise not_found("environment", req.params["environmentId"])
    return views.environment_public(found)


def environments(ctx: Context, req: Request, who: Principal) -> Any:
    return {"data": [views.environment_v1_list_item(e) for e in ctx.world.environments.values()]}


def useable_environments(ctx: Context, req: Request, who: Principal) -> Any:
    found = ctx.world.project(req.params["projectId"])
    who.require(found.id)
    envs = list(ctx.world.environments.values())
    body: dict[str, Any] = {"environments": [views.environment_project(e) for e in envs]}
    if envs:
        body["currentlySelectedEnvironment"] = views.environment_selected(envs[0])
    return body


def commits(ctx: Context, req: Request, who: Principal) -> Any:
    found = ctx.world.find_project(req.params["ownerName"], req.params["projectName"])
    if found is None:
        raise ApiError(404, f"project {req.params['ownerName']}/{req.params['projectName']} not found")
    who.require(found.id)
    return list(found.commits)


def users(ctx: Context, req: Request, who: Principal) -> Any:
    """``listUsers``: the users the emulator knows (its credentials' names), filtered by the
    exact ``userName`` or a name prefix ``query`` (python-domino's ``get_user_id`` reads them all)."""
    names = sorted({c.username for c in ctx.world.credentials.values()})
    if req.query.get("userName"):
        names = [n for n in names if n == req.query["userName"]]
    if req.query.get("query"):
        names = [n for n in names if n.startswith(req.query["query"])]
    return [views.person(n) for n in names]


def default_environment(ctx: Context, req: Request, who: Principal) -> Any:
    """``getDefaultEnvironment``: the first global environment (python-domino's ``get_default_environment``)."""
    found = next((e for e in ctx.world.environments.values() if e.visibility.lower() == "global"),
                 next(iter(ctx.world.environments.values()), None))
    if found is None:
        raise ApiError(404, "no default environment")
    return views.environment_details(found)
