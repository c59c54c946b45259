"""Exports as a kind (kinds/exports.py) against a real MLflow server: registered, never part of an
environment's run; select, observe, plan, describe and digest through the registry; the plan's
digest binds an export's approval (`export --expect-plan-digest`), as it does the other verbs'."""

from __future__ import annotations

import re

import pytest

from domino_mlops.cli import main
from domino_mlops.connections import Connections
from domino_mlops.desired.targets import load_targets
from domino_mlops.plan.kinds import kind_named, workload_kinds
from domino_emulator.local.models import register_diabetes_model
from tests.support.exports import calls, export_tag, fake_tool, outputs, path_with, write_targets

MODEL = "kind-export-churn"


@pytest.fixture(scope="module")
def versions(mlflow_server):
    """kind-export-churn v1..v3, none tagged yet (each test tags them for its own target)."""
    from mlflow import MlflowClient

    numbers = [register_diabetes_model(mlflow_server.uri, MODEL, alpha=a) for a in (0.5, 1.0, 2.0)]
    return MlflowClient(mlflow_server.uri, mlflow_server.uri), numbers


@pytest.fixture
def workspace(tmp_path, mlflow_server, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "github_output"))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    monkeypatch.setenv("PATH", path_with(tmp_path / "bin"))  # the recording docker of fake_tool, first
    monkeypatch.delenv("CONTAINER_TOOL", raising=False)
    return tmp_path


def _targets(root, name: str):
    return write_targets(root, f"""
        targets:
          - name: {name}
            mode: build
            registry: registry.example.com/foundry
        """)


def test_exports_are_a_registered_kind_that_no_environment_run_asks() -> None:
    exports = kind_named("export")
    assert (exports.name, exports.ledger_kind) == ("export", "model")
    # An environment's plan loops over workload_kinds with its manifest: exports are planned only
    # by their own verb, from the targets file.
    assert exports not in workload_kinds() and [k.name for k in workload_kinds()] == ["job", "scheduled_job", "app"]


def test_select_observe_plan_describe_and_digest_through_the_registry(workspace, versions, mlflow_server) -> None:
    client, (v1, v2, v3) = versions
    for version in (v1, v2):
        client.set_model_version_tag(MODEL, version, "TARGET_KIND_A", "true")
    targets = load_targets(write_targets(workspace, """
        targets:
          - name: KIND_A
            mode: build
            registry: registry.example.com/foundry
          - name: KIND_B
            mode: build
            registry: registry.example.com/other
        """))
    exports = kind_named("export")
    assert [t.name for t in exports.select(targets)] == ["KIND_A", "KIND_B"]
    chosen = exports.select(targets, target="KIND_A")

    with Connections({"MLFLOW_TRACKING_URI": mlflow_server.uri}) as connections:
        def plan():
            return exports.plan(chosen, exports.observe(chosen, None, connections), None)

        first = plan()
        assert [(i.version, i.action) for i in first.items] == [(v1, "export"), (v2, "export")]
        assert re.fullmatch(r"[0-9a-f]{64}", first.digest)
        item = first.to_export[0]
        image = f"registry.example.com/foundry/{MODEL}:v{v1}"
        assert exports.describe(item).steps == (f"build and push `{image}`",)
        assert exports.digest(item, None) == ["KIND_A", MODEL, v1, "build", image]

        # v1 exported meanwhile (a partial first attempt): still the plan the reviewer approved.
        client.set_model_version_tag(MODEL, v1, "domino_mlops.export.KIND_A", '{"image": "%s"}' % image)
        assert [(i.version, i.action) for i in plan().items] == [(v1, "done"), (v2, "export")]
        assert plan().digest == first.digest
        # v3 tagged after the approval: another plan.
        client.set_model_version_tag(MODEL, v3, "TARGET_KIND_A", "true")
        assert plan().digest != first.digest


def test_an_export_applies_only_the_approved_plan(workspace, versions, capsys) -> None:
    client, (v1, v2, v3) = versions
    client.set_model_version_tag(MODEL, v1, "TARGET_KIND_C", "true")
    targets = str(_targets(workspace, "KIND_C"))
    log = workspace / "docker.log"
    fake_tool(workspace / "bin", log)

    assert main(["export", "--targets", targets, "--plan-only"]) == 0
    approved = outputs(workspace / "github_output")["plan-digest"]
    assert f"Plan digest: `{approved}`" in capsys.readouterr().out
    assert f"Plan digest: `{approved}`" in (workspace / "summary.md").read_text()

    client.set_model_version_tag(MODEL, v2, "TARGET_KIND_C", "true")  # tagged after the review
    assert main(["export", "--targets", targets, "--output", "out", "--expect-plan-digest", approved]) == 4
    err = capsys.readouterr().err
    assert "the plan for export to KIND_C is not the one that was approved" in err
    assert "tagged for export" in err
    assert calls(log) == [] and export_tag(client, MODEL, v1, "KIND_C") is None  # nothing built, nothing tagged

    client.delete_model_version_tag(MODEL, v2, "TARGET_KIND_C")  # back to what was approved
    assert main(["export", "--targets", targets, "--output", "out", "--expect-plan-digest", approved]) == 0
    assert "The plan is the approved one" in capsys.readouterr().out
    assert export_tag(client, MODEL, v1, "KIND_C")["image"] == f"registry.example.com/foundry/{MODEL}:v{v1}"
    assert export_tag(client, MODEL, v2, "KIND_C") is None


def test_a_malformed_expected_digest_is_bad_input(workspace, versions, capsys) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["export", "--targets", str(_targets(workspace, "KIND_D")), "--expect-plan-digest", "approved"])
    assert exited.value.code == 2 and "is not a plan digest" in capsys.readouterr().err
