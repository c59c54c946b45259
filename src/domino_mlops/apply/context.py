"""What an apply works with: the clients per project, where models answer, the options, the
smoke tests' tokens, the leases and the approval check. Apart from the executor, so the per-model
and per-workload runs (apply/model_run.py, apply/workload_run.py) that the executor drives can
name it without importing the executor back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from domino_mlops.apply.options import ApplyOptions
from domino_mlops.clients.domino.auth import ModelHost
from domino_mlops.observed.model_tokens import ModelTokens
from domino_mlops.state.lease import Leases

if TYPE_CHECKING:
    from domino_mlops.clients.domino.client import DominoClient
    from domino_mlops.clients.mlflow.registry import MlflowRegistry


@dataclass(frozen=True)
class ApplyContext:
    registry_for: Callable[[str], MlflowRegistry]
    domino_for: Callable[[str], DominoClient]
    domino_host: str
    environment_id_for: Callable[[str], str]  # project id -> compute environment for new Model APIs
    model_host: ModelHost | None = None  # where models answer (None: domino_host, as set by nothing)
    options: ApplyOptions = ApplyOptions()  # parallelism, polling, run info, callbacks (apply/options.py)
    model_tokens: ModelTokens = ModelTokens()  # the smoke tests' access tokens (masked when read)
    leases: Leases = field(default_factory=Leases)  # one writer per (environment, model)
    # After the gates, before any write: the approval check; returns who approved, for the ledger.
    # Set by the facade's guard (domino_mlops.api), never by a caller's options.
    approve: Callable[[], str | None] = lambda: None
