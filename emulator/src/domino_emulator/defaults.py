"""Defaults shared by the CLI options and the Python API (stdlib only: the CLI imports this at start)."""

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
# Real deployments take minutes; a few seconds keep the Preparing/Building/Starting states visible.
DEFAULT_DEPLOY_SECONDS = 5.0
