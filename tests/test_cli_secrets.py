"""A password written into MLFLOW_TRACKING_URI (http://user:PASSWORD@host) never reaches the log,
the annotations, the step summary or the outputs, on any error path that carries the URI.

The runner hides masked values from the log; the `::add-mask::` line itself is how it learns
them, so those lines are the one place the value may appear on stdout.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from domino_mlops.cli import main
from tests.support.hostile_server import hostile_server

PASSWORD = "Pa55-SECRET-7f3c9e"
ENCODED = "p%40ss%2F-SECRET-41d2"  # "p@ss/-SECRET-41d2" percent-encoded, as a careful user writes it
DECODED = "p@ss/-SECRET-41d2"


@pytest.fixture
def actions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A GitHub Actions step: annotations, a summary file and an output file, in a project dir."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "model_version.json").write_text(json.dumps({"p1": [{"name": "churn", "version": 1}]}))
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "output"))
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "2")
    return tmp_path


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_plan(root: Path, uri: str, monkeypatch, capsys) -> tuple[int, str]:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    code = main(["plan", "--env", "STAGE"])
    out, err = capsys.readouterr()
    shown = "\n".join(line for line in (out + err).splitlines() if not line.startswith("::add-mask::"))
    files = "".join(p.read_text() for p in (root / "summary.md", root / "output") if p.exists())
    return code, shown + "\n" + files


def assert_hidden(everything: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in everything, everything


# (scenario, status, body): each an error path that carries the tracking URI
ANSWERS = [
    ("json", 401, b'{"error_code": "UNAUTHENTICATED", "message": "Unauthenticated"}'),
    ("html", 401, b""),
    ("html", 200, b""),  # a login page: not JSON
    ("json", 200, b'{"registered_model": 7}'),  # the wrong shape
    # A server that echoes the URL it was called with, and the password in it: {userinfo} and
    # {password} are filled in with the test's own.
    ("json", 400, b'{"error_code": "INVALID_PARAMETER_VALUE", "message": "bad login http://{userinfo}@host for '
                  b'{password}"}'),
    ("html", 500, b""),
    ("drip", 200, b""),  # stopped by the total deadline
]


@pytest.mark.parametrize(("scenario", "status", "body"), ANSWERS, ids=[f"{a[0]}-{a[1]}" for a in ANSWERS])
@pytest.mark.parametrize("userinfo", [f"user:{PASSWORD}", f"user:{ENCODED}"], ids=["plain", "percent-encoded"])
def test_no_error_path_shows_the_password(actions: Path, monkeypatch, capsys, scenario: str, status: int,
                                          body: bytes, userinfo: str) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "1")
    password = userinfo.split(":", 1)[1]
    body = body.replace(b"{userinfo}", userinfo.encode()).replace(b"{password}", password.encode())
    with hostile_server() as server:
        server.answer(scenario, status=status, body=body)
        uri = server.url.replace("http://", f"http://{userinfo}@")
        code, everything = run_plan(actions, uri, monkeypatch, capsys)
    assert code in (1, 2), everything
    assert_hidden(everything, PASSWORD, ENCODED, DECODED)
    assert "Traceback" not in everything and "::error" in everything
    if status != 400:  # "MLflow refused ...: <its words>" names the model, not the server
        assert f"http://***@127.0.0.1:{server.url.rsplit(':', 1)[1]}" in everything  # the URI, without its secret
    else:
        assert "bad login http://***@host for ***" in everything


def test_an_unreachable_server_does_not_show_the_password(actions: Path, monkeypatch, capsys) -> None:
    code, everything = run_plan(actions, f"http://user:{PASSWORD}@127.0.0.1:{closed_port()}", monkeypatch, capsys)
    assert code == 1 and "cannot reach MLflow at http://***@127.0.0.1:" in everything
    assert_hidden(everything, PASSWORD)


@pytest.mark.parametrize("uri", [f"user:{PASSWORD}@localhost:5000", f"ftp://user:{PASSWORD}@host",
                                 f"http://user:{PASSWORD}@[::1"])
def test_a_bad_uri_with_a_password_is_refused_without_showing_it(actions: Path, monkeypatch, capsys,
                                                                  uri: str) -> None:
    code, everything = run_plan(actions, uri, monkeypatch, capsys)
    assert code == 2 and "MLFLOW_TRACKING_URI" in everything and "hint:" not in everything.split("::error")[0]
    assert_hidden(everything, PASSWORD)


def test_the_password_is_masked_the_moment_it_is_read(actions: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://user:{PASSWORD}@127.0.0.1:{closed_port()}")
    main(["plan", "--env", "STAGE"])
    out = capsys.readouterr().out
    assert f"::add-mask::{PASSWORD}" in out
