"""What each Domino version can run where: the one table of version-dependent capabilities, each
row with the documentation page it comes from, and the rule the plan (and the emulator) apply.

Domino Nexus splits a deployment into the control plane's own ("local") data plane and remote
ones; a hardware tier belongs to one data plane. Domino 5.7's documentation says Model APIs and
apps run only in the local data plane; 6.0's lists no such limit. A wave that names a remote
data plane's tier for a Model API (or an app) on a version whose documentation says it cannot is
refused when the plan is made (exit 2), not halfway through a rollout.

.. code-block:: python

    >>> remote = TierUse("Model API", "prod-small", "prod-west", False, "wave 2 of PROD")
    >>> refusal("5.7.2", [remote]).message.split(":")[0]
    "Domino 5.7.2 cannot run the Model API of wave 2 of PROD on hardware tier 'prod-small'"
    >>> refusal("6.1.0", [remote]) is None
    True
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from domino_mlops.errors import NotSupportedByDomino

Kind = Literal["Model API", "app"]


@dataclass(frozen=True, slots=True)
class DocRow:
    """What the documentation of Domino ``first``..``last`` (major, minor) says runs on a remote
    data plane: True yes, False no (refused), None the page we found does not say (not refused)."""

    first: tuple[int, int]
    last: tuple[int, int]
    remote_model_apis: bool | None
    remote_apps: bool | None
    source: str


_NEXUS_57 = "https://docs.dominodatalab.com/en/5.7/user_guide/95520d/domino-nexus"
# Versions are matched by (major, minor); a version in no row is not refused.
VERSIONS: tuple[DocRow, ...] = (
    DocRow((5, 5), (5, 6), False, False,
           "no page of its own found; assumed as 5.7 (Nexus data planes came with 5.5: the 5.7 admin "
           "guide's data-plane pages show images from /images/5.5/hybrid/)"),
    DocRow((5, 7), (5, 7), False, False,
           f"{_NEXUS_57} (\"Some features are only available in the Local data plane: Model APIs, Apps, "
           "Datasets, Starburst-powered data sources\")"),
    DocRow((5, 8), (5, 11), None, None,
           "not found: https://docs.dominodatalab.com/en/5.10/admin_guide/c65074/nexus-hybrid-architecture "
           "lists features remote data planes lack, but the copy searched lost the list; not refused"),
    DocRow((6, 0), (99, 99), True, True,
           "https://docs.dominodatalab.com/en/6.0/admin_guide/c65074/nexus-hybrid-architecture (only "
           "Starburst-powered data sources are unavailable in remote data planes); apps: "
           "https://docs.dominodatalab.com/en/latest/user_guide/71635d/publish-apps (\"Run Apps on remote "
           "data planes\")"),
)


@dataclass(frozen=True, slots=True)
class TierUse:
    """A Model API or app the plan puts on a hardware tier, with that tier's data plane."""

    kind: Kind
    tier: str
    data_plane: str
    is_local: bool | None  # the v4 listing's dataPlane.isLocal; None: not said (never refused)
    where: str  # for the message: "wave 2 of PROD", "app dashboard in PROD"


def parse_version(text: str) -> tuple[int, int] | None:
    """'5.7.2' -> (5, 7); None for anything without a major.minor at its start."""
    match = re.match(r"\s*v?(\d+)\.(\d+)", text or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def row_for(version: str) -> DocRow | None:
    parsed = parse_version(version)
    if parsed is None:
        return None
    return next((row for row in VERSIONS if row.first <= parsed <= row.last), None)


def limits_remote(version: str) -> bool:
    """True when this version's documentation keeps something off remote data planes (so the
    plan has tiers to look at); False lets a current Domino skip the tier listing."""
    row = row_for(version)
    return row is not None and False in (row.remote_model_apis, row.remote_apps)


def allowed_remote(version: str, kind: Kind) -> bool:
    row = row_for(version)
    allowed = None if row is None else (row.remote_model_apis if kind == "Model API" else row.remote_apps)
    return allowed is not False


def refusal(version: str, uses: Iterable[TierUse]) -> NotSupportedByDomino | None:
    """The first use this version cannot run, as the error to raise; None when all can."""
    for use in uses:
        if use.is_local is False and not allowed_remote(version, use.kind):
            row = row_for(version)
            source = row.source if row is not None else "the capability table"
            plural = "Model APIs" if use.kind == "Model API" else "apps"
            return NotSupportedByDomino(
                f"Domino {version} cannot run the {use.kind} of {use.where} on hardware tier {use.tier!r}: "
                f"its data plane {use.data_plane!r} is remote, and this version runs {plural} only in the "
                f"local data plane (source: {source})",
                hint="Name a hardware tier of the local data plane there in the environments file (or the "
                     "manifest, for an app), or upgrade Domino (6.0's documentation lists no such limit). "
                     "Nothing was written.")
    return None
