"""Everything a run talks to, per Domino project: MLflow registries and Domino clients, each with
that project's credential, made once and closed together.

A project's secret ``PROJECT_ID_<ID>`` is its service token: calls about that project use it, as
the MLflow token and as a Bearer token for Domino, and never for another project. Without one,
MLflow falls back to MLFLOW_TRACKING_TOKEN (or a username and password) and Domino to
DOMINO_USER_API_KEY / DOMINO_TOKEN_FILE / DOMINO_API_PROXY. Every credential is handed to
``on_secret`` the moment it is read (the CLI masks it in the Actions log).

.. code-block:: python
    :caption: Example, against the local emulator and MLflow

    from domino_mlops.connections import Connections

    with Connections({"MLFLOW_TRACKING_URI": "http://127.0.0.1:5000",
                      "DOMINO_API_HOST": "http://127.0.0.1:8765",
                      "DOMINO_USER_API_KEY": "LOCAL-TEST-API-KEY-demo-user-not-a-secret"}) as connections:
        print(connections.domino("65f0c0ffee00000000000001").project_environments(
            "65f0c0ffee00000000000001").default().name)
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from domino_mlops.errors import ConfigError

if TYPE_CHECKING:
    from domino_mlops.state.ledger import Ledger
    from domino_mlops.clients.domino.client import DominoClient
    from domino_mlops.clients.domino.auth import ModelHost
    from domino_mlops.clients.mlflow.registry import MlflowRegistry
    from domino_mlops.clients.mlflow.auth import MlflowCredentials
    from domino_mlops.clients.mlflow.reader import MlflowReader
    from domino_mlops.desired.environments import Environment
    from domino_mlops.observed.model_tokens import ModelTokens

# MLflow's own default (a 120 s read timeout) makes an unreachable server look like a hang for
# minutes. A CLI run in CI should fail in well under a minute instead. Our MLflow session reads
# MLFLOW_HTTP_REQUEST_TIMEOUT (clients/mlflow/rest.py); the rest still reach MLflow's own client
# where it is used (the fallback for artifact stores other than the tracking server).
MLFLOW_HTTP_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "20",
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    # MLflow keeps 10 connections per host; the executor's workers (--max-parallel, default 16)
    # mark models at once, and an 11th would connect anew for each call (and warn on stderr).
    "MLFLOW_HTTP_POOL_MAXSIZE": "64",
}


class Connections:
    """Per-project MLflow registries and Domino clients (made on first use), one lock, closed
    together. ``environ`` is where credentials are read (os.environ by default)."""

    def __init__(self, environ: Mapping[str, str] | None = None, *,
                 on_secret: Callable[[str], None] = lambda value: None) -> None:
        self.environ = os.environ if environ is None else environ
        self.on_secret = on_secret
        self._lock = threading.Lock()
        self._registries: dict[MlflowCredentials, MlflowRegistry] = {}
        self._credentials: dict[str, MlflowCredentials] = {}
        self._readers: dict[MlflowCredentials, MlflowReader] = {}
        self._domino: dict[tuple[str, str | None], DominoClient] = {}
        self._environment_ids: dict[str, str] = {}

    def __enter__(self) -> Connections:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            for client in self._domino.values():
                client.close()
            self._domino.clear()
            for reader in self._readers.values():
                reader.close()
            self._readers.clear()
            for registry in self._registries.values():
                registry.close()
            self._registries.clear()

    # --- MLflow --------------------------------------------------------------------------------

    def registry(self, project_id: str) -> MlflowRegistry:
        """The MLflow registry as project ``project_id`` sees it ("" for the general credential).
        Only a tracking server (http, https) has the REST API we speak: a local store is a
        ConfigError with a hint (clients/mlflow_rest.check_tracking_server)."""
        from domino_mlops.clients.mlflow.registry import MlflowRegistry

        credentials = self._mlflow_credentials(project_id)
        with self._lock:
            # One per credential, as the readers: projects that share one share its session, and
            # the apply's ledger batch (one search per registry) then reads their entries once.
            if credentials not in self._registries:
                self._registries[credentials] = MlflowRegistry(credentials, environ=self.environ)
            return self._registries[credentials]

    def mlflow_reader(self, project_id: str) -> MlflowReader:
        """Batched registry reads (clients/mlflow/reader.py) with project ``project_id``'s credential.
        Projects with the same credential get the same reader, so their reads share batches."""
        from domino_mlops.clients.mlflow.reader import MlflowReader

        credentials = self._mlflow_credentials(project_id)
        with self._lock:
            if credentials not in self._readers:
                self._readers[credentials] = MlflowReader(credentials, environ=self.environ)
            return self._readers[credentials]

    def ledger_reader(self, project_id: str) -> Ledger:
        """The ledger for reading, through project ``project_id``'s credential (read only)."""
        from domino_mlops.state.ledger import Ledger

        return Ledger(self.mlflow_reader(project_id))

    def _mlflow_credentials(self, project_id: str) -> MlflowCredentials:
        from domino_mlops.clients.mlflow.auth import MlflowCredentials

        with self._lock:
            if project_id not in self._credentials:
                credentials = MlflowCredentials.from_env(self.environ, project_id=project_id)
                for secret in credentials.secrets():
                    self.on_secret(secret)  # the moment it exists, before any log line can carry it
                self._credentials[project_id] = credentials
            return self._credentials[project_id]

    # --- Domino --------------------------------------------------------------------------------

    @property
    def domino_configured(self) -> bool:
        return bool(self.environ.get("DOMINO_API_HOST", "").strip())

    @property
    def domino_host(self) -> str:
        from domino_mlops.clients.domino.auth import normalize_host

        return normalize_host(self.environ.get("DOMINO_API_HOST", "").strip(), "DOMINO_API_HOST")

    def model_host(self, env: Environment) -> ModelHost:
        """Where ``env``'s models answer: its domino.model_host, else DOMINO_MODEL_HOST, else the
        Domino host (the rule before DOMINO_MODEL_HOST existed)."""
        from domino_mlops.clients.domino.auth import MODEL_HOST_VAR, ModelHost, normalize_host

        if env.model_host:
            where = f"domino.model_host of {env.name} in the environments file"
            return ModelHost(normalize_host(env.model_host, where), where)
        if value := self.environ.get(MODEL_HOST_VAR, "").strip():
            return ModelHost(normalize_host(value, MODEL_HOST_VAR), MODEL_HOST_VAR)
        return ModelHost(self.domino_host, f"DOMINO_API_HOST ({MODEL_HOST_VAR} is not set)")

    def domino_for(self, env: Environment) -> Callable[[str], DominoClient]:
        """Domino clients whose model calls go to ``env``'s model host."""
        host = self.model_host(env).url
        return lambda project_id: self.domino(project_id, model_host=host)

    def domino(self, project_id: str, *, model_host: str | None = None) -> DominoClient:
        """A Domino client with project ``project_id``'s credential; ``model_host``: where its
        model calls go (else DOMINO_MODEL_HOST, else DOMINO_API_HOST)."""
        from domino_mlops.clients.domino.client import DominoClient
        from domino_mlops.clients.domino.auth import DominoConfig
        from domino_mlops.clients.mlflow.auth import project_token_variable

        key = (project_id, model_host)
        with self._lock:
            if key not in self._domino:
                variable = project_token_variable(project_id)
                token = self.environ.get(variable, "").strip() or None
                config = DominoConfig.from_env(self.environ, token=token, token_source=variable,
                                               project_id=project_id, on_secret=self.on_secret,
                                               model_host=model_host)
                self._domino[key] = DominoClient.from_config(config)
            return self._domino[key]

    def environment_id(self, env: Environment) -> Callable[[str], str]:
        """The compute environment for new Model APIs: the environment's, else the project's
        default (``useableEnvironments``: the selected one, else the first global one)."""
        def pick(project_id: str) -> str:
            if env.environment_id:
                return env.environment_id
            with self._lock:
                cached = self._environment_ids.get(project_id)
            if cached:
                return cached
            chosen = self.domino(project_id).project_environments(project_id).default()
            if chosen is None:
                raise ConfigError(f"Domino lists no compute environment for project {project_id}",
                                  hint=f"Set domino.environment_id for {env.name} in the environments file.")
            with self._lock:
                self._environment_ids[project_id] = chosen.id
            return chosen.id
        return pick

    def model_tokens(self, environment: str) -> ModelTokens:
        """The smoke tests' model access tokens for one environment (masked when read)."""
        from domino_mlops.observed.model_tokens import ModelTokens

        return ModelTokens.from_env(self.environ, environment, on_secret=self.on_secret)


def apply_mlflow_http_defaults(environ: dict[str, str] | None = None) -> None:
    """Gentler MLflow HTTP defaults, unless the user set their own."""
    env = os.environ if environ is None else environ
    for key, value in MLFLOW_HTTP_DEFAULTS.items():
        env.setdefault(key, value)
