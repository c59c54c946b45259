"""The capability table (clients/domino/capabilities.py): every row names its source, and the rule refuses
exactly what a version's documentation says it cannot run on a remote data plane."""

from __future__ import annotations

import pytest

from domino_mlops.clients.domino.capabilities import VERSIONS, TierUse, limits_remote, refusal, row_for

REMOTE_API = TierUse("Model API", "prod-small", "prod-west", False, "wave 2 of PROD")
REMOTE_APP = TierUse("app", "prod-small", "prod-west", False, "app dashboard in PROD")
LOCAL_API = TierUse("Model API", "small-k8s", "local", True, "wave 1 of PROD")


def test_every_row_says_where_it_comes_from_and_rows_do_not_overlap() -> None:
    assert all(row.source for row in VERSIONS)
    for earlier, later in zip(VERSIONS, VERSIONS[1:]):
        assert earlier.first <= earlier.last < later.first


@pytest.mark.parametrize("version", ["5.5.0", "5.6.3", "5.7.0", "5.7.2"])
def test_versions_whose_docs_keep_model_apis_and_apps_local_refuse_remote_tiers(version: str) -> None:
    assert limits_remote(version)
    for use in (REMOTE_API, REMOTE_APP):
        problem = refusal(version, [LOCAL_API, use])
        assert problem is not None and problem.exit_code == 2
        assert f"Domino {version}" in problem.message and "'prod-small'" in problem.message
        assert "'prod-west' is remote" in problem.message and problem.hint
    assert refusal(version, [LOCAL_API]) is None


@pytest.mark.parametrize("version", ["6.0.0", "6.1.0", "6.3.1", "5.9.0", "5.11.2", "4.6.0", "unknown", ""])
def test_other_versions_refuse_nothing(version: str) -> None:
    assert refusal(version, [REMOTE_API, REMOTE_APP]) is None


def test_a_data_plane_not_said_to_be_remote_is_not_refused() -> None:
    assert refusal("5.7.2", [TierUse("Model API", "t", "?", None, "wave 1 of PROD")]) is None


def test_rows_are_matched_by_major_and_minor() -> None:
    assert row_for("5.7.2") is row_for("5.7.0") is not None
    assert row_for("v6.1.0-rc1") is row_for("6.1.0")
