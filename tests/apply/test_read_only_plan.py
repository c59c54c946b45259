"""Plan jobs hold read-only credentials (README, "Read-only secrets"): a Domino collaborator with
a read-only project role and an MLflow token with READ permission. A plan must work with them,
and the same credentials must not be able to change anything: an apply run with them stops at
the first write, says which credential was refused, and leaves Domino and MLflow as they were.
"""

from __future__ import annotations

from domino_mlops.errors import DominoMlopsError
from domino_emulator.seed import READER_API_KEY
from domino_emulator.local.models import SAMPLE_PATIENT, register_diabetes_model
from tests.support.auth_proxy import auth_proxy

SMOKE = {"input": SAMPLE_PATIENT, "expect_shape": [1]}
WRITER, READER = "mlflow-writer-token", "mlflow-reader-token"


def _as_plan_job(pipeline, proxy_url: str) -> None:
    """The variables a plan job gets: read-only secrets only, no project token."""
    pipeline.monkeypatch.delenv(f"PROJECT_ID_{pipeline.project_id}")
    pipeline.monkeypatch.setenv("MLFLOW_TRACKING_URI", proxy_url)
    pipeline.monkeypatch.setenv("DOMINO_USER_API_KEY", READER_API_KEY)
    pipeline.monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", READER)


def test_a_plan_needs_only_read_access_and_read_access_changes_nothing(pipeline, mlflow_server, capsys) -> None:
    model = pipeline.unique("reader")
    version = register_diabetes_model(pipeline.mlflow_uri, model)
    pipeline.manifest({"name": model, "version": int(version), "smoke_test": SMOKE})
    assert pipeline.deploy().exit_code == 0  # with the writer's credentials
    grants = {WRITER: None, READER: None}
    with auth_proxy(mlflow_server.uri, grants, read_only=frozenset({READER})) as proxy:
        _as_plan_job(pipeline, proxy.url)
        before, writes = pipeline.mlflow_state(model), pipeline.emu.counters.writes()
        capsys.readouterr()

        assert pipeline.run("plan", "--env", "PROD") == 0  # the CLI: the plan job prints what a reviewer reads
        out = capsys.readouterr().out
        assert model in out and f"-> {version}" in out  # the promotion the reviewer will approve
        assert pipeline.emu.counters.writes() == writes and pipeline.mlflow_state(model) == before
        assert {token for _, _, token, _ in proxy.log.calls} == {READER}

        # The same credentials in an apply: refused at the first write, nothing changed.
        # The model fails with one of our errors naming the 403 (an unexpected exception would raise here).
        outcome = pipeline.deploy("promote")
        assert outcome.exit_code != 0
        errors = [m.error for m in outcome.result.models]
        assert errors and all(isinstance(e, DominoMlopsError) and "403" in f"{e} {e.hint}" for e in errors), errors
        assert pipeline.emu.counters.writes() == writes and pipeline.mlflow_state(model) == before
        assert "production" not in pipeline.aliases(model)
