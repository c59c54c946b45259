"""The image's spool module (export_templates/client/spool.py), loaded from the package: one
implementation for the writer in the image and the reader here, so the two cannot drift apart."""

from __future__ import annotations

import importlib.util
import sys
from importlib import resources
from types import ModuleType

_NAME = "domino_mlops._export_spool"


def spool_module() -> ModuleType:
    if _NAME in sys.modules:
        return sys.modules[_NAME]
    path = resources.files("domino_mlops") / "export_templates" / "client" / "spool.py"
    spec = importlib.util.spec_from_file_location(_NAME, str(path))
    if spec is None or spec.loader is None:  # pragma: no cover - the file ships with the package
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[_NAME] = module
    spec.loader.exec_module(module)
    return module
