"""Apps the published way (issue 20, item 4), through the real pipeline against the emulator over
HTTP: the public Apps API where Domino has it (a publish is a new version, the entry point is
changed by PATCH, a put-back publishes the previous version again), the v4 routes on an older
Domino (a running app is stopped before it is started), and a smoke check that keeps the Domino
credential home and reads a login page as "cannot verify", never as a failure to put back."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from domino_emulator import Emulator

WRITES = ("POST", "PUT", "PATCH", "DELETE")


@pytest.fixture
def fresh(tmp_path, mlflow_server, monkeypatch):
    """A pipeline against an emulator of its own (its fault plan is this test's)."""
    from tests.apply.conftest import _workspace

    with Emulator(mlflow_uri=mlflow_server.uri, deploy_seconds=0.2) as emu:
        yield _workspace(tmp_path, mlflow_server.uri, emu, monkeypatch)


def manifest(pipeline, app: dict) -> None:
    doc = {pipeline.project_id: {"apps": [app]}}
    (pipeline.root / "scripts" / "model_version.json").write_text(json.dumps(doc))


def writes(pipeline) -> list[str]:
    return [r.route for r in pipeline.emu.requests if r.method in WRITES]


def versions(pipeline, app_id: str) -> list[dict]:
    return [v for v in pipeline.emu.world.app(app_id).versions]


def the_app(pipeline, name: str):
    return next(a for a in pipeline.emu.world.apps.values() if a.name == f"{name}-stage")


def test_public_api_publishes_versions_patches_the_entry_point_and_puts_back_the_previous_version(fresh):
    manifest(fresh, {"name": "dash", "entry_point": "app.sh", "hardware_tier": "small-k8s"})
    assert fresh.run("deploy", "--env", "STAGE") == 0
    app = the_app(fresh, "dash")
    assert writes(fresh) == ["POST /api/apps/beta/apps"]  # created with its first version, published
    assert len(versions(fresh, app.id)) == 1 and app.entry_point == "app.sh"

    manifest(fresh, {"name": "dash", "entry_point": "serve.sh", "hardware_tier": "small-k8s"})
    assert fresh.run("deploy", "--env", "STAGE") == 0
    assert writes(fresh)[1:] == ["PATCH /api/apps/beta/apps/{appId}", "POST /api/apps/beta/apps/{appId}/versions"]
    assert app.entry_point == "serve.sh" and len(versions(fresh, app.id)) == 2
    good = versions(fresh, app.id)[-1]

    # A new version on a tier whose data plane cannot serve fails; the previous version comes back.
    fresh.emu.set_faults({"failing_tiers": ["medium-k8s"]})
    manifest(fresh, {"name": "dash", "entry_point": "broken.sh", "hardware_tier": "medium-k8s"})
    assert fresh.run("deploy", "--env", "STAGE") == 1
    restored = versions(fresh, app.id)[-1]
    assert len(versions(fresh, app.id)) == 4  # the failed one, then the previous one published again
    assert (restored["hardware_tier_id"], restored["git_ref"]) == (good["hardware_tier_id"], good["git_ref"])
    assert app.entry_point == "serve.sh" and app.version_id == restored["id"]


def test_an_older_domino_gets_the_v4_routes_and_a_running_app_is_stopped_before_it_starts(fresh):
    fresh.emu.set_faults({"v4_apps_only": True})
    manifest(fresh, {"name": "old", "hardware_tier": "small-k8s"})
    assert fresh.run("deploy", "--env", "STAGE") == 0
    assert writes(fresh) == ["POST /v4/modelProducts", "POST /v4/modelProducts/{modelProductId}/start"]

    manifest(fresh, {"name": "old", "hardware_tier": "medium-k8s"})
    assert fresh.run("deploy", "--env", "STAGE") == 0
    assert writes(fresh)[2:] == ["POST /v4/modelProducts/{modelProductId}/stop",
                                 "POST /v4/modelProducts/{modelProductId}/start"]
    assert the_app(fresh, "old").hardware_tier_id == "medium-k8s"


class _AppHost(BaseHTTPRequestHandler):
    """Another host serving apps: it records the headers it gets and sends visitors to log in."""

    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        type(self).seen.append({k.lower(): v for k, v in self.headers.items()})
        self.send_response(302)
        self.send_header("Location", "/login?redirectPath=" + self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def app_host():
    _AppHost.seen = []
    server = ThreadingHTTPServer(("localhost", 0), _AppHost)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_address[1]}", _AppHost.seen
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("required, code", [(False, 0), (True, 3)])
def test_an_app_on_another_host_gets_no_credential_and_a_login_page_is_cannot_verify(fresh, app_host, capsys,
                                                                                    required, code):
    origin, seen = app_host
    fresh.emu.set_faults({"app_host": origin})
    if required:
        path = fresh.root / "scripts" / "environments.yaml"
        text = path.read_text()
        assert "    smoke_test:\n      enabled: true\n" in text
        path.write_text(text.replace("    smoke_test:\n      enabled: true\n",
                                     "    smoke_test:\n      enabled: true\n      required: true\n"))
    manifest(fresh, {"name": "away"})
    assert fresh.run("deploy", "--env", "STAGE") == code
    assert seen and all("x-domino-api-key" not in h and "authorization" not in h for h in seen)
    app = the_app(fresh, "away")
    assert app.stopped_at is None and len(app.versions) == 1  # left running: no put-back, no stop
    out = capsys.readouterr().out
    assert "cannot be verified" in out and "login" in out
