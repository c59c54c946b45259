"""What a deploy recorded in MLflow about where a registry version serves, read back by the plan.

After a deploy, the version's tag ``domino_mlops.<ENV>.deployments`` lists, per data plane, the
Model API and the Model API version that serve it, and the settings that version was built with.
Domino lists a project's Model APIs with their active version's id and status, but a version's
source (which registry version) only per Model API. So when a Model API's active version is the
one the record names and it is running, the plan knows what it serves without listing that Model
API's versions: a steady manifest of N models costs one Domino list per project, not N more.

Only facts that cannot change are taken from the record: a Domino version's source and settings
are fixed when it is made, and its id is never reused. Whether it is still the active one, and
running, comes from Domino's list of the moment. A record that does not match (another version
was started, the settings of the environment changed, a record from before settings were
recorded, a tag that is not ours) is ignored and the versions are listed as before.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from domino_mlops.clients.domino.serving_types import RegistrySource, VersionSettings

_SETTINGS = ("log_http_request_response", "monitoring_enabled", "record_invocation")


def record_tag(environment: str) -> str:
    return f"domino_mlops.{environment}.deployments"


@dataclass(frozen=True, slots=True)
class RecordedVersion:
    """A Model API version a deploy made serve a registry version, on one data plane."""

    tier: str | None
    model_api_id: str
    version_id: str
    settings: VersionSettings


def encode(records: Iterable[RecordedVersion]) -> str:
    return json.dumps([{"tier": r.tier, "model_api_id": r.model_api_id, "version_id": r.version_id,
                        "settings": {key: getattr(r.settings, key) for key in _SETTINGS}} for r in records],
                      separators=(",", ":"))


def decode(tags: Mapping[str, str], environment: str) -> tuple[RecordedVersion, ...]:
    """The records of ``environment`` in a version's tags; () when absent or not in our shape."""
    try:
        items = json.loads(tags.get(record_tag(environment), "[]"))
        return tuple(_record(item) for item in items) if isinstance(items, list) else ()
    except (ValueError, TypeError, KeyError):
        return ()  # not ours, or from before settings were recorded: the plan lists versions instead


def _record(item: Any) -> RecordedVersion:
    settings = item["settings"]
    if not all(isinstance(settings.get(key), bool) for key in _SETTINGS):
        raise TypeError("settings")
    tier = item.get("tier")
    ids = (item["model_api_id"], item["version_id"])
    if not all(isinstance(value, str) and value for value in ids) or not isinstance(tier, (str, type(None))):
        raise TypeError("ids")
    return RecordedVersion(tier, ids[0], ids[1], VersionSettings(*(settings[key] for key in _SETTINGS)))


@dataclass(frozen=True, slots=True)
class KnownServing:
    """What the plan may believe about one Model API if Domino still shows this version active."""

    model_api_id: str
    version_id: str
    source: RegistrySource
    settings: VersionSettings
