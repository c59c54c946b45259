"""MLflow's rules for alias names, mirrored so `validate` refuses what MLflow would refuse later.

From mlflow/utils/validation.py (``_validate_model_alias_name`` and
``_validate_model_alias_name_reserved``): letters, digits, '_' and '-', at most 255 characters;
``latest`` in any case is reserved (``@latest`` means the newest version, which a reviewed plan
must not); ``v<digits>`` is reserved for version numbers. MLflow's letters and digits include
non-ASCII ones; we keep to ASCII, as the schemas always have. tests/desired/test_aliases.py
holds this module to MLflow's own functions.
"""

from __future__ import annotations

import re

MAX_LENGTH = 255
_ALLOWED = re.compile(r"^[A-Za-z0-9_-]+$")
_VERSION_LIKE = re.compile(r"^[vV][0-9]+$")


def alias_problem(alias: str) -> str | None:
    """Why MLflow would refuse ``alias`` (given without its '@'), or None when it is a valid name."""
    if alias.lower() == "latest":
        return (f"'{alias}' is reserved by MLflow (it always means the newest version, so a plan could "
                "not say what it promotes); pin a version (2) or use an alias you set (\"@candidate\")")
    if _VERSION_LIKE.match(alias):
        return f"'{alias}' is reserved by MLflow for version {alias[1:]}; write the number {int(alias[1:])} instead"
    if not _ALLOWED.match(alias):
        return "an alias may hold only letters, digits, '_' and '-'"
    if len(alias) > MAX_LENGTH:
        return f"an alias may be at most {MAX_LENGTH} characters long"
    return None
