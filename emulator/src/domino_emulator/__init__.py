"""A local Domino emulator (like moto for AWS): a real HTTP server on loopback that serves every
route of the contract extracted from Domino's published OpenAPI documents
(``domino_emulator.contract``), answering their shapes, with state, timing, real model predictions
and faults.

``from domino_emulator import Emulator`` is resolved lazily: the CLI imports
``domino_emulator.options`` on every start, and that must not pay for the server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from domino_emulator.emulator import Emulator
    from domino_emulator.faults import FaultPlan, FaultRule

__all__ = ["Emulator", "FaultPlan", "FaultRule"]


def __getattr__(name: str) -> Any:
    if name == "Emulator":
        from domino_emulator.emulator import Emulator

        return Emulator
    if name in ("FaultPlan", "FaultRule"):
        from domino_emulator import faults

        return getattr(faults, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
