"""Domino configuration and credentials: precedence, headers, token files, proxy, no leaks."""

from __future__ import annotations

import base64
import logging

import pytest
import requests

from domino_mlops.clients.domino.client import DominoClient
from domino_mlops.clients.domino.auth import (
    ApiKeyAuth,
    BearerTokenAuth,
    DominoConfig,
    ModelTokenAuth,
    ProxyAuth,
    TokenFileAuth,
)
from domino_mlops.errors import AuthenticationFailed, ConfigError, CredentialMissing
from tests.clients.domino_fakes import API_KEY, HOST, make_client
from tests.support import domino_payloads as p

TOKEN = "bearer-SECRET-41aa"
ENVS = f"/v4/projects/{p.PROJECT}/useableEnvironments"
ENVS_ANSWER = p.environments((p.ENV, "Domino Standard", "Global"), selected=p.ENV)


def env(**values: str) -> dict[str, str]:
    return {"DOMINO_API_HOST": HOST, **values}


# --- host ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "kept"),
    [("https://domino.example.com", "https://domino.example.com"),
     ("https://domino.example.com/overview?x=1", "https://domino.example.com"),
     ("http://LOCALHOST:8800/", "http://localhost:8800"),
     (" https://domino.example.com:443 ", "https://domino.example.com:443")],
)
def test_host_keeps_only_scheme_host_and_port(given, kept):
    assert DominoConfig.from_env({"DOMINO_API_HOST": given, "DOMINO_USER_API_KEY": "k"}).host == kept


@pytest.mark.parametrize("given", ["domino.example.com", "ftp://domino.example.com", "https://", "http://h:99999"])
def test_host_without_a_usable_scheme_is_a_config_error(given):
    with pytest.raises(ConfigError) as caught:
        DominoConfig.from_env({"DOMINO_API_HOST": given, "DOMINO_USER_API_KEY": "k"})
    assert "DOMINO_API_HOST" in str(caught.value) and caught.value.hint


def test_missing_host_says_which_variable_to_set():
    with pytest.raises(ConfigError, match="DOMINO_API_HOST is not set") as caught:
        DominoConfig.from_env({"DOMINO_USER_API_KEY": "k"})
    assert "https://" in caught.value.hint


def test_credentials_in_the_host_url_are_refused_without_echoing_them():
    with pytest.raises(ConfigError) as caught:
        DominoConfig.from_env({"DOMINO_API_HOST": "https://bob:pw-SECRET@domino.example.com",
                               "DOMINO_USER_API_KEY": "k"})
    assert "pw-SECRET" not in str(caught.value) + caught.value.hint


# --- which credential wins -------------------------------------------------------------------------------


def test_precedence_token_then_file_then_api_key_then_proxy(tmp_path):
    all_four = env(DOMINO_TOKEN_FILE=str(tmp_path / "t"), DOMINO_USER_API_KEY=API_KEY,
                   DOMINO_API_PROXY="http://localhost:8899")
    assert isinstance(DominoConfig.from_env(all_four, token=TOKEN).auth, BearerTokenAuth)
    assert isinstance(DominoConfig.from_env(all_four).auth, TokenFileAuth)
    del all_four["DOMINO_TOKEN_FILE"]
    assert isinstance(DominoConfig.from_env(all_four).auth, ApiKeyAuth)
    del all_four["DOMINO_USER_API_KEY"]
    config = DominoConfig.from_env(all_four)
    assert isinstance(config.auth, ProxyAuth)
    assert config.api_base_url == "http://localhost:8899" and config.host == HOST


def test_empty_values_count_as_unset_like_a_missing_github_secret():
    config = DominoConfig.from_env(env(DOMINO_TOKEN_FILE="", DOMINO_USER_API_KEY=API_KEY), token="  ")
    assert isinstance(config.auth, ApiKeyAuth)


def test_no_credential_at_all_is_credential_missing_with_a_hint():
    with pytest.raises(CredentialMissing) as caught:
        DominoConfig.from_env(env())
    for name in ("DOMINO_USER_API_KEY", "DOMINO_TOKEN_FILE", "DOMINO_API_PROXY"):
        assert name in caught.value.hint


def test_proxy_given_as_host_port_gets_http():
    config = DominoConfig.from_env(env(DOMINO_API_PROXY="localhost:8899"))
    assert config.proxy == "http://localhost:8899"


def test_explicit_token_names_its_source():
    config = DominoConfig.from_env(env(), token=TOKEN, token_source="secret PROJECT_ID_abc")
    assert config.credential_source == "secret PROJECT_ID_abc"


# --- secrets never show ------------------------------------------------------------------------------------


def test_secrets_never_appear_in_repr_or_str(tmp_path):
    objects = [
        DominoConfig.from_env(env(DOMINO_USER_API_KEY=API_KEY)),
        DominoConfig.from_env(env(), token=TOKEN),
        ApiKeyAuth(API_KEY), BearerTokenAuth(TOKEN), ModelTokenAuth(TOKEN),
    ]
    for obj in objects:
        for text in (repr(obj), str(obj)):
            assert API_KEY not in text and TOKEN not in text
    assert "DOMINO_USER_API_KEY" in repr(objects[0])  # the source is shown, for debugging


def test_refused_credential_names_its_source_and_hides_its_value(rsps, caplog):
    caplog.set_level(logging.DEBUG)
    client, _ = make_client()
    rsps.get(f"{HOST}{ENVS}", status=401, json={"message": "invalid key"})
    with pytest.raises(AuthenticationFailed) as caught:
        client.project_environments(p.PROJECT)
    assert "DOMINO_USER_API_KEY" in str(caught.value)
    assert API_KEY not in str(caught.value) + repr(caught.value) + caught.value.hint + caplog.text


# --- what goes on the wire ------------------------------------------------------------------------------------


def test_api_key_goes_in_its_own_header_not_as_bearer(rsps):
    client, _ = make_client()
    rsps.get(f"{HOST}{ENVS}", json=ENVS_ANSWER)
    client.project_environments(p.PROJECT)
    headers = rsps.calls[0].request.headers
    assert headers["X-Domino-Api-Key"] == API_KEY
    assert "Authorization" not in headers


def test_explicit_token_is_sent_as_bearer(rsps):
    client = DominoClient.from_env(env(), token=TOKEN)
    rsps.get(f"{HOST}{ENVS}", json=ENVS_ANSWER)
    client.project_environments(p.PROJECT)
    assert rsps.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_token_file_is_read_again_on_every_request(rsps, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("token-one\n")
    client, _ = make_client(env(DOMINO_TOKEN_FILE=str(token_file)))
    rsps.get(f"{HOST}{ENVS}", json=ENVS_ANSWER)
    client.project_environments(p.PROJECT)
    token_file.write_text("token-two\n")  # the refresher rewrote it meanwhile
    client.project_environments(p.PROJECT)
    sent = [c.request.headers["Authorization"] for c in rsps.calls]
    assert sent == ["Bearer token-one", "Bearer token-two"]


def test_unreadable_token_file_is_credential_missing_before_any_request(rsps, tmp_path):
    client, _ = make_client(env(DOMINO_TOKEN_FILE=str(tmp_path / "absent")))
    rsps.get(f"{HOST}{ENVS}", json=ENVS_ANSWER)
    with pytest.raises(CredentialMissing) as caught:
        client.project_environments(p.PROJECT)
    assert "DOMINO_TOKEN_FILE" in str(caught.value) and str(tmp_path / "absent") in str(caught.value)
    assert len(rsps.calls) == 0


def test_empty_token_file_is_credential_missing(rsps, tmp_path):
    (tmp_path / "token").write_text("\n")
    client, _ = make_client(env(DOMINO_TOKEN_FILE=str(tmp_path / "token")))
    with pytest.raises(CredentialMissing, match="empty"):
        client.project_environments(p.PROJECT)


def test_proxy_mode_sends_requests_to_the_proxy_without_credentials(rsps):
    client, _ = make_client(env(DOMINO_API_PROXY="http://localhost:8899"))
    rsps.get(f"http://localhost:8899{ENVS}", json=ENVS_ANSWER)
    assert client.project_environments(p.PROJECT).selected_id == p.ENV
    request = rsps.calls[0].request
    assert request.url == f"http://localhost:8899{ENVS}"
    assert "Authorization" not in request.headers and "X-Domino-Api-Key" not in request.headers


def test_predictions_bypass_the_proxy_and_carry_only_the_model_token(rsps):
    client, _ = make_client(env(DOMINO_API_PROXY="http://localhost:8899"))
    rsps.post(f"{HOST}/models/m1/latest/model", json={"result": [1]})
    client.deployments.predict("m1", {"x": 1}, token="model-tok")
    request = rsps.calls[0].request
    expected = base64.b64encode(b"model-tok:model-tok").decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert "X-Domino-Api-Key" not in request.headers


def test_proxy_auth_strips_any_stray_credential():
    request = requests.Request("GET", "http://localhost:8899/version",
                               headers={"Authorization": "Bearer stale", "X-Domino-Api-Key": "stale"}).prepare()
    ProxyAuth()(request)
    assert "Authorization" not in request.headers and "X-Domino-Api-Key" not in request.headers


@pytest.mark.parametrize("host", [f"user:{API_KEY}@domino.example.com", f"https://user:{API_KEY}@domino.example.com",
                                  f"ftp://u:{API_KEY}@h", f"http://u:{API_KEY}@[::1"])
def test_a_host_with_a_password_is_refused_without_showing_it(host: str) -> None:
    with pytest.raises(ConfigError) as info:
        DominoConfig.from_env({"DOMINO_API_HOST": host, "DOMINO_USER_API_KEY": "k"})
    assert API_KEY not in str(info.value) and API_KEY not in info.value.hint
    assert "***@" in str(info.value) and info.value.exit_code == 2
