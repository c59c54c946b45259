"""The environments file: defaults, ordering rules, YAML errors with lines, cross-file checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from domino_mlops.desired.environments import default_environments, load_environments, read_environments
from domino_mlops.desired.load import load_desired
from domino_mlops.errors import NotFound, ValidationFailed

REPO = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str, name: str = "environments.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_environments_file_is_valid_and_ordered() -> None:
    envs = load_environments(REPO / "scripts" / "environments.yaml")
    assert envs.names == ("DEV", "STAGE", "PROD")
    prod = envs.get("PROD")
    assert (prod.alias, prod.stage_mode, prod.stage, prod.requires) == ("production", "both", "Production", "STAGE")
    assert prod.waves == (("medium-k8s",), ("prod-small",)) and prod.hardware_tiers == ("medium-k8s", "prod-small")
    assert prod.github_environment == "production" and prod.replicas == 2


def test_minimal_file_gets_conventional_aliases_and_stages(tmp_path: Path) -> None:
    envs = load_environments(write(tmp_path, "environments:\n  - name: STAGE\n  - name: PROD\n    requires: STAGE\n"))
    stage, prod = envs.items
    assert (stage.alias, stage.stage, stage.stage_mode) == ("staging", "Staging", "alias")
    assert (prod.alias, prod.stage, prod.github_environment) == ("production", "Production", "prod")
    assert stage.uses_alias and not stage.uses_stage


def test_any_names_work(tmp_path: Path) -> None:
    envs = load_environments(write(tmp_path, "environments:\n  - name: canary\n  - name: live\n    requires: canary\n"))
    assert [e.alias for e in envs.items] == ["canary", "live"]


def test_default_environments_when_no_file() -> None:
    envs = default_environments()
    assert envs.names == ("DEV", "STAGE", "PROD") and envs.get("PROD").requires == "STAGE"
    with pytest.raises(NotFound, match="QA"):
        envs.get("QA")


BROKEN = [
    ("yaml-syntax", "environments:\n  - name: DEV\n    mlflow: {alias: [dev\n", 4, "$", "invalid YAML"),
    ("unknown-requires", "environments:\n  - name: DEV\n  - name: PROD\n    requires: QA\n", 4,
     "$.environments[1].requires", "unknown environment 'QA'"),
    ("requires-later", "environments:\n  - name: PROD\n    requires: DEV\n  - name: DEV\n", 3,
     "$.environments[0].requires", "must come before"),
    ("bad-stage-mode", "environments:\n  - name: DEV\n    mlflow:\n      stage_mode: maybe\n", 4,
     "$.environments[0].mlflow.stage_mode", '"maybe" is not one of'),
    ("duplicate-name", "environments:\n  - name: DEV\n  - name: DEV\n", 3, "$.environments[1].name", "defined twice"),
    ("wrong-type-waves", "environments:\n  - name: DEV\n    domino:\n      waves: small-k8s\n", 4,
     "$.environments[0].domino.waves", "must be a list"),
    ("unknown-key", "environments:\n  - name: DEV\n    hardware_tier: small\n", 2, "$.environments[0]",
     "unknown field 'hardware_tier'"),
    ("stage-mode-without-stage", "environments:\n  - name: DEV\n    mlflow:\n      stage_mode: stage\n", 3,
     "$.environments[0].mlflow", "needs mlflow.stage"),
    ("empty", "", 1, "$", "must be a mapping"),
    # A smoke test that may wait forever is a deploy that may hang forever.
    ("endless-smoke-timeout", "environments:\n  - name: DEV\n    smoke_test:\n      timeout_seconds: .inf\n", 4,
     "$.environments[0].smoke_test.timeout_seconds", "greater than the maximum of 3600"),
    # Patterns are ECMA-262's: $ is the end, not "before a final newline" as in Python's re.
    ("name-ending-in-newline", 'environments:\n  - name: "PROD\\n"\n', 2, "$.environments[0].name",
     "does not match the allowed form"),
    ("github-environment-ending-in-newline", 'environments:\n  - name: DEV\n    github_environment: "dev\\n"\n', 3,
     "$.environments[0].github_environment", "is not a GitHub environment name: one line"),
]


@pytest.mark.parametrize(("case", "text", "line", "path", "message"), BROKEN, ids=[c[0] for c in BROKEN])
def test_broken_environments_give_clear_errors(tmp_path: Path, case: str, text: str, line: int, path: str,
                                               message: str) -> None:
    envs, issues = read_environments(write(tmp_path, text))
    assert envs is None
    assert len(issues) == 1, issues
    (issue,) = issues
    assert (issue.line, issue.path) == (line, path), issue
    assert message in issue.message


def test_manifest_naming_an_unknown_environment_is_refused(tmp_path: Path) -> None:
    manifest = write(tmp_path, '{"p1": [\n {"name": "a", "version": 1, "environments": ["QA"]}\n]}', "m.json")
    envs = write(tmp_path, "environments:\n  - name: DEV\n  - name: PROD\n")
    with pytest.raises(ValidationFailed) as info:
        load_desired(manifest, envs)
    (issue,) = info.value.issues
    assert issue.line == 2 and issue.path == "$.p1[0].environments"
    assert "unknown environment 'QA'" in issue.message and "DEV, PROD" in issue.message


def test_errors_in_both_files_are_reported_together(tmp_path: Path) -> None:
    manifest = write(tmp_path, '{"p1": [{"name": "a", "version": "latest"}]}', "m.json")
    envs = write(tmp_path, "environments:\n  - name: DEV\n    requires: NOPE\n")
    with pytest.raises(ValidationFailed) as info:
        load_desired(manifest, envs)
    assert {i.file for i in info.value.issues} == {str(manifest), str(envs)}


# The separated topology: the protected environment's own registered model, named by a template.
TOPOLOGY = [
    ("template-without-model", '    mlflow: {registered_model: "churn-prod"}\n', "$.environments[1].mlflow.registered_model",
     "does not match"),
    ("template-twice", '    mlflow: {registered_model: "{model}-{model}"}\n', "$.environments[1].mlflow.registered_model",
     "does not match"),
    ("template-bad-name", '    mlflow: {registered_model: "prod/{model}"}\n', "$.environments[1].mlflow.registered_model",
     "does not make a valid MLflow model name"),
    ("own-server-not-yet", '    mlflow: {tracking_uri_variable: PROD_MLFLOW_URI}\n',
     "$.environments[1].mlflow.tracking_uri_variable", "not supported yet"),
]


@pytest.mark.parametrize(("case", "mlflow", "path", "message"), TOPOLOGY, ids=[c[0] for c in TOPOLOGY])
def test_separated_topology_settings_are_checked(tmp_path: Path, case: str, mlflow: str, path: str,
                                                 message: str) -> None:
    text = "environments:\n  - name: STAGE\n  - name: PROD\n    requires: STAGE\n" + mlflow
    envs, issues = read_environments(write(tmp_path, text))
    assert envs is None
    (issue,) = issues
    assert (issue.line, issue.path) == (5, path), issue
    assert message in issue.message


def test_registered_model_template_names_each_models_own(tmp_path: Path) -> None:
    text = ("environments:\n  - name: STAGE\n  - name: PROD\n    requires: STAGE\n"
            '    mlflow: {registered_model: "{model}-prod"}\n')
    stage, prod = load_environments(write(tmp_path, text)).items
    assert prod.registered_model == "{model}-prod" and prod.tracking_uri_variable is None
    assert prod.registered_model_name("churn") == "churn-prod"
    assert stage.registered_model is None and stage.registered_model_name("churn") == "churn"


@pytest.mark.parametrize("field, value, says", [
    ("github_environment", '"stag\\ning"', "is not a GitHub environment name: one line, no control characters"),
    ("domino", '{project_id: "../other project"}', "is not a Domino project id (letters, digits"),
])
def test_a_name_that_would_reach_github_or_domino_malformed_is_refused_at_its_line(tmp_path: Path, field, value,
                                                                                    says) -> None:
    path = write(tmp_path, f"environments:\n  - name: DEV\n  - name: STAGE\n    {field}: {value}\n")
    environments, issues = read_environments(path)
    assert environments is None
    (issue,) = issues
    assert issue.line == 4 and says in issue.message
