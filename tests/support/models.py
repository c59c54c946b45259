"""Moved to domino_mlops.local.models; kept so tests import from one support place."""

from domino_mlops.local.models import (  # noqa: F401
    DIABETES_COLUMNS,
    SAMPLE_PATIENT,
    register_broken_model,
    register_diabetes_model,
)
