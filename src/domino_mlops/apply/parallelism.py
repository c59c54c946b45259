"""How many models an apply moves at once by default, and why that many.

A worker spends nearly all of a deploy asleep: Domino builds and starts each Model API version on
its own side (it queues builds; nothing here waits on a local resource), and a worker only looks
at the status now and then (poll.py: every 30 s at most while building, 2.5 s while starting).
So 16 workers add about 6 Domino requests a second at their busiest, and 50 models take 4 rounds
instead of 13 with 4 workers (issue 12: 50 models at least 6x faster than one at a time, which
8 workers, 7 rounds, only reach with nothing else to do). Beyond 16 the runner's own CPU (TLS,
JSON, the smoke tests) and MLflow's write rate start to count more than the rounds saved.
Constant-only and import-free: the CLI reads it for --help without loading the engine.
"""

from __future__ import annotations

DEFAULT_MAX_PARALLEL = 16
