"""`plan --as promote`: the plan job plans with the apply's rules, so what the reviewer reads (and
its digest, and the projects the apply's matrix starts) is what the apply does, with a held-back
model present. Real git history, MLflow and the emulator, as in test_forward_only.py."""

from __future__ import annotations

import json

from domino_emulator.local.models import register_diabetes_model
from tests.apply.test_forward_only import SMOKE, History, _stage_and_promote, git
from tests.report.test_github import parse_output_file


def _outputs(pipeline) -> dict[str, str]:
    path = pipeline.root / "github_output"
    outputs = parse_output_file(path.read_text())
    path.write_text("")
    return outputs


def test_plan_as_promote_shows_the_held_back_model_and_its_digest_is_the_applys(pipeline, capsys) -> None:
    history = History(pipeline)
    held, fresh = pipeline.unique("held"), pipeline.unique("fresh")
    v1 = register_diabetes_model(pipeline.mlflow_uri, held)
    v2 = register_diabetes_model(pipeline.mlflow_uri, held)
    new = register_diabetes_model(pipeline.mlflow_uri, fresh)
    _stage_and_promote(history, history.commit(held, v1))
    second = history.commit(held, v2)
    _stage_and_promote(history, second)
    assert history.run_at(second, "rollback", "--env", "PROD", "--model", held) == 0
    # A later merge adds another model; the manifest still names the rolled-back version.
    pipeline.manifest({"name": held, "version": int(v2), "smoke_test": SMOKE},
                      {"name": fresh, "version": int(new), "smoke_test": SMOKE})
    git(pipeline.root, "add", "-A")
    git(pipeline.root, "commit", "-q", "-m", "add fresh")
    later = git(pipeline.root, "rev-parse", "HEAD")
    assert history.run_at(later, "deploy", "--env", "STAGE") == 0
    _outputs(pipeline)
    capsys.readouterr()

    assert history.run_at(later, "plan", "--env", "PROD", "--as", "promote") == 0
    shown = _outputs(pipeline)
    out = capsys.readouterr().out
    plan = json.loads(shown["plan-json"])
    assert list(plan["held_back"]) == [held] and plan["changed_models"] == [fresh]
    assert f"held back** `{held}`" in out and f"version {v2} was rolled back in PROD" in out
    assert json.loads(shown["work-projects"]) == [pipeline.project_id]

    # The old plan (action "plan") showed the held-back model as a move the apply never makes.
    assert history.run_at(later, "plan", "--env", "PROD") == 0
    old = _outputs(pipeline)
    assert sorted(json.loads(old["plan-json"])["changed_models"]) == sorted([held, fresh])
    assert json.loads(old["plan-json"])["held_back"] == {}

    # The apply checks the digest the reviewer saw, and goes ahead.
    assert history.run_at(later, "promote", "--env", "PROD", "--expect-plan-digest", shown["plan-digest"]) == 0
    applied = _outputs(pipeline)
    assert applied["plan-digest"] == shown["plan-digest"] and applied["plan-digests"] == shown["plan-digests"]
    assert pipeline.aliases(fresh)["production"] == new and pipeline.aliases(held)["production"] == v1


def test_nothing_to_promote_leaves_no_project_to_approve(pipeline, capsys) -> None:
    history = History(pipeline)
    model = pipeline.unique("done")
    version = register_diabetes_model(pipeline.mlflow_uri, model)
    commit = history.commit(model, version)
    _stage_and_promote(history, commit)
    _outputs(pipeline)
    capsys.readouterr()

    assert history.run_at(commit, "plan", "--env", "PROD", "--as", "promote") == 0

    shown = _outputs(pipeline)
    assert json.loads(shown["work-projects"]) == [] and shown["has-changes"] == "false"
    assert json.loads(shown["plan-digests"]) != {}  # the digests stay, for a re-run's check
    assert "Nothing to approve: PROD has nothing to promote" in capsys.readouterr().out
    assert "**Nothing to approve" in (pipeline.root / "summary.md").read_text()
