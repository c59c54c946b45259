"""The pipeline workspace of tests/apply (a real MLflow server, the Domino emulator over HTTP)."""

from tests.apply.conftest import pipeline, public_emulator  # noqa: F401  (fixtures)
