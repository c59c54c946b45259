"""Kinds of change: one module per kind (kinds/protocol.py says what each answers), one registry."""

from domino_mlops.kinds.protocol import Description, Kind, WorkloadKind
from domino_mlops.kinds.registry import kind_named, kind_of, register, unregister, workload_kinds

__all__ = ["Description", "Kind", "WorkloadKind", "kind_named", "kind_of", "register", "unregister", "workload_kinds"]
