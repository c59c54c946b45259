"""Model API access: the tokens an admin issues and the public switch, as Domino's UI sets them.

No published route returns an access token's value, so the emulator offers the admin's side in
three ways that all end here: the emulator-only routes (``routes/admin.py``), ``Emulator`` helpers,
and a seed file's ``model_api_access`` rules. The caller holds the world lock.
"""

from __future__ import annotations

import fnmatch
import secrets
from typing import Any

from domino_emulator import records as r
from domino_emulator.world import World, new_id

ISSUER = "admin"  # tokens are issued in Domino's UI by an admin; their metadata names one


def issue_token(api: r.ModelApi, name: str, now: float, *, token: str | None = None) -> dict[str, Any]:
    """A new access token of ``api`` (a random value unless ``token`` is given)."""
    issued = {"id": new_id(), "name": name, "token": token or f"LOCAL-TEST-MODEL-TOKEN-{secrets.token_urlsafe(24)}",
              "created": now, "created_by": ISSUER, "last_generated": now, "last_generated_by": ISSUER}
    api.access_tokens.append(issued)
    return issued


def set_public(api: r.ModelApi, public: bool, now: float) -> None:
    api.is_public = public
    api.last_modified = now


def apply_rules(world: World, api: r.ModelApi, now: float) -> None:
    """Apply the seed's rule for ``api``'s project and name (its own rule, else the first whose
    name is a pattern that matches, e.g. ``*``); tokens already there are kept once."""
    rule = world.access_rules.get(rule_id(api.project_id, api.name)) or next(
        (rule for rule in world.access_rules.values()
         if rule.project_id == api.project_id and fnmatch.fnmatchcase(api.name, rule.model_api)), None)
    if rule is None:
        return
    api.is_public = rule.public
    have = {t["token"] for t in api.access_tokens}
    for token in rule.tokens:
        if token["token"] not in have:
            issue_token(api, token["name"], now, token=token["token"])


def rule_id(project_id: str, model_api_name: str) -> str:
    return f"{project_id}/{model_api_name}"
