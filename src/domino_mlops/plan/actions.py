"""What a run does to an environment, as a type: a typo in an action is caught by the type
checker, not by a ledger entry no rule recognises."""

from __future__ import annotations

from typing import Literal

# An apply: the word the ledger records and the rules the planner follows (plan/forward.py).
Action = Literal["deploy", "promote", "rollout", "rollback"]
# A plan is also made for review alone ("plan": no apply's rules), or with an apply's rules (`plan --as`).
PlanAction = Literal["plan", "deploy", "promote", "rollout", "rollback"]
