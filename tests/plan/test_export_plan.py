"""The export plan is pure: tagged versions in, what to export out; done and waiting ones named."""

from __future__ import annotations

import json

from domino_mlops.desired.targets import Target
from domino_mlops.observed.export_snapshot import ExportRecord, TaggedVersion, TargetSnapshot
from domino_mlops.plan.export_plan import plan_exports
from domino_mlops.report.exports import plan_to_dict, plan_to_markdown

BUILD = Target("FOUNDRY", "build", "registry.example.com/foundry")
SERVER = Target("ECR", "server", "ecr.example.com", models=("churn",))


def version(model: str, number: str, **tags: str) -> TaggedVersion:
    return TaggedVersion(model, number, f"run-{number}", tuple(sorted(tags.items())))


def test_tagged_versions_are_exported_once_and_untagged_ones_ignored() -> None:
    done = ExportRecord("registry.example.com/foundry/churn:v1", "sha256:" + "0" * 64, "build", "2026-11-30T10:00:00Z")
    snapshot = TargetSnapshot("FOUNDRY", (
        version("churn", "1", TARGET_FOUNDRY="true", **{"domino_mlops.export.FOUNDRY": done.to_tag()}),
        version("churn", "2", TARGET_FOUNDRY="false"),
        version("churn", "10", TARGET_FOUNDRY="yes"),
        version("churn", "3", OTHER="x"),
        version("fraud", "4", TARGET_FOUNDRY=""),
    ))
    plan = plan_exports([BUILD], [snapshot])

    assert [(i.model, i.version, i.action) for i in plan.items] == [
        ("churn", "1", "done"), ("churn", "10", "export"), ("fraud", "4", "export")]
    assert plan.to_export[0].image == "registry.example.com/foundry/churn:v10"
    assert plan.done[0].done == done and done.reference.endswith("@sha256:" + "0" * 64)
    markdown = plan_to_markdown(plan)
    assert "2 to export, 1 exported before, 0 waiting." in markdown and "build and push" in markdown
    assert json.loads(json.dumps(plan_to_dict(plan)))["to_export"] == ["FOUNDRY:churn:10", "FOUNDRY:fraud:4"]


def test_server_mode_waits_for_a_model_api_and_keeps_to_its_models() -> None:
    snapshot = TargetSnapshot("ECR", (
        version("churn", "1", TARGET_ECR="1"),
        version("churn", "2", TARGET_ECR="1", DOMINO_MODEL_ID="m1", DOMINO_MODEL_VERSION_ID="v2"),
        version("fraud", "1", TARGET_ECR="1", DOMINO_MODEL_ID="m2", DOMINO_MODEL_VERSION_ID="v1"),
    ))
    plan = plan_exports([SERVER], [snapshot])

    assert [(i.version, i.action) for i in plan.items] == [("1", "waiting"), ("2", "export")]
    assert (plan.to_export[0].model_api_id, plan.to_export[0].model_api_version_id) == ("m1", "v2")
    assert "deploy it first" in plan.waiting[0].detail


def test_a_hand_written_export_tag_still_counts_as_exported() -> None:
    snapshot = TargetSnapshot("FOUNDRY", (version("churn", "1", TARGET_FOUNDRY="t",
                                                  **{"domino_mlops.export.FOUNDRY": "pushed by hand"}),))
    (item,) = plan_exports([BUILD], [snapshot]).items
    assert item.action == "done" and item.done == ExportRecord("pushed by hand")


def test_nothing_tagged_is_an_empty_plan() -> None:
    plan = plan_exports([BUILD, SERVER], [])
    assert plan.items == () and "No model version carries" in plan_to_markdown(plan)
