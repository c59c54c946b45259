"""apply/copy_version.py against a real MLflow server: the copy is made once, even when the answer
to its create is lost (looked up by its source tag, not resent)."""

from __future__ import annotations

from domino_mlops.apply.copy_version import copy_version
from domino_mlops.clients.mlflow.registry import MlflowRegistry
from domino_mlops.clients.mlflow.auth import MlflowCredentials
from domino_emulator.local.models import register_diabetes_model
from domino_mlops.plan.steps import CopyVersion
from tests.support.fault_proxy import ProxyFaults, fault_proxy


def registry(uri: str) -> MlflowRegistry:
    return MlflowRegistry(MlflowCredentials(uri, "(none)"))


def test_a_copy_whose_create_answer_was_lost_is_made_once(mlflow_server) -> None:
    v1 = register_diabetes_model(mlflow_server.uri, "copy-lost")
    registry(mlflow_server.uri).set_tags("copy-lost", v1, {"domino_mlops.STAGE.status": "passed"})
    faults = ProxyFaults(lost_rate=1.0, paths=("/model-versions/create",), limit=1)
    with fault_proxy(mlflow_server.uri, faults) as proxy:
        made, _ = copy_version(registry(proxy.url), CopyVersion("copy-lost", v1, "copy-lost-prod", "STAGE"))
        assert proxy.counters.faults() == {"lost": 1}
        assert proxy.counters.writes_by_route()["POST /api/2.0/mlflow/model-versions/create"] == 1
    versions = registry(mlflow_server.uri).search_versions("name='copy-lost-prod'")
    assert [v.version for v in versions] == [made.version] == ["1"]
    (copy,) = versions
    assert copy.source == f"models:/copy-lost/{v1}"
    assert copy.tag_map["domino_mlops.source"] == f"copy-lost/{v1}"
    assert copy.tag_map["domino_mlops.STAGE.status"] == "passed"
    assert copy_version(registry(mlflow_server.uri), CopyVersion("copy-lost", v1, "copy-lost-prod"))[1] is False
