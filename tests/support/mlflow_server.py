"""Moved to domino_mlops.local.mlflow_server; kept while callers move."""

from domino_mlops.local.mlflow_server import MlflowServer, free_port, start_mlflow_server  # noqa: F401
