"""The separated topology, planned: pure, no server (the integration is tests/apply/test_separated_topology.py)."""

from __future__ import annotations

from collections.abc import Collection

from domino_mlops.clients.mlflow.types import NEW_VERSION, SOURCE_TAG, ModelVersionInfo, RegisteredModelInfo
from domino_mlops.desired.environments import Environment, Environments
from domino_mlops.desired.manifest import ManifestEntry, VersionRef
from domino_mlops.observed.copies import observe_copies
from domino_mlops.observed.registry import ObservedModel
from domino_mlops.plan.copied import with_copy
from domino_mlops.plan.digest import plan_digest
from domino_mlops.plan.planner import plan_registry
from domino_mlops.plan.steps import CopyVersion, MoveAlias, RecordLedger, SetTags

STAGE = Environment("STAGE", "staging", "staging")
PROD = Environment("PROD", "production", "production", requires="STAGE", registered_model="{model}-prod")
ENVS = Environments("envs.yaml", (STAGE, PROD))
PASSED_STAGE = (("domino_mlops.STAGE.status", "passed"),)


class Registry:
    """What the registry holds, by name (the reader's answer: absent names left out)."""

    display_uri = "http://mlflow"

    def __init__(self, *models: RegisteredModelInfo) -> None:
        self._models = {m.name: m for m in models}

    def models(self, names: Collection[str]) -> dict[str, RegisteredModelInfo]:
        return {n: self._models[n] for n in names if n in self._models}


def source(tags: tuple[tuple[str, str], ...] = PASSED_STAGE) -> ObservedModel:
    v1 = ModelVersionInfo("churn", "1", "run1", "runs:/run1/model", tags=tags)
    return ObservedModel(ManifestEntry("p1", "churn", VersionRef(number=1), line=3),
                         RegisteredModelInfo("churn", (("staging", "1"),), (v1,)), v1)


def test_a_copy_not_made_yet_is_planned_first_and_gated_on_the_source() -> None:
    (item,) = observe_copies([source()], PROD, lambda project: Registry())
    (change,) = plan_registry(PROD, ENVS, [item]).changes
    assert change.gate is not None and change.gate.passed  # the source passed STAGE; the copy does not exist yet
    assert (change.model, change.version, change.source_model, change.source_version) == (
        "churn-prod", NEW_VERSION, "churn", "1")
    assert change.steps == (
        CopyVersion("churn", "1", "churn-prod", "STAGE"),
        SetTags("churn-prod", NEW_VERSION, (("domino_mlops.PROD.status", "passed"),)),
        MoveAlias("churn-prod", "production", None, NEW_VERSION),
        RecordLedger("PROD", "churn-prod", None, NEW_VERSION, "deploy"),
    )
    assert change.steps[0].describe() == "copy churn v1 (passed STAGE) -> churn-prod v(new)"

    made = ModelVersionInfo("churn-prod", "4", "run1", "models:/churn/1", tags=((SOURCE_TAG, "churn/1"),))
    filled = with_copy(change, made)
    assert [getattr(s, "version", getattr(s, "to_version", None)) for s in filled.steps[1:]] == ["4", "4", "4"]
    assert filled.steps[0].copied == "4" and filled.version == "4" and filled.target == made


def test_a_copy_made_is_found_by_its_source_tag_and_the_digest_stays_the_approved_one() -> None:
    (pending,) = observe_copies([source()], PROD, lambda project: Registry())
    copy = ModelVersionInfo("churn-prod", "4", "run1", "models:/churn/1",
                            tags=((SOURCE_TAG, "churn/1"), *PASSED_STAGE))
    other = ModelVersionInfo("churn-prod", "3", "run0", "models:/churn/0", tags=((SOURCE_TAG, "churn/0"),))
    registry = Registry(RegisteredModelInfo("churn-prod", (), (other, copy)))  # one reader per credential
    (found,) = observe_copies([source()], PROD, lambda project: registry)
    assert found.target == copy and found.source == source().target
    before, after = plan_registry(PROD, ENVS, [pending]), plan_registry(PROD, ENVS, [found])
    (change,) = after.changes
    assert change.steps[0] == CopyVersion("churn", "1", "churn-prod", "STAGE", copied="4")
    assert "already copied as v4" in change.steps[0].describe()
    # The plan job saw no copy; a re-run after a first attempt that copied sees one: same approval.
    assert plan_digest(before, PROD) == plan_digest(after, PROD)
    shared = Environment("PROD", "production", "production", requires="STAGE")
    assert plan_digest(plan_registry(shared, ENVS, [source()]), shared) != plan_digest(before, PROD)


def test_the_gate_reads_the_source_version() -> None:
    (item,) = observe_copies([source(tags=())], PROD, lambda project: Registry())
    (change,) = plan_registry(PROD, ENVS, [item]).changes
    assert change.gate is not None and not change.gate.passed and "has not passed STAGE" in change.gate.detail
