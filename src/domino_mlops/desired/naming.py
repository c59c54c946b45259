"""How a model in an environment maps to Domino Model APIs: one per hardware tier (data plane).

The first tier of an environment keeps the plain name `<model>-<env>`, so the common one-tier
case reads naturally; further tiers add the tier: `<model>-<env>-<tier>`. An app of the manifest
is the Domino app `<app>-<env>`, so DEV, STAGE and PROD can share one project.
"""

from __future__ import annotations

import re

from domino_mlops.desired.environments import Environment

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def tiers_in_waves(env: Environment) -> tuple[tuple[int, str | None], ...]:
    """(wave index, tier) in roll-out order; an environment without waves uses Domino's default tier."""
    if not env.waves:
        return ((0, None),)
    return tuple((index, tier) for index, wave in enumerate(env.waves) for tier in wave)


def model_api_name(model: str, env: Environment, tier: str | None) -> str:
    base = f"{model}-{env.name.lower()}"
    first = tiers_in_waves(env)[0][1]
    name = base if tier is None or tier == first else f"{base}-{tier}"
    return _UNSAFE.sub("-", name)


def app_name(app: str, env: Environment) -> str:
    """The Domino app that serves manifest app ``app`` in ``env``."""
    return _UNSAFE.sub("-", f"{app}-{env.name.lower()}")
