"""Version, projects, hardware tiers, environments, commits: what every caller reads first."""

from __future__ import annotations

from typing import Any

from domino_mlops.emulator import views
from domino_mlops.emulator.auth import Principal
from domino_mlops.emulator.context import Context
from domino_mlops.emulator.web import ApiError, Request, Router, bad_request


def register(router: Router) -> None:
    router.add("GET", "/version", version, auth=False)
    router.add("GET", "/v4/gateway/projects/findProjectByOwnerAndName", find_project)
    router.add("GET", "/v4/projects/{projectId}", get_project)
    router.add("GET", "/v4/projects/{projectId}/hardwareTiers", project_tiers)
    router.add("GET", "/api/hardwaretiers/v1/hardwaretiers", all_tiers)
    router.add("GET", "/v1/environments", environments)
    router.add("GET", "/v4/projects/{projectId}/useableEnvironments", useable_environments)
    router.add("GET", "/v1/projects/{owner}/{project}/commits", commits)


def version(ctx: Context, req: Request, who: Principal | None) -> Any:
    # Public on Domino: the official client calls it before anything else.
    return {"version": ctx.world.domino_version, "buildId": "domino-mlops-emulator", "commitId": "emulator"}


def find_project(ctx: Context, req: Request, who: Principal) -> Any:
    owner, name = req.query.get("ownerName", ""), req.query.get("projectName", "")
    if not owner or not name:
        raise bad_request("ownerName and projectName are required query parameters")
    found = ctx.world.find_project(owner, name)
    if found is None:
        raise ApiError(404, f"project {owner}/{name} not found")
    who.require(found.id)
    return views.project(found)


def get_project(ctx: Context, req: Request, who: Principal) -> Any:
    found = ctx.world.project(req.params["projectId"])
    who.require(found.id)
    return views.project(found)


def project_tiers(ctx: Context, req: Request, who: Principal) -> Any:
    found = ctx.world.project(req.params["projectId"])
    who.require(found.id)
    return [views.tier_v4(t, ctx.world) for t in ctx.world.tiers_for(found.id)]


def all_tiers(ctx: Context, req: Request, who: Principal) -> Any:
    return {"hardwareTiers": [views.tier_public(t, ctx.world) for t in ctx.world.hardware_tiers.values()]}


def environments(ctx: Context, req: Request, who: Principal) -> Any:
    return {"data": [views.environment(e) for e in ctx.world.environments.values()]}


def useable_environments(ctx: Context, req: Request, who: Principal) -> Any:
    found = ctx.world.project(req.params["projectId"])
    who.require(found.id)
    envs = [views.environment(e) for e in ctx.world.environments.values()]
    return {"environments": envs, "currentlySelectedEnvironment": envs[0] if envs else None}


def commits(ctx: Context, req: Request, who: Principal) -> Any:
    found = ctx.world.find_project(req.params["owner"], req.params["project"])
    if found is None:
        raise ApiError(404, f"project {req.params['owner']}/{req.params['project']} not found")
    who.require(found.id)
    return list(found.commits)
