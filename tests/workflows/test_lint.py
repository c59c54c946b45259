"""The workflows and composite actions: scanners clean, and the rules of DESIGN.md held by tests.

zizmor (offline) and check-jsonschema run as the user would run them; the structural tests say
in plain terms what the scanners do not check: no `${{ }}` inside `run:`, every remote action
pinned by SHA, secrets only by name (or PROJECT_ID_<id> for the job's own project), minimal
permissions, a guarded production job.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
ACTIONS = [REPO / "action.yml", *sorted((REPO / "actions").glob("*/action.yml"))]
BIN = Path(sys.executable).parent
SHA_PIN = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
SECRET_REF = re.compile(r"secrets(\.|\[)")
ALLOWED_SECRET = re.compile(r"^secrets\.[A-Z][A-Z0-9_]*$|^secrets\[format\('PROJECT_ID_\{0\}', (matrix|inputs)\.project\)\]$")
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    return on if isinstance(on, dict) else {name: None for name in ([on] if isinstance(on, str) else on)}


def steps_of(doc: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    if "jobs" in doc:
        return [(job_id, step) for job_id, job in doc["jobs"].items() for step in job.get("steps", [])]
    return [("runs", step) for step in doc["runs"].get("steps", [])]


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: it comes with the dev extra; run `make test`")
    return found


# --- the scanners ------------------------------------------------------------------------------


def test_zizmor_offline_reports_nothing() -> None:
    done = subprocess.run([tool("zizmor"), "--offline", "--no-progress", "action.yml", "actions", ".github/workflows"],
                          cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout + done.stderr


@pytest.mark.parametrize("schema, paths", [("vendor.github-workflows", WORKFLOWS), ("vendor.github-actions", ACTIONS)],
                         ids=["workflows", "actions"])
def test_check_jsonschema(schema: str, paths: list[Path]) -> None:
    done = subprocess.run([tool("check-jsonschema"), "--builtin-schema", schema, *map(str, paths)],
                          cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_expected_file_is_there() -> None:
    assert {p.name for p in WORKFLOWS} >= {"deploy-staging.yml", "promote-production.yml", "rollback.yml", "ci.yml"}
    assert {p.parent.name for p in ACTIONS[1:]} == {"deploy-to-staging", "promote-to-production", "rollback", "rollout"}


# --- rules across every workflow and action ---------------------------------------------------------


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=lambda p: str(p.relative_to(REPO)))
def test_no_expression_inside_run(path: Path) -> None:
    """Template injection: inputs reach the shell through env:, never ${{ }} in the script."""
    for where, step in steps_of(load(path)):
        assert "${{" not in str(step.get("run", "")), f"{where}: {step.get('run')}"


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=lambda p: str(p.relative_to(REPO)))
def test_remote_actions_are_pinned_by_sha_with_a_version_comment(path: Path) -> None:
    for line in path.read_text().splitlines():
        match = re.match(r"^\s*(?:- )?uses:\s*(\S+)\s*(#.*)?$", line)
        if not match or match[1].startswith("./"):
            continue
        assert SHA_PIN.match(match[1]), line
        assert match[2] and re.search(r"# v\d+\.\d+\.\d+", match[2]), f"no `# vX.Y.Z` comment: {line}"


@pytest.mark.parametrize("path", ACTIONS, ids=lambda p: str(p.relative_to(REPO)))
def test_composite_actions_are_thin(path: Path) -> None:
    """Two steps (install, run one command), no other actions, kebab-case inputs, all via DMLOPS_*."""
    action = load(path)
    steps = action["runs"]["steps"]
    assert action["runs"]["using"] == "composite" and len(steps) == 2
    assert all("uses" not in step for step in steps)
    install, run = steps
    assert "install.sh" in install["run"] and run["id"] == "run" and "run.sh" in run["run"]
    for name in action["inputs"]:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", name), name
    env = {**install.get("env", {}), **run.get("env", {})}
    assert all(key.startswith("DMLOPS_") for key in env)
    used = {m.group(1) for value in env.values() for m in re.finditer(r"inputs\.([\w-]+)", str(value))}
    assert used == set(action["inputs"]), "every input, and only inputs, reach the script"
    for name, output in action["outputs"].items():
        assert output["value"] == f"${{{{ steps.run.outputs.{name} }}}}"


@pytest.mark.parametrize("path", WORKFLOWS + ACTIONS, ids=lambda p: str(p.relative_to(REPO)))
def test_secrets_only_by_name_or_the_jobs_own_project(path: Path) -> None:
    text = path.read_text()
    assert "toJson(secrets)" not in text.replace(" ", "") and "tojson(secrets)" not in text.lower().replace(" ", "")
    jobs = load(path).get("jobs", {})
    assert all(job.get("secrets") != "inherit" for job in jobs.values())
    for expression in EXPRESSION.findall(text):
        expression = expression.strip()
        if SECRET_REF.search(expression):
            assert ALLOWED_SECRET.match(expression), expression


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_hygiene(path: Path) -> None:
    workflow = load(path)
    assert "pull_request_target" not in triggers(workflow)
    assert workflow.get("permissions") == {}, "no default token scopes; each job says what it needs"
    for job_id, job in workflow["jobs"].items():
        permissions = job.get("permissions")
        assert isinstance(permissions, dict), f"{job_id} has no permissions block"
        writes = {scope for scope, level in permissions.items() if level == "write"}
        assert writes <= {"pull-requests"}, f"{job_id} writes {writes}"
        if writes:
            assert any(str(s.get("with", {}).get("pr-comment", "")) not in ("", "false")
                       for s in job.get("steps", [])), f"{job_id} may write to pull requests but never comments"
        for step in job.get("steps", []):
            uses = str(step.get("uses", ""))
            if uses.startswith("actions/checkout@"):
                assert step.get("with", {}).get("persist-credentials") is False, f"{job_id}: persist-credentials"
            if uses.startswith("actions/setup-python@"):
                assert step.get("if") == "${{ !env.ACT }}", f"{job_id}: setup-python must be skipped under act"


def test_promotion_is_guarded_and_never_cancelled() -> None:
    workflow = load(REPO / ".github" / "workflows" / "promote-production.yml")
    on = triggers(workflow)
    assert set(on) == {"push", "workflow_dispatch", "workflow_call"}
    assert on["push"]["branches"] == ["main"] and on["push"]["paths"] == ["scripts/model_version.json"]
    first, promote = workflow["jobs"]["projects"], workflow["jobs"]["promote"]
    assert "command: projects" in yaml.safe_dump(first["steps"]) and promote["needs"] == "projects"
    assert promote["environment"] == "production"
    assert promote["concurrency"]["cancel-in-progress"] is False
    assert promote["concurrency"]["group"].startswith("promote-production")
    assert "matrix.project" in promote["strategy"]["matrix"]["project"] or "projects" in promote["strategy"]["matrix"]["project"]
    (step,) = [s for s in promote["steps"] if s.get("uses") == "./.domino-mlops/actions/promote-to-production"]
    assert step["with"]["project-token"] == "${{ secrets[format('PROJECT_ID_{0}', matrix.project)] }}"
    assert step["with"]["project"] == "${{ matrix.project }}"


def test_rollback_is_guarded_and_shares_the_promotion_group() -> None:
    workflow = load(REPO / ".github" / "workflows" / "rollback.yml")
    assert set(triggers(workflow)) == {"workflow_dispatch", "workflow_call"}
    job = workflow["jobs"]["rollback"]
    assert job["environment"] == "production" and job["concurrency"]["cancel-in-progress"] is False
    assert job["concurrency"]["group"] == "promote-production-${{ inputs.project }}"


def test_staging_deploys_each_project_with_its_own_secret_only() -> None:
    workflow = load(REPO / ".github" / "workflows" / "deploy-staging.yml")
    on = triggers(workflow)
    assert on["pull_request"]["paths"] == ["scripts/model_version.json"]
    assert {"model", "version"} <= set(on["workflow_dispatch"]["inputs"]) and "workflow_call" in on
    assert set(workflow["jobs"]) == {"validate", "plan", "deploy"}
    deploy = workflow["jobs"]["deploy"]
    assert deploy["environment"] == "staging" and deploy["concurrency"]["cancel-in-progress"] is False
    (step,) = [s for s in deploy["steps"] if s.get("uses") == "./.domino-mlops/actions/deploy-to-staging"]
    assert step["with"]["project-token"] == "${{ secrets[format('PROJECT_ID_{0}', matrix.project)] }}"
    assert "PROJECT_ID" not in yaml.safe_dump(workflow["jobs"]["plan"])  # the plan job gets no project token


REUSABLE = [p for p in WORKFLOWS if p.name != "ci.yml"]


@pytest.mark.parametrize("path", REUSABLE, ids=lambda p: p.name)
def test_reusable_from_another_repository(path: Path) -> None:
    """A called workflow's `./` is the caller's checkout: every job first puts the actions in
    .domino-mlops/ (this commit's copy, or the ref the caller names) and uses them only there."""
    workflow = load(path)
    call_inputs = triggers(workflow)["workflow_call"]["inputs"]
    assert call_inputs["domino-mlops-ref"]["default"] == "" and call_inputs["domino-mlops-repository"]["default"]
    for job_id, job in workflow["jobs"].items():
        steps = job["steps"]
        local = [i for i, step in enumerate(steps) if str(step.get("uses", "")).startswith("./")]
        assert local, f"{job_id} uses no domino-mlops action"
        assert all(str(steps[i]["uses"]).startswith("./.domino-mlops") for i in local), job_id
        fetch, copy = steps[1], steps[2]
        assert str(steps[0]["uses"]).startswith("actions/checkout@") and "repository" not in steps[0]["with"]
        assert str(fetch["uses"]).startswith("actions/checkout@") and fetch["if"] == "${{ inputs.domino-mlops-ref }}"
        assert fetch["with"] == {"repository": "${{ inputs.domino-mlops-repository }}",
                                 "ref": "${{ inputs.domino-mlops-ref }}", "path": ".domino-mlops",
                                 "persist-credentials": False}
        assert copy["if"] == "${{ !inputs.domino-mlops-ref }}" and "cp -R action.yml actions src" in copy["run"]
        assert min(local) > 2, f"{job_id}: an action runs before .domino-mlops/ is in place"


# --- the shell scripts behind the actions -------------------------------------------------------


@pytest.mark.parametrize("script", ["install.sh", "run.sh"])
def test_scripts_parse_and_speak_no_workflow_commands(script: str) -> None:
    """report/github.py is the one place that writes `::` commands and $GITHUB_OUTPUT."""
    path = REPO / "actions" / script
    subprocess.run(["bash", "-n", str(path)], check=True)
    text = path.read_text()
    assert "::" not in text.replace("${BASH_SOURCE[0]}", "") and "GITHUB_OUTPUT" not in text and "GITHUB_ENV" not in text
