"""Which MLflow credential a call uses, and where it came from (for error messages).

Domino's convention: each project's service token lives in `PROJECT_ID_<ID>`. A call about
project X uses X's token, or else the general `MLFLOW_TRACKING_TOKEN` / username-password;
never the token of another project. The value is never part of repr() or str().
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from domino_mlops.errors import ConfigError


@dataclass(frozen=True, slots=True)
class MlflowCredentials:
    """A tracking URI plus at most one credential; `source` names the variable it came from."""

    tracking_uri: str
    source: str  # e.g. "PROJECT_ID_abc123", "MLFLOW_TRACKING_TOKEN", "(none)"
    token: str | None = field(default=None, repr=False)
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, project_id: str | None = None,
                 tracking_uri: str | None = None) -> MlflowCredentials:
        env = os.environ if environ is None else environ
        uri = tracking_uri or env.get("MLFLOW_TRACKING_URI", "")
        if not uri:
            raise ConfigError("no MLflow tracking URI: MLFLOW_TRACKING_URI is not set",
                              hint="Set MLFLOW_TRACKING_URI (for example http://127.0.0.1:5000).")
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

    def secrets(self) -> tuple[str, ...]:
        """The secret values, for masking; never for printing."""
        return tuple(value for value in (self.token, self.password) if value)


def project_token_variable(project_id: str) -> str:
    """PROJECT_ID_<ID>, the variable (and GitHub secret) that holds a project's token."""
    return f"PROJECT_ID_{project_id}"
