"""The export targets file: defaults, image naming, and every mistake reported with file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from domino_mlops.cli import main
from domino_mlops.desired.targets import load_targets, model_slug
from domino_mlops.errors import NotFound, ValidationFailed
from tests.support.exports import write_targets

REPO = Path(__file__).resolve().parents[2]


def test_the_example_file_is_valid() -> None:
    targets = load_targets(REPO / "docs" / "export_targets.example.yaml")
    assert targets.names == ("PLTR_FOUNDRY", "PARTNER_ECR")
    foundry = targets.select("PLTR_FOUNDRY")[0]
    assert (foundry.mode, foundry.request_tag, foundry.done_tag) == (
        "build", "TARGET_PLTR_FOUNDRY", "domino_mlops.export.PLTR_FOUNDRY")


def test_defaults_name_the_image_registry_model_and_version(tmp_path: Path) -> None:
    (target,) = load_targets(write_targets(tmp_path, """
        targets:
          - name: FOUNDRY
            mode: build
            registry: registry.example.com:5000/team/models
        """)).items
    assert target.image_for("Churn Model", "7") == "registry.example.com:5000/team/models/churn-model:v7"
    assert (target.registry_host, target.repository_for("x")) == ("registry.example.com:5000", "team/models/x")
    assert target.credentials.username is None and target.line == 2


def test_repository_image_tag_and_request_tag_can_be_set(tmp_path: Path) -> None:
    (target,) = load_targets(write_targets(tmp_path, """
        targets:
          - name: ECR
            mode: server
            tag: export.ecr
            registry: 123.dkr.ecr.eu-west-1.amazonaws.com
            repository: ml/{model}-image
            image_tag: "{version}-prod"
            models: [churn]
        """)).items
    assert target.image_for("churn", "3") == "123.dkr.ecr.eu-west-1.amazonaws.com/ml/churn-image:3-prod"
    assert target.request_tag == "export.ecr" and target.wants("churn") and not target.wants("fraud")


def test_select_names_an_unknown_target(tmp_path: Path) -> None:
    targets = load_targets(write_targets(tmp_path, "targets:\n  - {name: A, mode: build, registry: r.io}\n"))
    assert targets.select("a")[0].name == "A"
    with pytest.raises(NotFound, match="export target 'B' is not defined"):
        targets.select("B")


@pytest.mark.parametrize("name", ["Churn_Model", "a/b c", "../x", "..."])
def test_model_slugs_are_image_safe(name: str) -> None:
    assert model_slug(name).replace("-", "").replace(".", "").replace("_", "").isalnum()


BROKEN = [
    ("lower-case-name", "targets:\n  - name: foundry\n    mode: build\n    registry: r.io\n", 2,
     "$.targets[0].name", "does not match"),
    ("unknown-mode", "targets:\n  - name: A\n    mode: push\n    registry: r.io\n", 3,
     "$.targets[0].mode", '"push" is not one of "build", "server"'),
    ("scheme-in-registry", "targets:\n  - name: A\n    mode: build\n    registry: https://r.io\n", 4,
     "$.targets[0].registry", "does not match"),
    ("pasted-secret", "targets:\n  - name: A\n    mode: build\n    registry: r.io\n    credentials:\n"
     "      username: BOT\n      password: ghp_abc123secret\n", 7, "$.targets[0].credentials.password",
     "must name the environment variable"),
    ("half-credentials", "targets:\n  - name: A\n    mode: build\n    registry: r.io\n    credentials:\n"
     "      username: BOT\n", 5, "$.targets[0].credentials", "username and password, or neither"),
    ("twice", "targets:\n  - {name: A, mode: build, registry: r.io}\n  - {name: A, mode: server, registry: r.io}\n",
     3, "$.targets[1].name", "defined twice"),
    ("unknown-placeholder", "targets:\n  - name: A\n    mode: build\n    registry: r.io\n    image_tag: '{tag}'\n", 5,
     "$.targets[0].image_tag", "unknown placeholder {tag}"),
    ("templates-missing", "targets:\n  - name: A\n    mode: build\n    registry: r.io\n    templates: no/such/dir\n", 5,
     "$.targets[0].templates", "no folder 'no/such/dir'"),
    ("unknown-field", "targets:\n  - name: A\n    mode: build\n    registry: r.io\n    regsitry: x\n", 2,
     "$.targets[0]", "unknown field 'regsitry'"),
    ("yaml-syntax", "targets:\n  - name: A\n    mode: [build\n", 4, "$", "invalid YAML"),
]


@pytest.mark.parametrize("case", BROKEN, ids=[c[0] for c in BROKEN])
def test_each_mistake_names_its_line(tmp_path: Path, case) -> None:
    _, text, line, path, message = case
    file = write_targets(tmp_path, text)
    with pytest.raises(ValidationFailed) as caught:
        load_targets(file)
    (issue,) = caught.value.issues
    assert (issue.file, issue.line, issue.path) == (str(file), line, path), issue
    assert message in issue.message
    assert "ghp_abc123secret" not in issue.message


def test_the_cli_exits_2_with_file_line_and_hint(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    file = write_targets(tmp_path, "targets:\n  - name: A\n    mode: build\n    registry: r.io\n    image_tag: '{x}'\n")

    assert main(["export", "--targets", str(file), "--plan-only"]) == 2

    err = capsys.readouterr().err
    assert f"error: {file}:5: $.targets[0].image_tag: unknown placeholder {{x}}" in err
    assert "hint: Fix the listed places in" in err and "export_targets.schema.json" in err


def test_no_targets_file_at_the_default_place_is_nothing_to_do(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["export"]) == 0
    assert "No scripts/export_targets.yaml" in capsys.readouterr().err
    assert main(["export", "--targets", "elsewhere.yaml"]) == 2  # named, so it must be there
    assert "elsewhere.yaml: $: file not found; create it or pass --targets" in capsys.readouterr().err


@pytest.mark.parametrize("repository", ["ml/../x", "../up", "a//b", "./a", "a/", "-a"])
def test_a_repository_with_empty_dot_or_dot_dot_components_is_refused_at_its_line(tmp_path: Path,
                                                                                  repository: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        load_targets(write_targets(tmp_path, f"""
            targets:
              - name: T
                mode: build
                registry: registry.example.com
                repository: "{repository}"
            """))
    (issue,) = raised.value.issues
    assert issue.line == 5 and "is not an image repository" in issue.message


def test_a_monitoring_block_is_read_with_its_defaults_and_alert_ranges(tmp_path: Path) -> None:
    (target,) = load_targets(write_targets(tmp_path, """
        targets:
          - name: FOUNDRY
            mode: build
            registry: registry.example.com
            monitoring:
              model_monitoring_id: mon-1
              alerts:
                latency_p95_ms: {condition: lessThan, upper_limit: 500}
                request_count: {condition: between, lower_limit: 1, upper_limit: 1000}
        """)).items
    monitoring = target.monitoring
    assert monitoring is not None
    assert (monitoring.model_monitoring_id, monitoring.interval, monitoring.capture_inputs) == ("mon-1", 60, False)
    assert dict(monitoring.alerts)["latency_p95_ms"].upper_limit == 500
    assert dict(monitoring.alerts)["request_count"].lower_limit == 1


def test_the_example_file_monitors_its_build_target() -> None:
    foundry = load_targets(REPO / "docs" / "export_targets.example.yaml").select("PLTR_FOUNDRY")[0]
    assert foundry.monitoring is not None and foundry.monitoring.capture_inputs


@pytest.mark.parametrize("block, line, message", [
    ("      monitoring: {interval: 60}\n", 5, "missing required field 'model_monitoring_id'"),
    ("      monitoring:\n        model_monitoring_id: m\n        alerts:\n"
     "          latency_p95_ms: {condition: lessThan, lower_limit: 5}\n", 8, "condition lessThan needs upper_limit"),
    ("      monitoring:\n        model_monitoring_id: m\n        alerts:\n"
     "          error_rate: {condition: above, upper_limit: 5}\n", 8, "above"),
    ("      monitoring:\n        model_monitoring_id: m\n        alerts:\n"
     "          error_rate: {condition: between, lower_limit: 5, upper_limit: 1}\n", 8, "is above upper_limit"),
])
def test_a_bad_monitoring_block_is_refused_at_its_line(tmp_path: Path, block: str, line: int, message: str) -> None:
    file = tmp_path / "targets.yaml"
    file.write_text("targets:\n  - name: A\n    mode: build\n    registry: r.io\n" + block.replace("      ", "    ", 1))
    with pytest.raises(ValidationFailed) as caught:
        load_targets(file)
    issues = caught.value.issues
    assert any(issue.line == line and message in issue.message for issue in issues), issues


def test_alerts_under_keys_that_are_no_text_are_reported_at_their_own_lines(tmp_path: Path) -> None:
    # YAML reads `~:` as a null key and `7:` as a number: each is named as the file's lines record it.
    file = tmp_path / "targets.yaml"
    file.write_text("targets:\n  - name: A\n    mode: build\n    registry: r.io\n    monitoring:\n"
                    "      model_monitoring_id: m\n      alerts:\n        ~: 5\n        7: {condition: nope}\n")
    with pytest.raises(ValidationFailed) as caught:
        load_targets(file)
    assert [(i.line, i.path) for i in caught.value.issues] == [
        (8, "$.targets[0].monitoring.alerts.None"), (9, '$.targets[0].monitoring.alerts["7"].condition')]
