"""The export's build context and container tools without a registry: templates, overrides,
placeholders with lines, podman's digest file, a secret the tool echoes, the tool's environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from domino_mlops.apply.export_build import ContainerTool, find_tool
from domino_mlops.apply.export_context import lay_out, python_version, render
from domino_mlops.desired.targets import Credentials, Target
from domino_mlops.errors import ConfigError, ExportFailed, ValidationFailed
from domino_mlops.observed.registry_credentials import BUNDLE, Login, registry_login
from domino_mlops.plan.export_plan import ExportItem
from tests.support.exports import FAKE_DIGEST, calls, fake_tool

TARGET = Target("FOUNDRY", "build", "registry.example.com/foundry",
                credentials=Credentials("FOUNDRY_USER", "FOUNDRY_TOKEN"))
ITEM = ExportItem("FOUNDRY", "build", "Churn's model", "4", TARGET.image_for("Churn's model", "4"), "export",
                  run_id="r1")


def fake_download(model: str, version: str, dst: str) -> str:
    (Path(dst) / "MLmodel").write_text("flavors: {}\n")
    (Path(dst) / "python_env.yaml").write_text("python: 3.12.4\nbuild_dependencies: [pip]\n")
    return dst


def test_a_context_is_rendered_from_the_shipped_templates(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    context = lay_out(tmp_path / "out", ITEM, TARGET, fake_download)

    assert context.path == tmp_path / "out" / "churn-s-model" / "v4"
    assert context.files == ("Dockerfile", "agent/Dockerfile", "client/requirements-rabbitmq.txt",
                             "client/server.py", "client/spool.py", "create_docker_image.sh")
    assert '"domino-mlops[monitor]==' in (context.path / "agent" / "Dockerfile").read_text()  # this release
    dockerfile = (context.path / "Dockerfile").read_text()
    assert dockerfile.startswith("# Churn_s model version 4 as registry.example.com/foundry/churn-s-model:v4")
    assert "FROM python:3.12-slim" in dockerfile  # the Python the model was saved with
    assert not list((tmp_path / "out" / "churn-s-model").glob("*.partial"))


def test_a_repository_folder_replaces_and_adds_templates(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    own = tmp_path / "scripts" / "export_templates"
    (own / "client").mkdir(parents=True)
    (own / "Dockerfile").write_text("FROM internal.example.com/python:{{PYTHON_VERSION}}\nLABEL t={{TARGET}}\n")
    (own / "client" / "extra.txt").write_text("for {{MODEL_SLUG}}\n")

    context = lay_out(tmp_path / "out", ITEM, TARGET, fake_download)

    assert (context.path / "Dockerfile").read_text() == "FROM internal.example.com/python:3.12\nLABEL t=FOUNDRY\n"
    assert (context.path / "client" / "extra.txt").read_text() == "for churn-s-model\n"
    assert (context.path / "client" / "server.py").is_file()  # the shipped one, not replaced


def test_an_unknown_placeholder_names_the_template_and_line(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    own = tmp_path / "mine"
    own.mkdir()
    (own / "Dockerfile").write_text("FROM python:3.11\n\nLABEL x={{REGSTRY}}\n")
    target = Target("FOUNDRY", "build", "r.io", templates=str(own))

    with pytest.raises(ValidationFailed) as caught:
        lay_out(tmp_path / "out", ITEM, target, fake_download)

    (issue,) = caught.value.issues
    assert (issue.file, issue.line, issue.path) == (str(own / "Dockerfile"), 3, "{{REGSTRY}}")
    assert "known: DMLOPS_VERSION, IMAGE" in issue.message and not (tmp_path / "out" / "churn-s-model" / "v4").exists()


def test_a_version_without_mlmodel_is_not_an_mlflow_model(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="has no MLmodel file"):
        lay_out(tmp_path, ITEM, TARGET, lambda model, version, dst: dst)


def test_render_and_python_version_defaults(tmp_path: Path) -> None:
    assert render("a {{ X }} b", {"X": "1"}, file="f") == "a 1 b"
    assert python_version(tmp_path) == "3.11"


def test_podman_hands_over_the_digest_in_a_file_and_sees_no_credential(tmp_path: Path) -> None:
    log = tmp_path / "podman.log"
    podman = fake_tool(tmp_path / "bin", log, name="podman")
    secret = "hunter2-registry"
    environ = {"PATH": str(tmp_path / "bin"), "FOUNDRY_TOKEN": secret, "FOUNDRY_USER": "robot"}

    with ContainerTool(str(podman), hide={"FOUNDRY_TOKEN", "FOUNDRY_USER"}, environ=environ) as tool:
        tool.login(Login("robot", secret, "registry.example.com"))
        tool.build(tmp_path, "registry.example.com/x:v1")
        assert tool.push("registry.example.com/x:v1") == FAKE_DIGEST
        auth_dir = tool._env["DOCKER_CONFIG"]

    made = calls(log)
    assert made[2]["argv"][:2] == ["push", "--digestfile"] and all(c["env"] == [] for c in made)
    assert made[0]["stdin"] == secret and secret not in json.dumps([c["argv"] for c in made])
    assert not Path(auth_dir).exists()  # the login's auth file went with the tool


def test_a_failing_tool_is_export_failed_without_the_secret(tmp_path: Path) -> None:
    docker = fake_tool(tmp_path / "bin", tmp_path / "log", fail_on="login")
    with ContainerTool(str(docker), environ={"PATH": "/usr/bin:/bin"}) as tool:
        with pytest.raises(ExportFailed) as caught:
            tool.login(Login("robot", "s3cret-value", "registry.example.com"))
    assert "login to registry.example.com failed (docker exit code 1)" in caught.value.message
    assert "s3cret-value" not in caught.value.message + caught.value.log_text  # the tool echoed it
    assert "denied for ***" in caught.value.log_text
    assert "registry user name and password" in caught.value.hint


def test_the_tool_is_found_in_order_or_named(tmp_path: Path) -> None:
    fake_tool(tmp_path / "bin", tmp_path / "log", name="buildah")
    fake_tool(tmp_path / "bin", tmp_path / "log", name="podman")
    assert find_tool({"PATH": str(tmp_path / "bin")}) == str(tmp_path / "bin" / "podman")
    assert find_tool({"PATH": str(tmp_path / "bin"), "CONTAINER_TOOL": "buildah"}) == str(tmp_path / "bin" / "buildah")
    assert find_tool({"PATH": str(tmp_path / "nothing")}) is None


def test_credentials_come_from_their_variables_or_the_json_bundle() -> None:
    masked: list[str] = []
    assert registry_login(TARGET, {"FOUNDRY_USER": "u", "FOUNDRY_TOKEN": "t"}, on_secret=masked.append) == \
        Login("u", "t", "registry.example.com")
    bundle = json.dumps({"FOUNDRY_USER": "u2", "FOUNDRY_TOKEN": "t2"})
    assert registry_login(TARGET, {BUNDLE: bundle}, on_secret=masked.append).password == "t2"
    assert {"u", "t", "t2", bundle} <= set(masked)
    assert registry_login(Target("OPEN", "build", "r.io"), {}) is None
    with pytest.raises(ConfigError, match="not a JSON object"):
        registry_login(TARGET, {BUNDLE: "t2"})
