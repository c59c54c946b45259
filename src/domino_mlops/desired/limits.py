"""How much of a desired-state file we are willing to read, so a broken or hostile one fails fast.

A manifest lists a few hundred models at most and an environments file a handful of
environments; each limit is far above that and far below what would hang a CI runner:

- ``max_bytes``: refused before parsing. JSON is parsed in C (10 MiB take well under a second);
  PyYAML's pure-Python reader manages roughly 0.2-0.5 MiB/s on a busy 2-core runner, so the
  YAML file gets 1 MiB (a few seconds at worst).
- ``max_depth``: nesting levels. The parsers recurse once per level, and Python's stack ends
  near 1,000; 64 levels is more than any real file uses (ours nest 5 deep).
- ``max_values``: values built, with every use of a YAML alias counted in full. Nine nested
  aliases of ten items each expand to 10**9 values from a 200-byte file ("billion laughs").
"""

from __future__ import annotations

from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int
    max_depth: int = 64
    max_values: int = 100_000


MANIFEST = Limits(max_bytes=10 * MiB)
ENVIRONMENTS = Limits(max_bytes=1 * MiB)


def size_text(size: int) -> str:
    """10485760 -> '10 MiB'; smaller sizes in KiB or bytes."""
    if size >= MiB:
        return f"{size / MiB:g} MiB"
    if size >= 1024:
        return f"{size / 1024:g} KiB"
    return f"{size} bytes"
