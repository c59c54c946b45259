"""The workflows and composite actions: scanners clean, and the rules of DESIGN.md held by tests.

zizmor (offline) and check-jsonschema run as the user would run them; the structural tests say
in plain terms what the scanners do not check: no `${{ }}` inside `run:`, every remote action
pinned by SHA, secrets only by name (or PROJECT_ID_<id> for the job's own project), minimal
permissions, a guarded production job.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support import workflow_audit as audit

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
    assert {p.name for p in WORKFLOWS} >= {"export-models.yml", "release.yml"}
    assert {p.parent.name for p in ACTIONS[1:]} == {"deploy-to-staging", "promote-to-production", "rollback", "rollout",
                                                     "export-to-registry"}


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
        if (path.name, job_id) == ("deploy-staging.yml", "promote"):
            # The one job that starts a workflow (promote-production, workflow_dispatch): that
            # scope alone, and no step but the dispatch, so no code it could check out uses it.
            assert permissions == {"actions": "write"} and len(job["steps"]) == 1
            assert "uses" not in job["steps"][0] and "checkout" not in str(job["steps"])
            continue
        if (path.name, job_id) == ("release.yml", "release"):
            # Publishing a release: only on a tag push, only after the tests, and these scopes only
            # (the release and the major tag; the attestation's certificate and its storage).
            assert triggers(workflow) == {"push": {"tags": ["v*.*.*"]}} and job["needs"] == "tests"
            assert permissions == {"contents": "write", "id-token": "write", "attestations": "write"}
            writes = set()
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


# --- the audit rules (tests/support/workflow_audit.py), on the real workflows and on broken copies ---

WRITING_WORKFLOWS = {"deploy-staging.yml": ["deploy"], "promote-production.yml": ["promote"],
                     "rollback.yml": ["rollback"], "rollout.yml": [f"env-{n}" for n in range(1, 6)]}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_audit_rule_holds(path: Path) -> None:
    problems = audit.audit(load(path), path.read_text())
    assert problems == []


@pytest.mark.parametrize("path", [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))], ids=lambda p: p.name)
def test_docs_pass_secrets_by_name(path: Path) -> None:
    assert audit.secrets_inherited(path.read_text()) == []


def test_the_docs_rule_bites() -> None:
    assert audit.secrets_inherited("jobs:\n  x:\n    secrets: inherit  # all of them\n") != []


def test_the_writer_rule_sees_every_writing_job() -> None:
    """Without this, a renamed action would make the writer rules hold vacuously."""
    for name, expected in WRITING_WORKFLOWS.items():
        workflow = load(REPO / ".github" / "workflows" / name)
        assert [j for j, job in audit.jobs(workflow) if audit.writing_step(job)] == expected, name


def _job(workflow: dict, job_id: str) -> dict:
    return workflow["jobs"][job_id]


def _step(workflow: dict, job_id: str, step_id: str) -> dict:
    (step,) = [s for s in _job(workflow, job_id)["steps"] if s.get("id") == step_id]
    return step


def _set(path: list, value: Any):
    def mutate(workflow: dict) -> None:
        where = workflow
        for key in path[:-1]:
            where = where[key]
        if value is DELETE:
            del where[path[-1]]
        else:
            where[path[-1]] = value
    return mutate


DELETE = object()
ON = True  # YAML 1.1 reads the key `on` as true
_PLAN_WITH = lambda wf: _step(wf, "plan", "plan")["with"]  # noqa: E731


# (workflow, how to break a copy of it, the rule, what the rule must say)
BROKEN_COPIES = {
    "literal-environment": ("promote-production.yml", _set(["jobs", "promote", "environment"], "production"),
                            audit.unguarded_writers, "environment is not computed"),
    "literal-environment-name": ("rollback.yml", _set(["jobs", "rollback", "environment", "name"], "production"),
                                 audit.unguarded_writers, "environment is not computed"),
    "expression-not-from-needs": ("rollout.yml", _set(["jobs", "env-3", "environment", "name"], "${{ inputs.env }}"),
                                  audit.unguarded_writers, "environment is not computed"),
    "half-literal-environment": ("deploy-staging.yml",
                                 _set(["jobs", "deploy", "environment", "name"], "stag${{ needs.validate.outputs.x }}"),
                                 audit.unguarded_writers, "environment is not computed"),
    "url-not-the-model-page": ("deploy-staging.yml",
                               _set(["jobs", "deploy", "environment", "url"], "${{ steps.deploy.outputs.endpoint-url }}"),
                               audit.unguarded_writers, "url is not the model page"),
    "no-concurrency": ("rollback.yml", _set(["jobs", "rollback", "concurrency"], DELETE),
                       audit.unguarded_writers, "no concurrency group"),
    "cancel-in-progress": ("promote-production.yml", _set(["jobs", "promote", "concurrency", "cancel-in-progress"], True),
                           audit.unguarded_writers, "may cancel a run half-way"),
    "writer-without-timeout": ("rollout.yml", _set(["jobs", "env-5", "timeout-minutes"], DELETE),
                               audit.jobs_without_timeout, "env-5: no timeout-minutes"),
    "plan-without-timeout": ("deploy-staging.yml", _set(["jobs", "plan", "timeout-minutes"], DELETE),
                             audit.jobs_without_timeout, "plan: no timeout-minutes"),
    "checkout-keeps-credentials": ("rollback.yml",
                                   lambda wf: _job(wf, "rollback")["steps"][1]["with"].pop("persist-credentials"),
                                   audit.checkouts_keeping_credentials, "persist-credentials"),
    "unpinned-action": ("ci.yml", lambda wf: _job(wf, "test")["steps"][0].update(uses="actions/checkout@v7"),
                        audit.unpinned_remote_actions, "actions/checkout@v7 is not pinned"),
    "unpinned-reusable-workflow": ("ci.yml", _set(["jobs", "called"], {"uses": "someone/else/.github/workflows/x.yml@main"}),
                                   audit.unpinned_remote_actions, "is not pinned"),
    "pull-request-target": ("deploy-staging.yml", _set([ON, "pull_request_target"], None),
                            audit.dangerous_triggers, "pull_request_target"),
    "plan-job-api-key": ("promote-production.yml",
                         lambda wf: _PLAN_WITH(wf).update({"domino-api-key": "${{ secrets.DOMINO_USER_API_KEY }}"}),
                         audit.plan_jobs_holding_write_secrets, "DOMINO_USER_API_KEY"),
    "plan-job-mlflow-token": ("deploy-staging.yml",
                              lambda wf: _PLAN_WITH(wf).update({"mlflow-tracking-token": "${{ secrets.MLFLOW_TRACKING_TOKEN }}"}),
                              audit.plan_jobs_holding_write_secrets, "MLFLOW_TRACKING_TOKEN"),
    "plan-job-project-token": ("promote-production.yml",
                               lambda wf: _PLAN_WITH(wf).update({"project-token": "${{ secrets[format('PROJECT_ID_{0}', inputs.project)] }}"}),
                               audit.plan_jobs_holding_write_secrets, "PROJECT_ID_"),
    "plan-job-model-tokens": ("rollout.yml",
                              lambda wf: _step(wf, "plan", "plan-2")["with"].update({"model-tokens": "${{ secrets.DOMINO_MODEL_TOKENS }}"}),
                              audit.plan_jobs_holding_write_secrets, "DOMINO_MODEL_TOKENS"),
    "writer-loses-its-environment": ("rollback.yml", _set(["jobs", "rollback", "environment"], DELETE),
                                     audit.plan_jobs_holding_write_secrets, "rollback: outside any environment"),
    "check-after-fetch": ("promote-production.yml",
                          lambda wf: _job(wf, "promote")["steps"].insert(3, _job(wf, "promote")["steps"].pop(0)),
                          audit.unchecked_domino_mlops_ref, "promote: fetches domino-mlops-ref before checking"),
    "no-check": ("deploy-staging.yml", lambda wf: _job(wf, "plan")["steps"].pop(0),
                 audit.unchecked_domino_mlops_ref, "plan: fetches domino-mlops-ref before checking"),
    "pull-request-target-accepted": ("promote-production.yml", lambda wf: _job(wf, "plan")["steps"].pop(0),
                                     audit.pull_request_target_not_refused, "plan: the first step does not refuse"),
    "pull-request-target-accepted-export": ("export-models.yml", lambda wf: _job(wf, "export")["steps"].pop(0),
                                            audit.pull_request_target_not_refused, "export: the first step"),
    "deploy-on-pull-request": ("deploy-staging.yml",
                               _set(["jobs", "deploy", "if"], "${{ needs.validate.outputs.projects != '[]' }}"),
                               audit.environment_jobs_on_pull_request, "deploy: enters a GitHub environment"),
    "string-matrix": ("promote-production.yml",
                      _set(["jobs", "promote", "strategy", "matrix", "project"],
                           "${{ fromJSON(inputs.project && format('[\"{0}\"]', inputs.project) || needs.plan.outputs.work-projects) }}"),
                      audit.string_built_matrices, "promote: the matrix is built by format()"),
    "repository-default": ("rollout.yml",
                           _set([ON, "workflow_call", "inputs", "domino-mlops-repository", "default"], "domino-mlops/domino-mlops"),
                           audit.unchecked_domino_mlops_ref, "defaults to 'domino-mlops/domino-mlops'"),
}

# (workflow, text to find, text to put instead, the rule, what the rule must say): rules read as text.
BROKEN_TEXTS = {
    "zizmor-ignore-without-reason": (
        "deploy-staging.yml", " -- PROJECT_ID_<id> has no static name; keep these as environment secrets", "",
        audit.unexplained_zizmor_ignores, "without a reason"),
    "zizmor-ignore-with-an-empty-reason": (
        "rollback.yml", " -- .domino-mlops/ holds the caller-pinned commit; see the note at the top", " --",
        audit.unexplained_zizmor_ignores, "without a reason"),
    "to-json-secrets": ("promote-production.yml", "${{ secrets.DOMINO_MODEL_TOKENS }}", "${{ toJSON(secrets) }}",
                        audit.secrets_dumped, "toJSON(secrets)"),
    "to-json-secrets-spaced": ("rollout.yml", "${{ secrets.DOMINO_MODEL_TOKENS }}", "${{ toJson( secrets ) }}",
                               audit.secrets_dumped, "toJSON(secrets)"),
    "read-only-secret-not-declared": ("deploy-staging.yml", "      MLFLOW_READONLY_TOKEN:\n        required: false\n", "",
                                      audit.undeclared_secrets, "MLFLOW_READONLY_TOKEN is read but not declared"),
}


@pytest.mark.parametrize("name", BROKEN_COPIES)
def test_each_rule_bites_on_a_broken_copy(name: str) -> None:
    file, mutate, rule, says = BROKEN_COPIES[name]
    path = REPO / ".github" / "workflows" / file
    workflow, text = load(path), path.read_text()
    assert rule(copy.deepcopy(workflow)) == [], "the real workflow already breaks the rule"
    mutate(workflow)
    problems = rule(workflow)
    assert any(says in problem for problem in problems), problems
    assert audit.audit(workflow, text), "audit() must report what the rule reports"


@pytest.mark.parametrize("name", BROKEN_TEXTS)
def test_each_text_rule_bites_on_a_broken_copy(name: str) -> None:
    file, find, put, rule, says = BROKEN_TEXTS[name]
    path = REPO / ".github" / "workflows" / file
    text = path.read_text()
    assert find in text
    broken = text.replace(find, put, 1)
    args = (lambda t: (yaml.safe_load(t), t)) if rule is audit.undeclared_secrets else (lambda t: (t,))
    assert rule(*args(text)) == []
    problems = rule(*args(broken))
    assert any(says in problem for problem in problems), problems


# --- what each workflow is for ------------------------------------------------------------------


@pytest.mark.parametrize("file, trigger", [("deploy-staging.yml", "pull_request"), ("deploy-staging.yml", "push")])
def test_a_change_to_either_file_starts_the_workflow(file: str, trigger: str) -> None:
    on = triggers(load(REPO / ".github" / "workflows" / file))
    assert on[trigger]["paths"] == ["scripts/model_version.json", "scripts/environments.yaml"]


def test_promotion_runs_only_from_main_or_by_hand_and_applies_the_approved_plan() -> None:
    workflow = load(REPO / ".github" / "workflows" / "promote-production.yml")
    on = triggers(workflow)
    # Not on push: deploy-staging starts it after the staging deploy of the same push.
    assert set(on) == {"workflow_dispatch", "workflow_call"}
    staging = load(REPO / ".github" / "workflows" / "deploy-staging.yml")
    assert triggers(staging)["push"]["branches"] == ["main"]
    starter = staging["jobs"]["promote"]
    assert starter["needs"] == ["validate", "deploy"] and starter["permissions"] == {"actions": "write"}
    assert "github.event_name == 'push'" in starter["if"] and "environment" not in starter
    assert "actions/workflows/promote-production.yml/dispatches" in starter["steps"][0]["run"]
    plan, promote = workflow["jobs"]["plan"], workflow["jobs"]["promote"]
    # The plan the reviewer reads is planned as the promotion; only projects with work get a job.
    assert _PLAN_WITH(workflow)["plan-as"] == "promote"
    assert promote["strategy"]["matrix"]["project"] == "${{ fromJSON(needs.plan.outputs.work-projects) }}"
    assert promote["needs"] == "plan" and "environment" not in plan
    assert promote["environment"]["name"] == "${{ needs.plan.outputs.github-environment }}"
    assert plan["outputs"]["github-environment"] == "${{ steps.environment.outputs.github-environment }}"
    assert _step(workflow, "plan", "environment")["with"] == {"command": "environments", "environment": "PROD"}
    assert plan["outputs"]["plan-digests"] == "${{ steps.plan.outputs.plan-digests }}"
    step = _step(workflow, "promote", "promote")
    assert step["with"]["expect-plan-digest"].startswith(
        "${{ fromJSON(needs.plan.outputs.plan-digests)[matrix.project] || ")
    assert step["with"]["project-token"] == "${{ secrets[format('PROJECT_ID_{0}', matrix.project)] }}"
    assert step["with"]["project"] == "${{ matrix.project }}"
    assert _PLAN_WITH(workflow)["domino-api-key"] == "${{ secrets.DOMINO_READONLY_API_KEY }}"
    assert _PLAN_WITH(workflow)["mlflow-tracking-token"] == "${{ secrets.MLFLOW_READONLY_TOKEN }}"


def test_rollback_has_a_group_of_its_own_and_waits_for_a_lease() -> None:
    workflow = load(REPO / ".github" / "workflows" / "rollback.yml")
    assert set(triggers(workflow)) == {"workflow_dispatch", "workflow_call"}
    job = workflow["jobs"]["rollback"]
    assert job["environment"]["name"] == "${{ needs.plan.outputs.github-environment }}"
    assert job["concurrency"]["group"].startswith("rollback-")
    assert int(_step(workflow, "rollback", "rollback")["with"]["lease-wait"]) * 2 <= job["timeout-minutes"] * 60


def test_rollback_is_planned_read_only_and_applied_only_as_approved() -> None:
    workflow = load(REPO / ".github" / "workflows" / "rollback.yml")
    plan, apply = workflow["jobs"]["plan"], workflow["jobs"]["rollback"]
    assert "environment" not in plan and plan["permissions"] == {"contents": "read"} and apply["needs"] == "plan"
    planned = _step(workflow, "plan", "plan")["with"]
    assert planned["plan-only"] == "true" and "project-token" not in planned
    assert (planned["domino-api-key"], planned["mlflow-tracking-token"]) == (
        "${{ secrets.DOMINO_READONLY_API_KEY }}", "${{ secrets.MLFLOW_READONLY_TOKEN }}")
    applied = _step(workflow, "rollback", "rollback")["with"]
    assert applied["expect-plan-digest"] == "${{ needs.plan.outputs.plan-digest || 'missing' }}"
    assert applied["expect-from"] == "${{ needs.plan.outputs.from-version }}"


def test_staging_deploys_each_project_with_its_own_secret_only() -> None:
    workflow = load(REPO / ".github" / "workflows" / "deploy-staging.yml")
    on = triggers(workflow)
    assert {"model", "version"} <= set(on["workflow_dispatch"]["inputs"]) and "workflow_call" in on
    assert set(workflow["jobs"]) == {"validate", "plan", "deploy", "promote"}
    deploy = workflow["jobs"]["deploy"]
    assert deploy["environment"]["name"] == "${{ needs.validate.outputs.github-environment }}"
    step = _step(workflow, "deploy", "deploy")
    assert step["with"]["project-token"] == "${{ secrets[format('PROJECT_ID_{0}', matrix.project)] }}"
    assert "PROJECT_ID" not in yaml.safe_dump(workflow["jobs"]["plan"])  # the plan job gets no project token


def test_export_runs_every_15_minutes_one_at_a_time_with_its_secrets_in_an_environment() -> None:
    workflow = load(REPO / ".github" / "workflows" / "export-models.yml")
    on = triggers(workflow)
    assert set(on) == {"schedule", "workflow_dispatch", "workflow_call"}
    assert on["schedule"] == [{"cron": "*/15 * * * *"}]
    (job_id, job), = workflow["jobs"].items()
    assert job["concurrency"] == {"group": "export-models", "cancel-in-progress": False}
    # actions: read: the run asks GitHub that the export environment admits only the default branch.
    assert job["environment"] == "${{ inputs.github-environment || 'export' }}"
    assert job["permissions"] == {"actions": "read", "contents": "read"}
    step = _step(workflow, job_id, "export")
    assert step["uses"] == "./.domino-mlops/actions/export-to-registry"
    assert step["with"]["registry-credentials"] == "${{ secrets.EXPORT_REGISTRY_CREDENTIALS }}"
    assert set(on["workflow_call"]["secrets"]) == {"MLFLOW_TRACKING_TOKEN", "DOMINO_USER_API_KEY",
                                                   "EXPORT_REGISTRY_CREDENTIALS"}


SLOTS = [f"env-{n}" for n in range(1, 6)]


def test_rollout_slots_each_take_their_own_environment() -> None:
    """Five copies of one job: each reads its own index of the environments list and its own
    digests, after the slot before it; a copy-paste slip would roll out the wrong environment."""
    workflow = load(REPO / ".github" / "workflows" / "rollout.yml")
    assert set(triggers(workflow)) == {"workflow_dispatch", "workflow_call"}
    assert [j for j in workflow["jobs"] if j != "plan"] == SLOTS
    (check,) = [s for s in workflow["jobs"]["plan"]["steps"] if "DMLOPS_SLOTS" in s.get("env", {})]
    assert check["env"]["DMLOPS_SLOTS"] == str(len(SLOTS)) and "exit 2" in check["run"]
    for n, job_id in enumerate(SLOTS, 1):
        job = workflow["jobs"][job_id]
        flat = yaml.safe_dump(job)
        assert set(re.findall(r"environments\)\[(\d+)\]", flat)) == {str(n - 1)}, job_id
        assert set(re.findall(r"plan-digests-(\d+)", flat)) == {str(n)}, job_id
        assert job["needs"] == ("plan" if n == 1 else ["plan", f"env-{n - 1}"])
        assert f"fromJSON(needs.plan.outputs.count) >= {n}" in job["if"] and "!failure()" in job["if"]
        assert job["concurrency"]["group"].startswith("rollout-")
        plan_step = _step(workflow, "plan", f"plan-{n}")
        assert plan_step["with"]["environment"] == f"${{{{ fromJSON(steps.environments.outputs.environments)[{n - 1}].name }}}}"
        assert workflow["jobs"]["plan"]["outputs"][f"plan-digests-{n}"] == f"${{{{ steps.plan-{n}.outputs.plan-digests }}}}"


REUSABLE = [p for p in WORKFLOWS if p.name not in ("ci.yml", "release.yml")]  # ours alone, never called


@pytest.mark.parametrize("path", REUSABLE, ids=lambda p: p.name)
def test_reusable_from_another_repository(path: Path) -> None:
    """A called workflow's `./` is the caller's checkout: every job first checks what the caller
    pinned, then puts the actions in .domino-mlops/ (this commit's copy, or that commit of the
    repository the caller names) and uses them only there."""
    workflow = load(path)
    call_inputs = triggers(workflow)["workflow_call"]["inputs"]
    assert call_inputs["domino-mlops-ref"]["default"] == "" and call_inputs["domino-mlops-repository"]["default"] == ""
    for job_id, job in workflow["jobs"].items():
        if (path.name, job_id) == ("deploy-staging.yml", "promote"):
            continue  # one curl to GitHub's API, no domino-mlops action (test_workflow_hygiene)
        # Before anything else the first job may refuse the run (pull_request_target, a branch
        # that may not deploy): steps that read no input of the caller and fetch nothing.
        steps = job["steps"]
        while steps and str(steps[0].get("name", "")).startswith(("Refuse ", "Deploy only from")):
            assert "uses" not in steps[0] and "inputs." not in str(steps[0]), job_id
            steps = steps[1:]
        local = [i for i, step in enumerate(steps) if str(step.get("uses", "")).startswith("./")]
        assert local, f"{job_id} uses no domino-mlops action"
        assert all(str(steps[i]["uses"]).startswith("./.domino-mlops") for i in local), job_id
        # The first job also checks that the caller's uses: lines pin the commit it passes.
        pin = [s for s in steps if str(s.get("name", "")).startswith("Check the caller's uses lines pin")]
        assert len(pin) == (1 if job_id == next(iter(workflow["jobs"])) else 0), job_id
        if pin:
            assert pin[0]["if"] == "${{ inputs.domino-mlops-ref }}" and "uses" not in pin[0]
            assert steps.index(pin[0]) == 2, f"{job_id}: the pin is checked right after the caller's checkout"
            steps = [s for s in steps if s is not pin[0]]
        check, checkout, fetch, copy_step = steps[:4]
        assert check["env"] == {"DMLOPS_REF": "${{ inputs.domino-mlops-ref }}",
                                "DMLOPS_REPOSITORY": "${{ inputs.domino-mlops-repository }}"}
        assert str(checkout["uses"]).startswith("actions/checkout@") and "repository" not in checkout["with"]
        assert str(fetch["uses"]).startswith("actions/checkout@") and fetch["if"] == "${{ inputs.domino-mlops-ref }}"
        assert fetch["with"] == {"repository": "${{ inputs.domino-mlops-repository }}",
                                 "ref": "${{ inputs.domino-mlops-ref }}", "path": ".domino-mlops",
                                 "persist-credentials": False}
        assert copy_step["if"] == "${{ !inputs.domino-mlops-ref }}" and "cp -R action.yml actions src" in copy_step["run"]
        assert min(local) > 3, f"{job_id}: an action runs before .domino-mlops/ is in place"


# --- the shell scripts behind the actions -------------------------------------------------------


@pytest.mark.parametrize("script", ["install.sh", "run.sh"])
def test_scripts_parse_and_speak_no_workflow_commands(script: str) -> None:
    """report/github.py is the one place that writes `::` commands and $GITHUB_OUTPUT."""
    path = REPO / "actions" / script
    subprocess.run(["bash", "-n", str(path)], check=True)
    text = path.read_text()
    assert "::" not in text.replace("${BASH_SOURCE[0]}", "") and "GITHUB_OUTPUT" not in text and "GITHUB_ENV" not in text


def test_a_release_is_tested_attested_and_published_with_its_sha256() -> None:
    """Issue 24, item 3: a tag push vX.Y.Z runs the tests first; only the publishing job may write,
    and it attests the wheel with a pinned attest-build-provenance (v4.1.0's commit)."""
    import yaml

    workflow = yaml.safe_load((REPO / ".github" / "workflows" / "release.yml").read_text())
    assert workflow[True] == {"push": {"tags": ["v*.*.*"]}} and workflow["permissions"] == {}
    tests, release = workflow["jobs"]["tests"], workflow["jobs"]["release"]
    assert tests["permissions"] == {"contents": "read"} and "make test" in [s.get("run") for s in tests["steps"]]
    assert release["needs"] == "tests"
    assert release["permissions"] == {"contents": "write", "id-token": "write", "attestations": "write"}
    uses = [s["uses"] for s in release["steps"] if "uses" in s]
    assert "actions/attest-build-provenance@a2bbfa25375fe432b6a289bc6b6cd05ecd0c4c32" in uses
    script = "\n".join(s.get("run", "") for s in release["steps"])
    assert "sha256sum" in script and "SHA256SUMS" in script and "gh release create" in script
    assert "${{" not in script  # inputs only through env:
    changelog = (REPO / "CHANGELOG.md").read_text()
    version = next(line.split('"')[1] for line in (REPO / "pyproject.toml").read_text().splitlines()
                   if line.startswith("version = "))
    assert f"## [{version}]" in changelog  # the release check refuses a tag without its section
