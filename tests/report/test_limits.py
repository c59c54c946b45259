"""GitHub's limits at 10,000 entries and 500 projects (issue 23, item 5), measured on what the real
`domino-mlops plan` writes against a real MLflow server and the Domino emulator: the job's outputs
under 1 MB, the step summary under 1 MiB, the pull-request comment (posted to the fake GitHub)
under 65,536 characters, and a matrix of more than 256 projects refused with exit 2."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from domino_emulator import Emulator
from domino_emulator.local.mlflow_server import start_mlflow_server
from domino_mlops.plan.steps import ModelChange, MoveAlias, Plan
from domino_mlops.report import limits, runs
from tests.report.test_comment import TOKEN, pr_env
from tests.report.test_github import parse_output_file
from tests.support.fake_github import fake_github

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "benchmarks"))
from _registry_fill import fill  # noqa: E402
from plan_scale import manifest, project_ids, token_of, world  # noqa: E402

pytestmark = pytest.mark.slow
ENTRIES, PROJECTS = 10_000, 500
CLI = ("import sys\nfrom domino_mlops.cli import main\nsys.exit(main(sys.argv[1:]))\n")


@dataclass(frozen=True)
class Run:
    code: int
    outputs_text: str
    summary: str
    comment: str
    stderr: str

    @property
    def outputs(self) -> dict[str, str]:
        return parse_output_file(self.outputs_text)


@pytest.fixture(scope="module")
def scale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A registry of 10,000 models in 500 projects (benchmarks/plan_scale.py's manifest), filled
    before its server starts; three of four already carry the alias `dev` at their version."""
    root = tmp_path_factory.mktemp("scale")
    ids = project_ids(PROJECTS)
    per = manifest(ids, ENTRIES, 0)
    rows = [(item["name"], 1, {"candidate": 1, **({"dev": 1} if i % 4 else {})})
            for i, item in enumerate(item for items in per.values() for item in items)]
    (root / "mlflow" / "artifacts").mkdir(parents=True)
    fill(root / "mlflow" / "mlflow.db", rows)
    server = start_mlflow_server(root / "mlflow")
    try:
        with Emulator(mlflow_uri=server.uri, world=world(ids)) as emu, fake_github({TOKEN: "write"}) as gh:
            work = root / "repo"
            (work / "scripts").mkdir(parents=True)
            shutil.copy(REPO / "scripts" / "environments.yaml", work / "scripts" / "environments.yaml")
            (work / "scripts" / "model_version.json").write_text(json.dumps(per))
            yield {"root": root, "work": work, "ids": ids, "mlflow": server.uri, "domino": emu.url, "gh": gh,
                   "unchanged_model": per[ids[1]][0]["name"]}
    finally:
        server.stop()


def run(scale: dict, name: str, *argv: str, domino: bool = True) -> Run:
    files = scale["root"] / name
    files.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MLFLOW_TRACKING_", "DOMINO_", "PROJECT_ID_", "GITHUB_", "RUNNER_"))}
    env.update(pr_env(files, scale["gh"].url))
    env.update({"MLFLOW_TRACKING_URI": scale["mlflow"], "GITHUB_OUTPUT": str(files / "output"),
                "GITHUB_STEP_SUMMARY": str(files / "summary"), "RUNNER_TEMP": str(files / "runner-temp"),
                **{f"PROJECT_ID_{p}": token_of(p) for p in scale["ids"]}})
    if domino:
        env["DOMINO_API_HOST"] = scale["domino"]
    for path in ("output", "summary"):
        (files / path).touch()
    done = subprocess.run([sys.executable, "-c", CLI, *argv], cwd=scale["work"], env=env, capture_output=True,
                          text=True, timeout=600)
    thread = scale["gh"].thread("acme/models", 7)
    comment = next((c["body"] for c in reversed(thread) if "--pr-comment" in argv and f"plan:{argv[2]} " in c["body"]),
                   "")
    return Run(done.returncode, (files / "output").read_text(), (files / "summary").read_text(), comment,
               done.stderr)


@pytest.fixture(scope="module")
def everything_changes(scale: dict) -> Run:
    """STAGE with Domino: every one of the 10,000 models gets a Model API (every row changes)."""
    done = run(scale, "stage", "plan", "--env", "STAGE", "--pr-comment")
    assert done.code == 0, done.stderr[-3000:]
    return done


def test_outputs_stay_under_a_megabyte_and_the_plan_is_in_its_file(everything_changes: Run) -> None:
    outputs = everything_changes.outputs
    assert len(everything_changes.outputs_text.encode()) < limits.OUTPUTS_BYTES  # was about 19 MB
    assert outputs["plan-json"] == "" and outputs["plan-count"] == str(ENTRIES)
    assert outputs["plan-artifact"] == "domino-mlops-plan-STAGE"
    plan = json.loads(Path(outputs["plan-file"]).read_text())
    assert len(plan["changes"]) == ENTRIES and len(plan["changed_models"]) == ENTRIES
    assert "plan-json is empty: the plan is" in everything_changes.stderr and outputs["plan-file"] in \
        everything_changes.stderr
    assert len(json.loads(outputs["work-projects"])) == PROJECTS and len(outputs["plan-digest"]) == 64


def test_the_summary_is_cut_under_a_mebibyte_and_names_the_artifact(everything_changes: Run) -> None:
    summary = everything_changes.summary
    assert len(summary.encode("utf-8")) <= limits.SUMMARY_BYTES
    assert summary.startswith("### Plan for STAGE") and "| `bench-00000` |" in summary  # the changes, first
    assert "more rows not shown here; the whole plan is in the artifact `domino-mlops-plan-STAGE`." in summary
    assert summary.rstrip().endswith(f"Plan digest: `{everything_changes.outputs['plan-digest']}`")


def test_the_comment_is_cut_under_65536_characters(everything_changes: Run) -> None:
    comment = everything_changes.comment
    assert comment.startswith("<!-- domino-mlops:plan:STAGE -->") and len(comment) <= limits.COMMENT_CHARS
    assert len(comment) > limits.COMMENT_CHARS - 2_000  # as much of the plan as fits, not a stub
    assert "the whole plan is in the artifact `domino-mlops-plan-STAGE`" in comment


def test_the_changes_come_first_and_the_unchanged_are_counted() -> None:
    """One model in four changes (a real unchanged plan needs a ledger entry per model, which the
    registry fill does not write): the comment and the summary show those, and count the rest."""
    changes = tuple(ModelChange(f"p{i % PROJECTS}", f"bench-{i:05d}", "1", "1", None if i % 4 == 0 else "1", None,
                                (MoveAlias(f"bench-{i:05d}", "dev", None, "1"),) if i % 4 == 0 else ())
                    for i in range(ENTRIES))
    plan = Plan("DEV", "dev", "alias", changes)
    markdown = runs._plan_markdown(plan, "d" * 64)
    comment = runs._shortened(plan, "d" * 64, markdown, limits.COMMENT_CHARS, len, "domino-mlops-plan-DEV")
    summary = runs._shortened(plan, "d" * 64, markdown * 3, limits.SUMMARY_BYTES, limits.utf8_size, "x")
    assert len(markdown.encode()) < limits.SUMMARY_BYTES < len((markdown * 3).encode())
    assert "| `bench-00001` |" not in comment and "| `bench-00000` |" in comment and len(comment) <= 65_536
    assert f"and {ENTRIES - ENTRIES // 4} more unchanged; the whole plan is in the artifact" in comment
    assert "| `bench-00001` |" not in summary and "| `bench-09996` |" in summary  # every change fits
    assert f"_{ENTRIES - ENTRIES // 4} more rows unchanged; the whole plan is in the artifact `x`._" in summary


def test_a_matrix_of_more_than_256_projects_is_refused(scale: dict) -> None:
    done = run(scale, "projects", "projects", "--env", "STAGE")
    assert done.code == 2 and done.outputs_text == ""
    assert "lists 500 Domino projects; a GitHub Actions matrix runs at most 256 jobs" in done.stderr
    assert "hint:" in done.stderr
    rollout = run(scale, "environments", "environments")
    assert rollout.code == 2 and rollout.outputs_text == "" and "at most 256 jobs" in rollout.stderr
