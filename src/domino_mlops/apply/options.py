"""How an apply runs, as one value the executor's context holds (not copied into it field by
field, so a new option is added in one place): parallelism, waiting, leases, who is running it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from domino_mlops.state.lease import LeaseSettings
from domino_mlops.apply.parallelism import DEFAULT_MAX_PARALLEL
from domino_mlops.apply.poll import PollSettings


@dataclass(frozen=True, slots=True)
class RunInfo:
    """Who and what caused this apply (recorded in the ledger; never a secret)."""

    commit_sha: str = ""
    run_url: str = ""
    actor: str = ""
    approved_by: str = ""  # who approved this change (set by the approval check), "" when none was needed


@dataclass(frozen=True, slots=True)
class ApplyOptions:
    """How an apply runs: parallelism, waiting, leases, and who is running it (for the ledger).
    Who approved is not an option: the facade's guard sets it (domino_mlops.api)."""

    max_parallel: int = DEFAULT_MAX_PARALLEL  # apply/parallelism.py says why
    poll: PollSettings = PollSettings()
    run: RunInfo = RunInfo()
    lease: LeaseSettings = LeaseSettings()
    retry_failed: bool = False  # build again a registry version whose build failed before
    whole_environment: bool = False  # rollout: a failed wave puts back every model of the environment
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)  # the bake between waves
    on_event: Callable[[str, str], None] = field(default=lambda model, message: None, compare=False)
    on_warning: Callable[[str, str], None] = field(default=lambda model, message: None, compare=False)
