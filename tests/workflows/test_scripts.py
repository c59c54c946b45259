"""actions/run.sh and actions/install.sh, run directly with a stand-in CLI: which flags and which
variables reach `domino-mlops` for each set of action inputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUN_SH = REPO / "actions" / "run.sh"
INSTALL_SH = REPO / "actions" / "install.sh"

# Prints what it was called with: its argv and the variables the real CLI would read.
FAKE_CLI = f"""#!{sys.executable}
import json, os, sys
keys = ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_TOKEN", "DOMINO_API_HOST", "DOMINO_USER_API_KEY", "GITHUB_TOKEN",
        "DMLOPS_PROJECT_TOKEN", "DMLOPS_GITHUB_TOKEN", "DMLOPS_DOMINO_API_KEY", "DMLOPS_MLFLOW_TRACKING_TOKEN")
print(json.dumps({{"argv": sys.argv[1:], "env": {{k: os.environ[k] for k in keys if k in os.environ}}}}))
"""


def run_sh(tmp_path: Path, command: str, **env: str) -> subprocess.CompletedProcess[str]:
    cli = tmp_path / "dmlops" / "bin" / "domino-mlops"
    cli.parent.mkdir(parents=True, exist_ok=True)
    cli.write_text(FAKE_CLI)
    cli.chmod(0o755)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DMLOPS_", "MLFLOW_", "DOMINO_", "GITHUB_"))}
    return subprocess.run(["bash", str(RUN_SH), command], env={**base, "RUNNER_TEMP": str(tmp_path), **env},
                          capture_output=True, text=True, check=False)


def called(tmp_path: Path, command: str, **env: str) -> dict:
    done = run_sh(tmp_path, command, **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_deploy_gets_every_given_input_as_a_flag(tmp_path: Path) -> None:
    seen = called(tmp_path, "deploy", DMLOPS_ENVIRONMENT="STAGE", DMLOPS_PROJECT="p1", DMLOPS_MODEL="churn",
                  DMLOPS_VERSION="@candidate", DMLOPS_MAX_PARALLEL="2", DMLOPS_MANIFEST="m.json",
                  DMLOPS_ENVIRONMENTS_FILE="e.yaml", DMLOPS_PR_COMMENT="false", DMLOPS_PROJECT_TOKEN="tok")
    assert seen["argv"] == ["deploy", "--manifest", "m.json", "--environments", "e.yaml", "--env", "STAGE",
                            "--project", "p1", "--model", "churn", "--version", "@candidate", "--max-parallel", "2"]
    assert seen["env"] == {"DMLOPS_PROJECT_TOKEN": "tok"}  # the CLI masks it and makes it PROJECT_ID_p1


def test_empty_inputs_add_nothing_and_hide_nothing(tmp_path: Path) -> None:
    """An empty action input must not blank a variable the job itself set."""
    seen = called(tmp_path, "promote", DMLOPS_ENVIRONMENT="", DMLOPS_PROJECT="", DMLOPS_MLFLOW_TRACKING_URI="",
                  DMLOPS_PROJECT_TOKEN="", MLFLOW_TRACKING_URI="http://from-the-job", DOMINO_API_HOST="https://d")
    assert seen["argv"] == ["promote"]
    assert seen["env"] == {"MLFLOW_TRACKING_URI": "http://from-the-job", "DOMINO_API_HOST": "https://d"}


def test_credentials_move_to_the_names_the_cli_reads(tmp_path: Path) -> None:
    seen = called(tmp_path, "plan", DMLOPS_ENVIRONMENT="STAGE", DMLOPS_MLFLOW_TRACKING_URI="http://m",
                  DMLOPS_MLFLOW_TRACKING_TOKEN="mt", DMLOPS_DOMINO_API_HOST="https://d", DMLOPS_DOMINO_API_KEY="k",
                  DMLOPS_GITHUB_TOKEN="gh")
    assert seen["argv"] == ["plan", "--env", "STAGE"]
    # The job's token goes along always: a protected environment's approval is asked of GitHub.
    assert seen["env"] == {"MLFLOW_TRACKING_URI": "http://m", "MLFLOW_TRACKING_TOKEN": "mt",
                           "DOMINO_API_HOST": "https://d", "DOMINO_USER_API_KEY": "k", "GITHUB_TOKEN": "gh"}


def test_export_gets_the_registry_logins_under_the_name_the_cli_reads(tmp_path: Path) -> None:
    cli = tmp_path / "dmlops" / "bin" / "domino-mlops"
    cli.parent.mkdir(parents=True)
    cli.write_text(FAKE_CLI.replace('"GITHUB_TOKEN",', '"GITHUB_TOKEN", "EXPORT_REGISTRY_CREDENTIALS", '
                                    '"DMLOPS_REGISTRY_CREDENTIALS",'))
    cli.chmod(0o755)
    seen = json.loads(subprocess.run(["bash", str(RUN_SH), "export"], capture_output=True, text=True, check=True,
                                     env={"PATH": os.environ["PATH"], "RUNNER_TEMP": str(tmp_path),
                                          "DMLOPS_REGISTRY_CREDENTIALS": '{"FOUNDRY_TOKEN": "t"}'}).stdout)
    assert seen["env"] == {"EXPORT_REGISTRY_CREDENTIALS": '{"FOUNDRY_TOKEN": "t"}'}  # the copy is gone


def test_pr_comment_brings_the_github_token(tmp_path: Path) -> None:
    seen = called(tmp_path, "plan", DMLOPS_ENVIRONMENT="STAGE", DMLOPS_PR_COMMENT="true", DMLOPS_GITHUB_TOKEN="gh")
    assert seen["argv"] == ["plan", "--env", "STAGE", "--pr-comment"] and seen["env"] == {"GITHUB_TOKEN": "gh"}


DIGEST = "ab" * 32


@pytest.mark.parametrize("command, env, argv", [
    ("validate", {"DMLOPS_ENVIRONMENT": "STAGE", "DMLOPS_MODEL": "x", "DMLOPS_PR_COMMENT": "true"}, ["validate"]),
    ("projects", {"DMLOPS_ENVIRONMENT": "PROD", "DMLOPS_MODEL": "x"}, ["projects", "--env", "PROD"]),
    ("projects", {"DMLOPS_ENVIRONMENT": "PROD", "DMLOPS_PROJECT": 'p1"x'}, ["projects", "--env", "PROD", "--project", 'p1"x']),
    ("plan", {"DMLOPS_ENVIRONMENT": "PROD", "DMLOPS_PROJECT": "p1", "DMLOPS_PLAN_AS": "promote"},
     ["plan", "--env", "PROD", "--project", "p1", "--as", "promote"]),
    ("environments", {"DMLOPS_ENVIRONMENT": "PROD", "DMLOPS_PROJECT": "p1"}, ["environments", "--env", "PROD"]),
    ("environments", {"DMLOPS_ENVIRONMENT": "PROD", "DMLOPS_LEASE_WAIT": "600"}, ["environments", "--env", "PROD"]),
    ("rollback", {"DMLOPS_MODEL": "churn", "DMLOPS_VERSION": "3", "DMLOPS_PROJECT": "p1"},
     ["rollback", "--project", "p1", "--model", "churn", "--to", "3"]),
    # The rollback job applies only the approved plan (digest and from); its plan job only plans.
    ("rollback", {"DMLOPS_MODEL": "churn", "DMLOPS_LEASE_WAIT": "900", "DMLOPS_EXPECT_PLAN_DIGEST": DIGEST,
                  "DMLOPS_EXPECT_FROM": "4"},
     ["rollback", "--model", "churn", "--expect-plan-digest", DIGEST, "--lease-wait", "900", "--expect-from", "4"]),
    ("rollback", {"DMLOPS_MODEL": "churn", "DMLOPS_PLAN_ONLY": "true", "DMLOPS_LEASE_WAIT": "900",
                  "DMLOPS_EXPECT_PLAN_DIGEST": DIGEST, "DMLOPS_EXPECT_FROM": "4"},
     ["rollback", "--model", "churn", "--plan-only"]),
    ("promote", {"DMLOPS_PROJECT": "p1", "DMLOPS_EXPECT_PLAN_DIGEST": DIGEST, "DMLOPS_LEASE_WAIT": "600"},
     ["promote", "--project", "p1", "--expect-plan-digest", DIGEST, "--lease-wait", "600"]),
    ("rollout", {"DMLOPS_ENVIRONMENT": "STAGE", "DMLOPS_PROJECT": "p1", "DMLOPS_EXPECT_PLAN_DIGEST": DIGEST,
                 "DMLOPS_LEASE_WAIT": "600", "DMLOPS_MAX_PARALLEL": "2", "DMLOPS_MODEL": "x", "DMLOPS_PR_COMMENT": "true"},
     ["rollout", "--env", "STAGE", "--project", "p1", "--expect-plan-digest", DIGEST, "--lease-wait", "600",
      "--max-parallel", "2"]),
    ("plan", {"DMLOPS_ENVIRONMENT": "PROD", "DMLOPS_EXPECT_PLAN_DIGEST": DIGEST, "DMLOPS_LEASE_WAIT": "600"},
     ["plan", "--env", "PROD"]),
    ("history", {"DMLOPS_MODEL": "churn", "DMLOPS_MANIFEST": "m.json"}, ["history", "--model", "churn"]),
    ("export", {"DMLOPS_TARGET": "FOUNDRY", "DMLOPS_TARGETS_FILE": "t.yaml", "DMLOPS_CONTEXT_ONLY": "true",
                "DMLOPS_OUTPUT": "out", "DMLOPS_EXPORT_TIMEOUT": "60", "DMLOPS_MODEL": "x", "DMLOPS_PR_COMMENT": "true"},
     ["export", "--targets", "t.yaml", "--target", "FOUNDRY", "--output", "out", "--export-timeout", "60",
      "--context-only", "--pr-comment"]),
    ("export", {"DMLOPS_CONTEXT_ONLY": "false", "DMLOPS_TARGET": ""}, ["export"]),
])
def test_each_command_gets_only_the_flags_it_takes(tmp_path: Path, command: str, env: dict, argv: list) -> None:
    assert called(tmp_path, command, **env)["argv"] == argv


@pytest.mark.parametrize("command, env, message", [
    ("explode", {}, "unknown command 'explode'"),
    ("plan", {"DMLOPS_PR_COMMENT": "yes"}, "pr-comment must be 'true' or 'false'"),
    ("export", {"DMLOPS_CONTEXT_ONLY": "yes"}, "context-only must be 'true' or 'false'"),
    ("rollback", {"DMLOPS_PLAN_ONLY": "yes"}, "plan-only must be 'true' or 'false'"),
])
def test_bad_input_is_exit_2(tmp_path: Path, command: str, env: dict, message: str) -> None:
    done = run_sh(tmp_path, command, **env)
    assert done.returncode == 2 and message in done.stderr and done.stdout == ""


def test_install_reuses_a_given_python(tmp_path: Path) -> None:
    env = {**os.environ, "RUNNER_TEMP": str(tmp_path), "DMLOPS_PYTHON": sys.executable}
    done = subprocess.run(["bash", str(INSTALL_SH)], env=env, capture_output=True, text=True, check=True)
    assert f"Using domino-mlops from {sys.executable}" in done.stdout
    version = subprocess.run([str(tmp_path / "dmlops" / "bin" / "domino-mlops"), "--version"],
                             capture_output=True, text=True, check=True)
    assert version.stdout.startswith("domino-mlops ")


def test_install_refuses_a_python_without_the_library(tmp_path: Path) -> None:
    env = {**os.environ, "RUNNER_TEMP": str(tmp_path), "DMLOPS_PYTHON": "/usr/bin/env"}
    done = subprocess.run(["bash", str(INSTALL_SH)], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "cannot import domino_mlops" in done.stderr


def test_install_refuses_an_unknown_installer(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DMLOPS_")}
    env.update(RUNNER_TEMP=str(tmp_path), DMLOPS_INSTALLER="conda")
    done = subprocess.run(["bash", str(INSTALL_SH)], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "DMLOPS_INSTALLER=conda is neither uv nor pip" in done.stderr
    assert not (tmp_path / "dmlops" / "bin" / "domino-mlops").exists()
