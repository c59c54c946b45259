"""Finding the versions that ask for an export: MLflow's tag filter, or a whole listing when the
server refuses it."""

from __future__ import annotations

import pytest

from domino_mlops.clients.mlflow.registry import ModelVersionInfo
from domino_mlops.desired.targets import Target
from domino_mlops.errors import AuthenticationFailed, ConfigError
from domino_mlops.observed.exports import observe_targets, tag_filter

TARGET = Target("FOUNDRY", "build", "r.io", models=("churn",))
VERSIONS = (ModelVersionInfo("churn", "1", "r1", "s", tags=(("TARGET_FOUNDRY", "true"),)),
            ModelVersionInfo("churn", "2", "r2", "s"),
            ModelVersionInfo("fraud", "1", "r3", "s", tags=(("TARGET_FOUNDRY", "true"),)))


class Registry:
    def __init__(self, refuse: Exception | None = None) -> None:
        self.refuse, self.filters = refuse, []

    def search_versions(self, filter_string: str):
        self.filters.append(filter_string)
        if filter_string and self.refuse is not None:
            raise self.refuse
        return tuple(v for v in VERSIONS if not filter_string or "TARGET_FOUNDRY" in v.tag_map)


def test_one_search_per_target_keeps_its_models() -> None:
    registry = Registry()
    (snapshot,) = observe_targets([TARGET], lambda project: registry)
    assert [(v.model, v.version) for v in snapshot.versions] == [("churn", "1")]
    assert registry.filters == ["tags.`TARGET_FOUNDRY` LIKE '%'"] == [tag_filter("TARGET_FOUNDRY")]


def test_a_server_that_refuses_the_filter_is_listed_whole() -> None:
    registry = Registry(refuse=ConfigError("MLflow refused versions matching ...: bad filter"))
    (snapshot,) = observe_targets([TARGET], lambda project: registry)
    assert [(v.model, v.version) for v in snapshot.versions] == [("churn", "1")] and registry.filters[-1] == ""


def test_a_refused_credential_is_not_mistaken_for_an_old_server() -> None:
    registry = Registry(refuse=AuthenticationFailed("MLflow", "MLFLOW_TRACKING_TOKEN"))
    with pytest.raises(AuthenticationFailed):
        observe_targets([TARGET], lambda project: registry)
