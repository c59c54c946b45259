"""Jobs and apps beside the models: every field round-trips, every mistake has its own line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from domino_mlops.cli import main
from domino_mlops.desired.environments import Environment
from domino_mlops.desired.load import load_desired
from domino_mlops.desired.manifest import VersionRef, load_manifest, read_manifest
from domino_mlops.desired.workloads import AppSpec, JobSpec, Schedule, TierChoice, cron_problem
from domino_mlops.errors import ValidationFailed

P = "6650c1a3e1b2c3d4e5f60718"
ENVIRONMENTS = """environments:
  - name: STAGE
    domino: {waves: [[small-k8s]]}
  - name: PROD
    requires: STAGE
    domino: {project_id: prodproject, waves: [[medium-k8s], [prod-small]]}
  - name: QA
"""
STAGE = Environment("STAGE", "staging", "staging", waves=(("small-k8s",),))
PROD = Environment("PROD", "production", "production", project_id="prodproject",
                   waves=(("medium-k8s",), ("prod-small",)))
BARE = Environment("QA", "qa", "qa")


def write(tmp_path: Path, data: object, name: str = "model_version.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2), encoding="utf-8")
    return path


def test_every_field_of_a_job_and_an_app_round_trips(tmp_path: Path) -> None:
    job = {"name": "validate", "command": "python validate.py --min-auc 0.8",
           "hardware_tier": {"STAGE": "small-k8s", "PROD": "medium-k8s"}, "environment_id": "65f0c0ffee000000000000e1",
           "commit": "0123abcd", "variables": {"THRESHOLD": "0.8", "MODE": "strict"}, "when": "after_models",
           "gate": False, "environments": ["STAGE", "PROD"], "description": "holds the line"}
    nightly = {"name": "score", "command": "python score.py", "hardware_tier": "small-k8s", "branch": "main",
               "schedule": {"cron": "0 0 6 * * ?", "timezone": "Europe/Paris"}}
    app = {"name": "dashboard", "hardware_tier": "small-k8s", "environment_id": "65f0c0ffee000000000000e2",
           "visibility": "AUTHENTICATED", "entry_point": "apps/dash.sh", "branch": "release",
           "smoke_path": "/health", "environments": ["PROD"], "description": "for the sales team"}
    text = json.dumps({P: {"models": [{"name": "churn", "version": 2}], "jobs": [job, nightly], "apps": [app]}},
                      indent=2)
    manifest = load_manifest(write(tmp_path, text))
    lines = text.splitlines()

    (churn,) = manifest.entries
    assert (churn.name, churn.version, churn.path) == ("churn", VersionRef(number=2), (P, "models", 0))
    validate, score = manifest.jobs
    assert validate == JobSpec(
        project_id=P, name="validate", command="python validate.py --min-auc 0.8",
        hardware_tier=TierChoice(per_environment=(("STAGE", "small-k8s"), ("PROD", "medium-k8s"))),
        environment_id="65f0c0ffee000000000000e1", commit="0123abcd", branch=None, schedule=None,
        variables=(("THRESHOLD", "0.8"), ("MODE", "strict")), when="after_models", gate=False,
        environments=("STAGE", "PROD"), description="holds the line", index=0, line=validate.line)
    assert '"validate"' in lines[validate.line]  # the line after the opening brace names it
    assert score.schedule == Schedule("0 0 6 * * ?", "Europe/Paris") and score.branch == "main"
    assert score.gate is False and score.when == "before_models" and score.environments is None
    assert score.hardware_tier == TierChoice(everywhere="small-k8s") and score.path == (P, "jobs", 1)
    (dashboard,) = manifest.apps
    assert dashboard == AppSpec(
        project_id=P, name="dashboard", hardware_tier=TierChoice(everywhere="small-k8s"),
        environment_id="65f0c0ffee000000000000e2", visibility="AUTHENTICATED", entry_point="apps/dash.sh",
        commit=None, branch="release", smoke_path="/health", environments=("PROD",),
        description="for the sales team", index=0, line=dashboard.line)
    assert manifest.jobs_for("PROD") == (validate, score) and manifest.jobs_for("QA") == (score,)
    assert manifest.apps_for("PROD") == (dashboard,) and manifest.apps_for("STAGE") == ()


def test_defaults_of_a_minimal_job_and_app(tmp_path: Path) -> None:
    manifest = load_manifest(write(tmp_path, {P: {"jobs": [{"name": "train", "command": "python train.py"}],
                                                  "apps": [{"name": "dash"}]}}))
    (job,), (app,) = manifest.jobs, manifest.apps
    assert (job.when, job.gate, job.schedule, job.variables, job.environment_id) == ("before_models", True, None, (),
                                                                                       None)
    assert (app.visibility, app.smoke_path, app.entry_point, app.commit, app.branch) == ("GRANT_BASED", "/", None,
                                                                                         None, None)
    assert manifest.entries == () and manifest.project_ids == (P,)  # a project with no models is fine


def test_legacy_lists_and_mappings_mix_and_project_ids_cover_all(tmp_path: Path) -> None:
    manifest = load_manifest(write(tmp_path, {
        "$schema": "x.json", "p-legacy": [{"name": "churn", "version": 1}],
        "p-apps": {"apps": [{"name": "dash"}]}, "p-models": {"models": [{"name": "fraud", "version": "@candidate"}]},
        "p-empty": {}}))
    assert [(e.name, e.path) for e in manifest.entries] == [("churn", ("p-legacy", 0)),
                                                            ("fraud", ("p-models", "models", 0))]
    assert manifest.project_ids == ("p-legacy", "p-apps", "p-models")


def test_what_a_job_and_an_app_mean_in_one_environment() -> None:
    tiers = TierChoice(per_environment=(("PROD", "prod-small"),))
    job = JobSpec(P, "validate", "python v.py", hardware_tier=tiers, variables=(("MODE", "strict"),))
    assert job.tier_for(PROD) == "prod-small"  # named
    assert job.tier_for(STAGE) == "small-k8s"  # the environment's first wave tier
    assert job.tier_for(BARE) is None  # Domino's default tier of the project
    assert JobSpec(P, "j", "x", hardware_tier=TierChoice(everywhere="gpu")).tier_for(PROD) == "gpu"
    assert job.variables_for(STAGE) == (("DOMINO_ENV", "STAGE"), ("MODE", "strict"))
    assert job.project_for(PROD) == "prodproject" and job.project_for(STAGE) == P
    app = AppSpec(P, "dash")
    assert app.tier_for(PROD) == "medium-k8s" and app.project_for(PROD) == "prodproject"
    assert app.applies_to("QA") and not AppSpec(P, "d", environments=("PROD",)).applies_to("QA")


JOB = '{"name": "j", "command": "python j.py"'
BROKEN = [
    ("job-without-command", '{"p1": {"jobs": [\n {"name": "j"}\n]}}', 2, "$.p1.jobs[0]",
     "missing required field 'command'"),
    ("job-blank-command", '{"p1": {"jobs": [\n {"name": "j",\n  "command": "   "}]}}', 3, "$.p1.jobs[0].command",
     "does not match"),
    ("job-unknown-field", '{"p1": {"jobs": [\n {"name": "j", "command": "x", "image": "y"}]}}', 2, "$.p1.jobs[0]",
     "unknown field 'image'"),
    ("job-bad-name", '{"p1": {"jobs": [\n {"name": "a b", "command": "x"}]}}', 2, "$.p1.jobs[0].name",
     "does not match"),
    ("job-tier-wrong-type", '{"p1": {"jobs": [' + JOB + ',\n "hardware_tier": 5}]}}', 2,
     "$.p1.jobs[0].hardware_tier", "must be a string or a mapping, not 5"),
    ("job-tier-per-env-wrong-type", '{"p1": {"jobs": [' + JOB + ', "hardware_tier": {\n "PROD": 3}}]}}', 2,
     "$.p1.jobs[0].hardware_tier.PROD", "must be a string, not 3"),
    ("job-variable-not-string", '{"p1": {"jobs": [' + JOB + ', "variables": {\n "N": 3}}]}}', 2,
     "$.p1.jobs[0].variables.N", "must be a string, not 3"),
    ("job-bad-when", '{"p1": {"jobs": [' + JOB + ',\n "when": "during"}]}}', 2, "$.p1.jobs[0].when",
     '"during" is not one of "before_models", "after_models"'),
    ("job-named-twice", '{"p1": {"jobs": [' + JOB + '},\n' + JOB + '}]}}', 2, "$.p1.jobs[1].name",
     "job 'j' is listed twice in project p1 (first on line 1)"),
    ("job-commit-and-branch", '{"p1": {"jobs": [' + JOB + ', "commit": "abcdef1",\n "branch": "main"}]}}', 2,
     "$.p1.jobs[0].branch", "a commit or a branch, not both"),
    ("job-sets-domino-env", '{"p1": {"jobs": [' + JOB + ', "variables": {\n "DOMINO_ENV": "PROD"}}]}}', 2,
     "$.p1.jobs[0].variables.DOMINO_ENV", "DOMINO_ENV is set by domino-mlops"),
    ("job-bad-variable-name", '{"p1": {"jobs": [' + JOB + ', "variables": {\n "1X": "a"}}]}}', 2,
     '$.p1.jobs[0].variables["1X"]', "'1X' is not a variable name"),
    ("job-file-shorthand", '{"p1": {"jobs": [{"name": "j",\n "command": "train.py --fast"}]}}', 2,
     "$.p1.jobs[0].command", 'name the program, e.g. "python train.py"'),
    ("job-unix-cron", '{"p1": {"jobs": [' + JOB + ',\n "schedule": "0 6 * * *"}]}}', 2, "$.p1.jobs[0].schedule",
     "has 5 fields (Unix cron); Domino's scheduler takes Quartz cron"),
    ("job-cron-without-question-mark", '{"p1": {"jobs": [' + JOB + ',\n "schedule": "0 0 6 * * *"}]}}', 2,
     "$.p1.jobs[0].schedule", "needs '?' in exactly one of day-of-month"),
    ("job-unknown-timezone", '{"p1": {"jobs": [' + JOB + ',\n "schedule": {"cron": "0 0 6 * * ?", '
     '"timezone": "Mars/Olympus"}}]}}', 2, "$.p1.jobs[0].schedule", "'Mars/Olympus' is not an IANA time zone"),
    ("job-scheduled-gate", '{"p1": {"jobs": [' + JOB + ', "schedule": "0 0 6 * * ?",\n "gate": true}]}}', 2,
     "$.p1.jobs[0].gate", "a scheduled job runs on Domino's clock"),
    ("app-bad-visibility", '{"p1": {"apps": [{"name": "a",\n "visibility": "SECRET"}]}}', 2,
     "$.p1.apps[0].visibility", '"SECRET" is not one of "PUBLIC", "AUTHENTICATED"'),
    ("app-smoke-path-relative", '{"p1": {"apps": [{"name": "a",\n "smoke_path": "health"}]}}', 2,
     "$.p1.apps[0].smoke_path", "does not match"),
    ("app-named-twice", '{"p1": {"apps": [{"name": "a"},\n {"name": "a"}]}}', 2, "$.p1.apps[1].name",
     "app 'a' is listed twice"),
    ("app-commit-and-branch", '{"p1": {"apps": [{"name": "a", "commit": "abcdef1",\n "branch": "b"}]}}', 2,
     "$.p1.apps[0].branch", "a commit or a branch, not both"),
    ("project-unknown-key", '{"p1":\n {"models": [],\n "workspaces": []}}', 2, "$.p1",
     "unknown field 'workspaces'; a project is a list of models"),
    ("grouped-model-error", '{"p1": {"models": [\n {"name": "a", "version": "latest"}]}}', 2,
     "$.p1.models[0].version", "'latest' is not allowed"),
    ("grouped-model-twice", '{"p1": {"models": [{"name": "a", "version": 1},\n {"name": "a", "version": 2}]}}', 2,
     "$.p1.models[1].name", "listed twice"),
]


@pytest.mark.parametrize(("case", "text", "line", "path", "message"), BROKEN, ids=[c[0] for c in BROKEN])
def test_each_broken_job_or_app_gets_its_own_line_and_message(tmp_path: Path, case: str, text: str, line: int,
                                                             path: str, message: str) -> None:
    manifest, issues = read_manifest(write(tmp_path, text))
    assert manifest is None
    assert [(i.line, i.path) for i in issues] == [(line, path)], issues
    assert message in issues[0].message


def test_names_may_repeat_across_kinds_and_projects(tmp_path: Path) -> None:
    manifest = load_manifest(write(tmp_path, {
        "p1": {"jobs": [{"name": "churn", "command": "python a.py"}], "apps": [{"name": "churn"}],
               "models": [{"name": "churn", "version": 1}]},
        "p2": {"jobs": [{"name": "churn", "command": "python a.py"}]}}))
    assert len(manifest.jobs) == 2 and len(manifest.apps) == 1


CROSS = [
    ("job-unknown-environment", {"jobs": [{"name": "j", "command": "x", "environments": ["STAGE", "DEV"]}]},
     "$.p1.jobs[0].environments", "unknown environment 'DEV'"),
    ("app-unknown-environment", {"apps": [{"name": "a", "environments": ["UAT"]}]},
     "$.p1.apps[0].environments", "unknown environment 'UAT'"),
    ("tier-for-unknown-environment", {"jobs": [{"name": "j", "command": "x", "hardware_tier": {"PRD": "s"}}]},
     "$.p1.jobs[0].hardware_tier.PRD", "hardware_tier names unknown environment 'PRD'"),
    ("tier-for-an-environment-not-run-in", {"apps": [{"name": "a", "environments": ["PROD"],
                                                      "hardware_tier": {"STAGE": "s"}}]},
     "$.p1.apps[0].hardware_tier.STAGE", "hardware_tier names 'STAGE', but 'a' runs only in PROD"),
]


@pytest.mark.parametrize(("case", "project", "path", "message"), CROSS, ids=[c[0] for c in CROSS])
def test_jobs_and_apps_name_environments_that_exist(tmp_path: Path, case: str, project: dict, path: str,
                                                    message: str) -> None:
    manifest = write(tmp_path, {"p1": project})
    text = manifest.read_text().splitlines()
    with pytest.raises(ValidationFailed) as info:
        load_desired(manifest, write(tmp_path, ENVIRONMENTS, "environments.yaml"))
    (issue,) = info.value.issues
    assert issue.path == path and message in issue.message
    key = path.rsplit(".", 1)[-1]
    assert f'"{key}"' in text[issue.line - 1]  # the line of the key at fault


def test_validate_points_at_the_job_file_and_line(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    bad = write(tmp_path, '{"p1": {"jobs": [\n {"name": "j", "command": "python j.py",\n'
                          '  "variables": {"DOMINO_ENV": "PROD"}}]}}')
    code = main(["validate", "--manifest", str(bad), "--environments", str(write(tmp_path, ENVIRONMENTS, "e.yaml"))])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{bad}:3: $.p1.jobs[0].variables.DOMINO_ENV: DOMINO_ENV is set by domino-mlops" in err
    assert "hint:" in err


def test_a_good_manifest_with_jobs_and_apps_validates(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    good = write(tmp_path, {P: {"models": [{"name": "churn", "version": 2}],
                                "jobs": [{"name": "validate", "command": "python validate.py",
                                          "hardware_tier": {"PROD": "medium-k8s"}}],
                                "apps": [{"name": "dash", "environments": ["PROD"], "visibility": "PUBLIC"}]}})
    assert main(["validate", "--manifest", str(good), "--environments",
                 str(write(tmp_path, ENVIRONMENTS, "e.yaml"))]) == 0


@pytest.mark.parametrize(("cron", "fine"), [
    ("0 0 6 * * ?", True), ("0 15 10 ? * MON-FRI", True), ("0 0 12 1/5 * ? 2030", True), ("0 0/5 * * * ?", True),
    ("0 0 6 * * *", False), ("0 0 6 ? * ?", False), ("* * * *", False), ("0 0 6 * * ? 2030 1", False),
    ("0 0 6 * * ;", False),
])
def test_cron_expressions_as_domino_takes_them(cron: str, fine: bool) -> None:
    assert (cron_problem(cron) is None) is fine, cron_problem(cron)
