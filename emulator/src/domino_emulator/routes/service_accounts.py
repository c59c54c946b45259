"""Service accounts and their tokens (public tag ServiceAccounts, ``/api/serviceAccounts/v1``).

Domino 5.5+ turns the run's token file off by default and moves automation from user API keys to
service accounts: an admin creates the account, makes it a collaborator of the projects it works
on, and issues it named tokens, each shown once and sent as ``Authorization: Bearer``. Only an
admin credential may manage accounts here. Making an account a collaborator is an emulator-only
route (``/_emulator/serviceAccounts/{idpId}/projects``), as an admin does it in Domino's UI.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from domino_emulator import records as r
from domino_emulator.auth import Principal
from domino_emulator.context import Context
from domino_emulator.seed import user_id
from domino_emulator.views import metadata, paged_metadata
from domino_emulator.web import ApiError, Request, Router, bad_request, not_found
from domino_emulator.world import new_id

BASE = "/api/serviceAccounts/v1/serviceAccounts"
DEFAULT_LIMIT, MAX_LIMIT = 10, 100


def register(router: Router) -> None:
    router.add("GET", BASE, list_accounts)
    router.add("POST", BASE, create_account)
    router.add("POST", BASE + "/{serviceAccountIdpId}/tokens", create_token)
    router.add("POST", BASE + "/{serviceAccountIdpId}/tokens/{tokenName}/invalidate", invalidate_token)


def _admin(who: Principal) -> None:
    if not who.admin:
        raise ApiError(403, f"user {who.username!r} is not an admin: only admins manage service accounts")


def _account(a: r.ServiceAccount) -> dict[str, Any]:
    return {"id": a.id, "idpId": a.idp_id, "username": a.username, "email": a.email}


def list_accounts(ctx: Context, req: Request, who: Principal) -> Any:
    _admin(who)
    offset, limit = req.page(DEFAULT_LIMIT, MAX_LIMIT)
    include_inactive = str(req.query.get("includeDeactivated", "false")).lower() == "true"
    found = [a for a in ctx.world.service_accounts.values() if a.active or include_inactive]
    return {"serviceAccounts": [_account(a) for a in found[offset:offset + limit]],
            "metadata": paged_metadata(offset, limit, len(found))}


def create_account(ctx: Context, req: Request, who: Principal) -> Any:
    """``CreateServiceAccount`` -> ``ServiceAccountEnvelope``; a username in use is a 400."""
    _admin(who)
    body = req.json_object()
    username = body["username"].strip()
    if not username:
        raise bad_request("username must not be empty")
    taken = {a.username for a in ctx.world.service_accounts.values()} | {
        c.username for c in ctx.world.credentials.values() if not c.service_account}
    if username in taken:
        raise bad_request(f"username {username!r} is already taken")
    # Its Domino id is its user id (a service account is a user): the one /v4/users and users/self report.
    account = r.ServiceAccount(id=user_id(username), idp_id=new_id(), username=username, email=body["email"])
    ctx.world.service_accounts[account.idp_id] = account
    return {"serviceAccount": _account(account), "metadata": metadata()}


def create_token(ctx: Context, req: Request, who: Principal) -> Any:
    """``CreateToken`` -> ``ServiceAccountToken``: the one answer that shows the token's value."""
    _admin(who)
    account = ctx.world.service_account(req.params["serviceAccountIdpId"])
    name = req.json_object()["name"].strip()
    if not name:
        raise bad_request("name must not be empty")
    if any(c.service_account == account.idp_id and c.name == name for c in ctx.world.credentials.values()):
        raise bad_request(f"service account {account.username!r} already has a token named {name!r}")
    token = r.Credential(secret="sa-" + secrets.token_urlsafe(24), kind="token", username=account.username,
                         service_account=account.idp_id, name=name, created=ctx.now())
    ctx.world.credentials[token.secret] = token
    return {**_token_details(token), "token": token.secret}


def invalidate_token(ctx: Context, req: Request, who: Principal) -> Any:
    _admin(who)
    account = ctx.world.service_account(req.params["serviceAccountIdpId"])
    name = req.params["tokenName"]
    found = next((c for c in ctx.world.credentials.values()
                  if c.service_account == account.idp_id and c.name == name), None)
    if found is None:
        raise not_found("service account token", name)
    found.valid = False
    return None


def _token_details(token: r.Credential) -> dict[str, Any]:
    created = datetime.fromtimestamp(token.created, UTC).isoformat().replace("+00:00", "Z")
    return {"name": token.name, "serviceAccountIdpId": token.service_account, "isValid": token.valid,
            "createdAt": created}
