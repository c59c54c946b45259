"""`domino-mlops export` in server mode against the Domino emulator over HTTP: Domino exports the
image of the Model API version that serves a model version; complete and failed exports, their
logs shown, only the complete one tagged; a version no Model API serves waits."""

from __future__ import annotations

import json

import pytest

from domino_mlops.cli import main
from domino_emulator.local.models import register_broken_model, register_diabetes_model
from tests.support.emulator import MODEL_APIS, DominoSession, model_api_body
from tests.support.exports import export_tag, outputs, write_targets

MODEL = "export-served"
PASSWORD = "registry-password-for-domino"


@pytest.fixture
def served(mlflow_server, domino_emulator):
    """v1 (a real model) and v2 (cannot build) each served by a Model API; v3 by none. All three
    ask for target SRV."""
    from mlflow import MlflowClient

    emu = domino_emulator
    client = MlflowClient(mlflow_server.uri, mlflow_server.uri)
    good = register_diabetes_model(mlflow_server.uri, MODEL)
    broken = register_broken_model(mlflow_server.uri, MODEL)
    unserved = register_broken_model(mlflow_server.uri, MODEL)
    domino = DominoSession(emu.url, emu.api_key)
    environment = next(iter(emu.world.environments))
    for version in (good, broken):
        body = model_api_body(emu.project_id, f"{MODEL}-{version}", MODEL, version, environment_id=environment)
        body["version"]["shouldDeploy"] = False  # an image is exported without serving traffic
        api = domino.ok("POST", MODEL_APIS, body)
        version_id = domino.ok("GET", f"{MODEL_APIS}/{api['id']}/versions")[0]["id"]
        client.set_model_version_tag(MODEL, version, "DOMINO_MODEL_ID", api["id"])
        client.set_model_version_tag(MODEL, version, "DOMINO_MODEL_VERSION_ID", version_id)
    for version in (good, broken, unserved):
        client.set_model_version_tag(MODEL, version, "TARGET_SRV", "true")
    return client, good, broken, unserved


def test_domino_exports_complete_and_failed_with_their_logs(served, mlflow_server, domino_emulator, tmp_path,
                                                            monkeypatch, capsys):
    client, good, broken, unserved = served
    emu = domino_emulator
    monkeypatch.chdir(tmp_path)
    for key, value in {"DOMINO_API_HOST": emu.url, f"PROJECT_ID_{emu.project_id}": emu.token,
                       "GITHUB_OUTPUT": str(tmp_path / "out"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
                       "SRV_USER": "robot", "SRV_PASSWORD": PASSWORD}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_server.uri)
    targets = write_targets(tmp_path, f"""
        targets:
          - name: SRV
            mode: server
            registry: registry.example.com/partner
            image_tag: "{{version}}-domino"
            project_id: "{emu.project_id}"
            credentials: {{username: SRV_USER, password: SRV_PASSWORD}}
        """)

    assert main(["export", "--targets", str(targets), "--export-timeout", "120"]) == 1

    out, err = capsys.readouterr()
    image = f"registry.example.com/partner/{MODEL}:{good}-domino"
    assert f"Pushed {image}" in out  # the complete export's log, from Domino
    assert "the model version's image did not build" in out  # and the failed one's
    assert f"export of {MODEL} version {broken} to SRV failed" in err
    assert f"{MODEL} version {unserved} waits for export to SRV: no Model API serves this version" in err
    tag = export_tag(client, MODEL, good, "SRV")
    assert (tag["image"], tag["digest"], tag["mode"]) == (image, None, "server")
    assert export_tag(client, MODEL, broken, "SRV") is None and export_tag(client, MODEL, unserved, "SRV") is None
    (sent,) = [r for r in emu.requests if r.path.endswith("/exportImageToRegistry") and
               r.body["tag"] == f"{good}-domino"]
    assert (sent.body["registryUrl"], sent.body["repository"], sent.body["username"]) == (
        "registry.example.com", f"partner/{MODEL}", "robot")
    summary = (tmp_path / "summary.md").read_text()
    assert "did not build" in summary and PASSWORD not in summary + out + err
    result = json.loads(outputs(tmp_path / "out")["result-json"])
    assert {(o["version"], o["status"]) for o in result["outcomes"]} == {(good, "exported"), (broken, "failed")}

    exports_before = len(emu.world.exports)
    assert main(["export", "--targets", str(targets), "--export-timeout", "120"]) == 1  # the broken one again
    assert len(emu.world.exports) == exports_before + 1
    assert [e.version_id for e in emu.world.exports.values()][-1] == \
        client.get_model_version(MODEL, broken).tags["DOMINO_MODEL_VERSION_ID"]
