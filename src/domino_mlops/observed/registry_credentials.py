"""A target's registry login, read from the variables its credentials name (masked when read).

A variable named by the target wins; else the same name as a key of ``EXPORT_REGISTRY_CREDENTIALS``,
one secret holding a JSON object ``{"NAME": "value", ...}``, for a reusable workflow, which can
only receive secrets whose names it declares.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

from dataclasses import dataclass

from domino_mlops.desired.targets import Target
from domino_mlops.errors import ConfigError, CredentialMissing

BUNDLE = "EXPORT_REGISTRY_CREDENTIALS"


@dataclass(frozen=True, slots=True)
class Login:
    """A registry login; ``password`` goes to the container tool's stdin or Domino's request body only."""

    username: str
    password: str
    registry_host: str

    def __repr__(self) -> str:  # a traceback or a debug log must not carry the password
        return f"Login(username={self.username!r}, password='***', registry_host={self.registry_host!r})"


def registry_login(target: Target, environ: Mapping[str, str], *,
                   on_secret: Callable[[str], None] = lambda value: None) -> Login | None:
    """The login for ``target`` (None when its credentials name nothing: an open registry)."""
    names = target.credentials
    if names.username is None or names.password is None:
        return None
    bundle = _bundle(environ, on_secret)
    values = []
    for name in (names.username, names.password):
        value = environ.get(name, "").strip() or str(bundle.get(name, "")).strip()
        if not value:
            raise CredentialMissing(f"registry {target.registry_host} (export target {target.name})", hint=(
                f"Set the variable {name} (in Actions: a secret of the export environment passed as env "
                f"{name}), or a key {name} in the JSON secret {BUNDLE}."))
        on_secret(value)  # the moment it is read, before any log line could carry it
        values.append(value)
    return Login(values[0], values[1], target.registry_host)


def _bundle(environ: Mapping[str, str], on_secret: Callable[[str], None]) -> Mapping[str, object]:
    text = environ.get(BUNDLE, "").strip()
    if not text:
        return {}
    on_secret(text)
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ConfigError(f"{BUNDLE} is not a JSON object", hint='Store it as {"NAME": "value", ...}; '
                          "the names are those the targets' credentials give.")
    for value in data.values():
        if isinstance(value, str) and value:
            on_secret(value)
    return data
