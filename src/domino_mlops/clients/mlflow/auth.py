"""Which MLflow credential a call uses, and where it came from (for error messages).

Domino's convention: each project's service token lives in `PROJECT_ID_<ID>`. A call about
project X uses X's token, or else the general `MLFLOW_TRACKING_TOKEN` / username-password;
never the token of another project. The value is never part of repr() or str().

The tracking URI may carry a user name and password (``http://user:pw@host``): MLflow sends
them as basic auth, so they are kept, but everything we print shows `display_uri` instead
(clients/redact.py), and the password is among the secrets to mask. A URI without a scheme
(``localhost:5000``) is refused here: MLflow would read it as a local directory, or not at all.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from domino_mlops.clients.redact import redact_uri, userinfo_secrets
from domino_mlops.clients.hosts import host_problem
from domino_mlops.errors import ConfigError

URI_VAR = "MLFLOW_TRACKING_URI"


@dataclass(frozen=True, slots=True)
class MlflowCredentials:
    """A tracking URI plus at most one credential; `source` names the variable it came from."""

    tracking_uri: str  # may hold a password: __repr__ shows display_uri
    source: str  # e.g. "PROJECT_ID_abc123", "MLFLOW_TRACKING_TOKEN", "(none)"
    token: str | None = field(default=None, repr=False)
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, project_id: str | None = None,
                 tracking_uri: str | None = None) -> MlflowCredentials:
        env = os.environ if environ is None else environ
        uri = (tracking_uri or env.get(URI_VAR, "")).strip()
        if not uri:
            raise ConfigError("no MLflow tracking URI: MLFLOW_TRACKING_URI is not set",
                              hint="Set MLFLOW_TRACKING_URI (for example http://127.0.0.1:5000).")
        check_tracking_uri(uri)
        if project_id:
            variable = project_token_variable(project_id)
            if env.get(variable):
                return cls(uri, variable, token=env[variable])
        if env.get("MLFLOW_TRACKING_TOKEN"):
            return cls(uri, "MLFLOW_TRACKING_TOKEN", token=env["MLFLOW_TRACKING_TOKEN"])
        user, password = env.get("MLFLOW_TRACKING_USERNAME"), env.get("MLFLOW_TRACKING_PASSWORD")
        if user and password:
            return cls(uri, "MLFLOW_TRACKING_USERNAME/MLFLOW_TRACKING_PASSWORD",
                       username=user, password=password)
        return cls(uri, "(no credential)")

    @property
    def display_uri(self) -> str:
        """The tracking URI as we print it: without user name and password."""
        return redact_uri(self.tracking_uri)

    def secrets(self) -> tuple[str, ...]:
        """The secret values (the URI's password too), for masking; never for printing."""
        values = (self.token, self.password, *userinfo_secrets(self.tracking_uri))
        return tuple(dict.fromkeys(value for value in values if value))

    def __repr__(self) -> str:
        return f"MlflowCredentials(display_uri={self.display_uri!r}, source={self.source!r})"


def check_tracking_uri(uri: str) -> None:
    """ConfigError (exit 2) for a URI MLflow cannot use as a server or store; never echoes a password."""
    shown = redact_uri(uri)
    example = f"{URI_VAR}=http://127.0.0.1:5000"
    if "://" not in uri:
        raise ConfigError(f"{URI_VAR} has no scheme: {shown!r}",
                          hint=f"Write the scheme too, for example {example}.")
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError unless the port is a number from 0 to 65535
    except ValueError as exc:
        raise ConfigError(f"{URI_VAR} is not a valid URL: {shown!r} ({exc})",
                          hint=f"Write it as scheme://host[:port], for example {example}.") from exc
    if parts.scheme in ("http", "https") and not parts.hostname:
        raise ConfigError(f"{URI_VAR} names no host: {shown!r}", hint=f"For example {example}.")
    if parts.scheme in ("http", "https") and (why := host_problem(parts.hostname or "")):
        raise ConfigError(f"{URI_VAR} is not a usable URL: {shown!r}: {why}", hint=f"Check the host for a typo; for "
                                                                                  f"example {example}.")


def project_token_variable(project_id: str) -> str:
    """PROJECT_ID_<ID>, the variable (and GitHub secret) that holds a project's token."""
    return f"PROJECT_ID_{project_id}"
