"""Model access tokens for smoke tests: which Model APIs this run can call, and with what.

Domino gives a Model API's access tokens to its admins, in its UI (Settings > Invocation), and
no published route returns a token's value; a Model API can also be made public ("unrestricted"),
and then needs none. So the tokens reach us the way every secret does, in one variable:

- ``DOMINO_MODEL_TOKENS_<ENV>`` (e.g. ``DOMINO_MODEL_TOKENS_PROD``), else ``DOMINO_MODEL_TOKENS``
  (the tokens of whatever environment this run is for: in Actions, a secret of the GitHub
  environment that guards it);
- its value is one token, used for every Model API of the environment, or a JSON object that
  names them: ``{"churn": "...", "churn@prod-small": "...", "*": "..."}``. A Model API of model
  ``M`` on tier ``T`` takes ``M@T``, else ``M``, else ``*``. Domino issues a token per Model API,
  and each tier of an environment is its own Model API (``<model>-<env>[-<tier>]``), so a model
  rolled to several tiers needs a token per tier unless one of them is shared.

Every token is masked the moment it is read. The plan sees only where a token came from.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from domino_mlops.desired.environments import TOKENS_VARIABLE as VARIABLE, variable_for
from domino_mlops.errors import ConfigError

WILDCARD = "*"


@dataclass(frozen=True)
class ModelTokens:
    """The tokens one environment's smoke tests may use; ``repr`` never shows a value."""

    variable: str | None = None  # where they came from; None: no variable set
    tokens: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)  # M@T, M or * -> token

    def source_for(self, model: str, tier: str | None) -> str | None:
        """Where the token for this Model API comes from (``DOMINO_MODEL_TOKENS[churn]``), or None."""
        key = self._key(model, tier)
        return None if key is None else f"{self.variable}[{key}]"

    def token_for(self, model: str, tier: str | None) -> str | None:
        key = self._key(model, tier)
        return None if key is None else self.tokens[key]

    def _key(self, model: str, tier: str | None) -> str | None:
        candidates = ([f"{model}@{tier}"] if tier else []) + [model, WILDCARD]
        return next((k for k in candidates if k in self.tokens), None)

    @classmethod
    def from_env(cls, environ: Mapping[str, str], environment: str,
                 on_secret: Callable[[str], None] = lambda value: None) -> ModelTokens:
        """Read the environment's tokens; masks each one (``on_secret``) before anything else."""
        for name in (variable_for(environment), VARIABLE):
            raw = environ.get(name, "").strip()
            if raw:
                on_secret(raw)
                tokens = _parse(raw, name)
                for value in tokens.values():
                    on_secret(value)
                return cls(name, tokens)
        return cls()


def _parse(raw: str, name: str) -> dict[str, str]:
    if not raw.startswith("{"):
        return {WILDCARD: raw}
    try:
        data = json.loads(raw)
    except ValueError:
        # Never repeat the text: it holds secrets.
        raise ConfigError(f"{name} starts with '{{' but is not a JSON object",
                          hint=f"Give {name} one token, or a JSON object such as "
                               '{"churn": "<token>", "churn@prod-small": "<token>", "*": "<token>"}.') from None
    if not isinstance(data, dict) or not data:
        raise ConfigError(f"{name} must be a JSON object of Model API keys to tokens",
                          hint='Keys are a model name, "<model>@<hardware tier>" or "*".')
    bad = sorted(str(k) for k, v in data.items() if not isinstance(v, str) or not v.strip() or not str(k).strip())
    if bad:
        raise ConfigError(f"{name}: the token of {', '.join(bad)} is not a non-empty string",
                          hint="Each value is one model access token, as Domino shows it once when it is made.")
    return {str(k).strip(): v.strip() for k, v in data.items()}
