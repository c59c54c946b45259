"""Who is calling, and may they touch this project? Domino 6.x rules, as the contract states them.

- no credential, or one Domino does not know: 401;
- an API key sent as ``Authorization: Bearer``: 403 (on 6.x the two styles are not interchangeable);
- a known credential on another project's object: 403;
- a model is called with HTTP Basic, the model's access token as user and password.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass

from domino_mlops.emulator import records as r
from domino_mlops.emulator.seed import user_id
from domino_mlops.emulator.web import ApiError
from domino_mlops.emulator.world import World


@dataclass(frozen=True, slots=True)
class Principal:
    username: str
    kind: str  # "api_key" or "token"
    projects: frozenset[str]
    admin: bool

    @property
    def user_id(self) -> str:
        return user_id(self.username)

    def can(self, project_id: str) -> bool:
        return self.admin or project_id in self.projects

    def require(self, project_id: str) -> None:
        if not self.can(project_id):
            raise ApiError(403, f"user {self.username!r} has no access to project {project_id!r}")


def authenticate(world: World, headers: Mapping[str, str]) -> Principal:
    """The caller behind the request headers (keys lower-cased), or the 401/403 Domino would give."""
    authorization = headers.get("authorization", "")
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise ApiError(401, "unsupported Authorization scheme; use Bearer <token> or X-Domino-Api-Key")
        found = world.credentials.get(value.strip())
        if found is None:
            raise ApiError(401, "the Bearer token is not valid (unknown or expired)")
        if found.kind == "api_key":
            raise ApiError(403, "an API key was sent as a Bearer token; send it in the X-Domino-Api-Key header")
        return _principal(found)
    key = headers.get("x-domino-api-key", "")
    if key:
        found = world.credentials.get(key.strip())
        if found is None or found.kind != "api_key":
            raise ApiError(401, "the API key in X-Domino-Api-Key is not valid")
        return _principal(found)
    raise ApiError(401, "authentication required: send X-Domino-Api-Key or Authorization: Bearer")


def check_model_token(api: r.ModelApi, headers: Mapping[str, str]) -> None:
    """HTTP Basic with one of the Model API's access tokens as both user and password."""
    scheme, _, encoded = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        raise ApiError(401, "calling a model needs HTTP Basic auth with a model access token",
                       headers={"WWW-Authenticate": 'Basic realm="model"'})
    try:
        user, _, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise ApiError(401, "malformed Basic credentials") from None
    tokens = {t["token"] for t in api.access_tokens}
    if user != password or password not in tokens:
        raise ApiError(401, "not a valid access token of this model API (use it as user and password)",
                       headers={"WWW-Authenticate": 'Basic realm="model"'})


def check_model_bearer(api: r.ModelApi, headers: Mapping[str, str]) -> None:
    """Async predictions take one of the Model API's access tokens as a Bearer token."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or token.strip() not in {t["token"] for t in api.access_tokens}:
        raise ApiError(401, "an async prediction needs a model access token as Bearer token")


def _principal(credential: r.Credential) -> Principal:
    return Principal(username=credential.username, kind=credential.kind,
                     projects=frozenset(credential.projects), admin=credential.admin)
