"""Where the Domino credential comes from, and how it is attached to each request.

Precedence follows the contract (docs/DOMINO_API.md), first found wins:

1. a token passed in explicitly            -> ``Authorization: Bearer <token>``
2. ``DOMINO_TOKEN_FILE``                   -> Bearer, the file re-read on every request
3. ``DOMINO_USER_API_KEY``                 -> ``X-Domino-Api-Key: <key>``
4. ``DOMINO_API_PROXY``                    -> requests go to the proxy, which adds credentials

Every credential knows its ``source`` (the variable it came from) so that errors can name it.
Its value is a ``repr=False`` field: it never reaches repr(), str(), exceptions or logs.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests
from requests.auth import AuthBase

from domino_mlops.clients.redact import redact_uri
from domino_mlops.clients.hosts import host_problem
from domino_mlops.errors import ConfigError, CredentialMissing

HOST_VAR = "DOMINO_API_HOST"
MODEL_HOST_VAR = "DOMINO_MODEL_HOST"  # where models are served, when not on DOMINO_API_HOST
TOKEN_FILE_VAR = "DOMINO_TOKEN_FILE"
API_KEY_VAR = "DOMINO_USER_API_KEY"
PROXY_VAR = "DOMINO_API_PROXY"

_NO_CREDENTIAL_HINT = (
    f"Set one of {API_KEY_VAR} (a Domino API key), {TOKEN_FILE_VAR} (a file holding a token) "
    f"or {PROXY_VAR} (inside a Domino run). In GitHub Actions, map the environment's secret "
    f"into {API_KEY_VAR} with `env:`; never pass it on the command line."
)


@dataclass(frozen=True, slots=True)
class BearerTokenAuth(AuthBase):
    """A token given to us directly (for example read from a secret by the caller)."""

    token: str = field(repr=False)
    source: str = "the token passed in"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


@dataclass(frozen=True, slots=True)
class TokenFileAuth(AuthBase):
    """A token file kept fresh by someone else: Domino's tokens live about five minutes.
    ``on_secret`` hears each token the moment it is read (a caller masks it in its logs)."""

    path: str
    source: str = TOKEN_FILE_VAR
    on_secret: Callable[[str], None] = field(default=lambda value: None, repr=False, compare=False)
    _heard: set[str] = field(default_factory=set, repr=False, compare=False)  # each token is told once

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._read()}"
        return request

    def _read(self) -> str:
        # Read on every request, not once: the file is rewritten while we run.
        try:
            with open(self.path, encoding="utf-8") as handle:
                token = handle.read().strip()
        except OSError as exc:
            raise CredentialMissing(
                f"Domino ({self.source} points at {self.path}, which cannot be read: {exc.strerror})",
                hint=f"Check that {self.source} names a readable file that the token refresher keeps up to date.",
            ) from exc
        if not token:
            raise CredentialMissing(
                f"Domino ({self.source} points at {self.path}, which is empty)",
                hint="The token refresher has not written a token yet, or writes elsewhere.",
            )
        if token not in self._heard:
            self._heard.add(token)
            self.on_secret(token)
        return token


@dataclass(frozen=True, slots=True)
class ApiKeyAuth(AuthBase):
    """A user API key. Domino 6.x refuses an API key sent as Bearer, so it has its own header."""

    api_key: str = field(repr=False)
    source: str = API_KEY_VAR

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["X-Domino-Api-Key"] = self.api_key
        return request


@dataclass(frozen=True, slots=True)
class ProxyAuth(AuthBase):
    """The Domino API proxy adds the credential itself; we send none (and strip any stray one)."""

    source: str = PROXY_VAR

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        for header in ("Authorization", "X-Domino-Api-Key"):
            request.headers.pop(header, None)
        return request


@dataclass(frozen=True, slots=True)
class ModelTokenAuth(AuthBase):
    """A Model API access token: HTTP Basic with the token as both user and password."""

    token: str = field(repr=False)
    source: str = "the Model API access token"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        pair = base64.b64encode(f"{self.token}:{self.token}".encode()).decode("ascii")
        request.headers["Authorization"] = f"Basic {pair}"
        return request


@dataclass(frozen=True, slots=True)
class NoCredential(AuthBase):
    """Sends no credential: for a session whose every call brings its own (model invocations)."""

    source: str = "no credential"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


DominoAuth = BearerTokenAuth | TokenFileAuth | ApiKeyAuth | ProxyAuth


@dataclass(frozen=True, slots=True)
class ModelHost:
    """Where an environment's models answer, and which setting said so (for its errors)."""

    url: str
    source: str  # "DOMINO_MODEL_HOST", "domino.model_host of STAGE", or the DOMINO_API_HOST default


@dataclass(frozen=True, slots=True)
class DominoConfig:
    """Where Domino is and which credential to use. Safe to print: it shows sources, not values.

    .. code-block:: python

        config = DominoConfig.from_env({"DOMINO_API_HOST": "https://domino.example.com/overview",
                                        "DOMINO_USER_API_KEY": "s3cr3t"})
        config.host          # 'https://domino.example.com'
        config.api_base_url  # 'https://domino.example.com'
        config               # DominoConfig(host='https://domino.example.com',
                             #              auth=ApiKeyAuth(source='DOMINO_USER_API_KEY'), proxy=None)
    """

    host: str
    auth: DominoAuth
    proxy: str | None = None
    # Where models answer (/models/{id}/latest/model): a deployment may serve them on another host,
    # and inside a Domino run DOMINO_API_HOST is an internal address. None: ``host``.
    model_host: str | None = None

    @property
    def models_url(self) -> str:
        return self.model_host or self.host

    @property
    def api_base_url(self) -> str:
        """Where API requests go: the proxy when there is one, else the host."""
        return self.proxy or self.host

    @property
    def credential_source(self) -> str:
        return self.auth.source

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str] | None = None,
        *,
        token: str | None = None,
        token_source: str = "the token passed in",
        project_id: str | None = None,
        on_secret: Callable[[str], None] = lambda value: None,
        model_host: str | None = None,
    ) -> DominoConfig:
        """Read DOMINO_API_HOST and the first credential found (see the module docstring).

        ``token`` is an explicit Bearer token; ``token_source`` names where it came from (for
        example "secret PROJECT_ID_abc") so that a 401 can say which secret to fix. With
        ``project_id``, a missing credential names that project and its secret. ``on_secret``
        hears every credential the moment it is read (the CLI masks it in the Actions log).
        ``model_host``: where models are served (normalized already); else DOMINO_MODEL_HOST.
        """
        env = os.environ if environ is None else environ
        host = normalize_host(_get(env, HOST_VAR), HOST_VAR)
        if model_host is None and _get(env, MODEL_HOST_VAR):
            model_host = normalize_host(_get(env, MODEL_HOST_VAR), MODEL_HOST_VAR)
        # Empty counts as unset: GitHub Actions expands a missing secret to "".
        if token and token.strip():
            on_secret(token.strip())
            return cls(host, BearerTokenAuth(token.strip(), token_source), model_host=model_host)
        if path := _get(env, TOKEN_FILE_VAR):
            return cls(host, TokenFileAuth(path, on_secret=on_secret), model_host=model_host)
        if key := _get(env, API_KEY_VAR):
            on_secret(key)
            return cls(host, ApiKeyAuth(key), model_host=model_host)
        if proxy := _get(env, PROXY_VAR):
            return cls(host, ProxyAuth(), proxy=normalize_host(proxy, PROXY_VAR, default_scheme="http"),
                       model_host=model_host)
        if project_id:
            raise CredentialMissing(
                f"Domino project {project_id} ({token_source} is not set, and neither is a general credential)",
                hint=f"Set {token_source} (the project's service token; in Actions, a secret of that name "
                     f"handed to this project's job) or, for every project, {API_KEY_VAR}.")
        raise CredentialMissing("Domino", hint=_NO_CREDENTIAL_HINT)


def normalize_host(value: str, variable: str, *, default_scheme: str | None = None) -> str:
    """'https://domino.example.com/overview' -> 'https://domino.example.com'; explain anything else."""
    if not value:
        raise ConfigError(
            f"{variable} is not set",
            hint=f"Set {variable} to your Domino URL, for example https://domino.example.com.",
        )
    if default_scheme and "://" not in value:
        value = f"{default_scheme}://{value}"  # the proxy is often given as host:port
    shown = redact_uri(value)  # every message below may quote it; none may quote a password
    try:
        parts = urlsplit(value)
    except ValueError as exc:  # "http://[::1" and other broken authorities
        raise ConfigError(f"{variable} is not a valid URL: {shown!r} ({exc})",
                          hint=f"Write it as scheme://host[:port], for example {variable}=https://domino.example.com.") from exc
    if parts.username is not None or parts.password is not None or shown != value:
        raise ConfigError(
            f"{variable} contains a user name or password ({shown})",
            hint="Keep credentials out of the URL; use DOMINO_USER_API_KEY or DOMINO_TOKEN_FILE.",
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{variable} must be an http:// or https:// URL, got {shown!r}",
            hint=f"Write the scheme too, for example {variable}=https://domino.example.com.",
        )
    if why := host_problem(parts.hostname):
        raise ConfigError(f"{variable} is not a usable URL: {shown!r}: {why}",
                          hint=f"Check the host for a typo; for example {variable}=https://domino.example.com.")
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"{variable} has an invalid port: {shown!r}",
                          hint="Use scheme://host or scheme://host:port.") from exc
    netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return f"{parts.scheme}://{netloc}{f':{port}' if port is not None else ''}"


def _get(env: Mapping[str, str], name: str) -> str:
    return (env.get(name) or "").strip()
