"""Who is calling, and may they? Domino 6.x rules, as the contract states them.

- no credential, or one Domino does not know: 401;
- an API key sent as ``Authorization: Bearer``: 403 (on 6.x the two styles are not interchangeable);
- a known credential on another project's object: 403;
- a credential of a read-only project role (a *Results Consumer* collaborator, what plan jobs
  hold) on a route that changes state: 403;
- a service account's token (``Authorization: Bearer``, public tag ServiceAccounts) acts as the
  account, in the projects it collaborates on; an invalidated token or a deactivated account: 401;
- a Model API is called with one of its access tokens (HTTP Basic, the token as user and
  password; async predictions take it as a Bearer token), or with no credential at all when the
  Model API is public. No published route hands out a token's value: an admin issues them.

The server calls ``authorize`` for every route before the request is checked and handled.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass

from domino_emulator import records as r
from domino_emulator.seed import user_id
from domino_emulator.web import ApiError, Route
from domino_emulator.world import World

DOMINO, NONE = "domino", "none"  # Route.auth: a Domino credential, or nothing at all


@dataclass(frozen=True, slots=True)
class ModelAccess:
    """Route.auth of a route that calls a Model API: which path parameter names it, and how
    its access token arrives ("basic": user and password; "bearer": a Bearer token)."""

    param: str
    scheme: str


@dataclass(frozen=True, slots=True)
class Principal:
    username: str
    kind: str  # "api_key" or "token"
    projects: frozenset[str]
    admin: bool
    read_only: bool = False

    @property
    def user_id(self) -> str:
        return user_id(self.username)

    def can(self, project_id: str) -> bool:
        return self.admin or project_id in self.projects

    def require(self, project_id: str) -> None:
        if not self.can(project_id):
            raise ApiError(403, f"user {self.username!r} has no access to project {project_id!r}")


def authorize(world: World, route: Route, headers: Mapping[str, str], params: Mapping[str, str]) -> Principal | None:
    """The caller of ``route``: a Principal for Domino routes, None where none is needed; or the
    401/403 (404 for an unknown Model API) Domino would give. The caller holds the world lock."""
    if route.auth == DOMINO:
        who = authenticate(world, headers)
        if who.read_only and route.write:
            raise ApiError(403, f"user {who.username!r} has a read-only role in its projects "
                                "(Results Consumer) and may not change anything")
        return who
    if isinstance(route.auth, ModelAccess):
        api = world.model_api(params[route.auth.param])
        check_model_access(api, headers, route.auth.scheme)
    return None


def authenticate(world: World, headers: Mapping[str, str]) -> Principal:
    """The caller behind the request headers (keys lower-cased), or the 401/403 Domino would give."""
    authorization = headers.get("authorization", "")
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise ApiError(401, "unsupported Authorization scheme; use Bearer <token> or X-Domino-Api-Key")
        found = world.credentials.get(value.strip())
        if found is None or not found.valid:
            raise ApiError(401, "the Bearer token is not valid (unknown, expired or invalidated)")
        if found.kind == "api_key":
            raise ApiError(403, "an API key was sent as a Bearer token; send it in the X-Domino-Api-Key header")
        if found.service_account:
            return _service_account(world, found)
        return _principal(found)
    key = headers.get("x-domino-api-key", "")
    if key:
        found = world.credentials.get(key.strip())
        if found is None or found.kind != "api_key":
            raise ApiError(401, "the API key in X-Domino-Api-Key is not valid")
        return _principal(found)
    raise ApiError(401, "authentication required: send X-Domino-Api-Key or Authorization: Bearer")


def check_model_access(api: r.ModelApi, headers: Mapping[str, str], scheme: str) -> None:
    """A public Model API takes every call; a restricted one needs one of its access tokens."""
    if api.is_public:
        return
    tokens = {t["token"] for t in api.access_tokens}
    if scheme == "bearer":
        kind, _, token = headers.get("authorization", "").partition(" ")
        if kind.lower() != "bearer" or token.strip() not in tokens:
            raise ApiError(401, f"model API {api.id} is restricted: send one of its access tokens as a "
                                "Bearer token (an admin issues them)")
        return
    kind, _, encoded = headers.get("authorization", "").partition(" ")
    challenge = {"WWW-Authenticate": 'Basic realm="model"'}
    if kind.lower() != "basic":
        raise ApiError(401, f"model API {api.id} is restricted: call it with HTTP Basic auth, one of its "
                            "access tokens as user and password (an admin issues them)", headers=challenge)
    try:
        user, _, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise ApiError(401, "malformed Basic credentials", headers=challenge) from None
    if user != password or password not in tokens:
        raise ApiError(401, "not a valid access token of this model API (use it as user and password)",
                       headers=challenge)


def _service_account(world: World, token: r.Credential) -> Principal:
    """A service account's token acts as the account, in the projects it collaborates on now."""
    account = world.service_accounts.get(token.service_account)
    if account is None or not account.active:
        raise ApiError(401, "the service account of this token is deactivated or gone")
    return Principal(username=account.username, kind="token", projects=frozenset(account.projects), admin=False)


def _principal(credential: r.Credential) -> Principal:
    return Principal(username=credential.username, kind=credential.kind,
                     projects=frozenset(credential.projects), admin=credential.admin,
                     read_only=credential.read_only)
