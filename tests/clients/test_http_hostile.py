"""The HTTP layer against a real hostile server on loopback: every broken answer ends in one of
our exceptions naming the service and the endpoint, within the deadline and the size limit."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from domino_mlops.clients.domino.client import DominoClient
from domino_mlops.clients.domino.auth import DominoConfig
from domino_mlops.errors import BadResponse, DominoMlopsError, RemoteError, Unreachable
from tests.clients.domino_fakes import API_KEY, make_http
from tests.support.hostile_server import HostileServer, hostile_server

# Generous on purpose: the point is "ends", not "ends fast", and CI machines are busy. Without
# the deadline these tests would never end at all.
ENDS_WITHIN = 30.0


@pytest.fixture
def server():
    with hostile_server() as running:
        yield running


def http_for(server: HostileServer, **options):
    options.setdefault("timeout", (2.0, 5.0))
    options.setdefault("max_retries", 0)
    http, _ = make_http(server.url, **options)
    return http


def test_an_html_page_with_200_is_a_bad_response_naming_the_endpoint(server) -> None:
    server.answer("html")
    with pytest.raises(BadResponse) as info:
        http_for(server).call("GET", "/v4/projects/abc")
    message = str(info.value)
    assert "Domino" in message and "GET /v4/projects/abc" in message and "not JSON (text/html" in message
    assert "Sign in" not in message and info.value.hint


def test_an_html_error_page_is_a_remote_error_without_the_page(server) -> None:
    server.answer("html", status=502)
    with pytest.raises(RemoteError) as info:
        http_for(server).call("GET", "/v4/projects/abc")
    assert info.value.status == 502 and "GET /v4/projects/abc" in str(info.value)
    assert "<html" not in str(info.value).lower()


def test_truncated_json_is_cut_off_not_parsed(server) -> None:
    server.answer("truncated", body=b'{"id": "abc", "name": "demo"}')
    with pytest.raises(Unreachable) as info:
        http_for(server).call("GET", "/v4/projects/abc")
    assert "cut off" in str(info.value) and server.url in str(info.value)


def test_a_drip_fed_body_ends_at_the_total_deadline_and_is_not_retried(server) -> None:
    server.answer("drip")
    started = time.monotonic()
    with pytest.raises(Unreachable) as info:
        # The read timeout (5 s) is never reached: a byte arrives every 0.05 s.
        http_for(server, deadline=1.0, max_retries=3).call("GET", "/v4/projects/abc")
    assert time.monotonic() - started < ENDS_WITHIN
    assert "no complete answer within 1s (total deadline" in str(info.value)
    assert f"{server.url}/v4/projects/abc" in str(info.value)
    assert len(server.requests) == 1  # a trickling server is not a blip to retry


def test_drip_fed_headers_end_at_the_total_deadline_too(server) -> None:
    server.answer("drip-headers")
    started = time.monotonic()
    with pytest.raises(Unreachable, match="total deadline"):
        http_for(server, deadline=1.0).call("GET", "/version")
    assert time.monotonic() - started < ENDS_WITHIN


def test_a_post_that_drips_is_stopped_too(server) -> None:
    server.answer("drip")
    with pytest.raises(Unreachable, match="total deadline"):
        http_for(server, deadline=1.0).call("POST", "/api/modelServing/v1/modelApis", json={"a": 1})


def test_an_announced_huge_body_is_refused_without_reading_it(server) -> None:
    server.answer("huge")  # 64 MiB with Content-Length
    with pytest.raises(BadResponse) as info:
        http_for(server).call("GET", "/v4/projects/abc/hardwareTiers")
    assert "larger than 32 MiB (announced as 67108864 bytes)" in str(info.value)
    assert "GET /v4/projects/abc/hardwareTiers" in str(info.value)


def test_an_endless_body_is_read_only_up_to_the_limit(server) -> None:
    server.answer("endless")  # chunked, no length, never ends
    tracemalloc.start()
    try:
        with pytest.raises(BadResponse, match=r"larger than 32 MiB \(still coming\)"):
            http_for(server).call("GET", "/v4/projects/abc")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 40 * 1024 * 1024  # the 32 MiB kept, plus one chunk and change


def test_the_limit_is_configurable(server) -> None:
    server.answer("json", body=b"[" + b"0," * 10_000 + b"0]")
    with pytest.raises(BadResponse, match="larger than 1000 bytes"):
        http_for(server, max_body_bytes=1000).call("GET", "/v4/projects/abc")


def test_a_dropped_connection_says_so(server) -> None:
    server.answer("close")
    with pytest.raises(Unreachable, match="closed the connection without answering"):
        http_for(server).call("GET", "/version")


def test_silence_is_a_read_timeout(server) -> None:
    server.answer("silent")
    with pytest.raises(Unreachable, match=r"no answer within 0.5s \(read timeout\)"):
        http_for(server, timeout=(2.0, 0.5)).call("GET", "/version")


@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"a": ' + b"9" * 5000 + b"}", b"\xff\xfe\x00garbage",
                                  b'{"id": "x"' + b" " * 1000])
def test_unparseable_json_is_a_bad_response(server, body: bytes) -> None:
    server.answer("json", body=body)
    with pytest.raises(BadResponse, match="the body is not JSON"):
        http_for(server).call("GET", "/v4/projects/abc")


@pytest.mark.parametrize("body", [b'{"id": 5}', b"[]", b"null", b'"text"', b'{"id": "p1", "name": ["x"]}',
                                  b"[" * 50 + b"]" * 50])
def test_wrong_shapes_reach_the_caller_as_bad_response_naming_the_endpoint(server, body: bytes) -> None:
    server.answer("json", body=body)
    client = DominoClient.from_config(DominoConfig.from_env({"DOMINO_API_HOST": server.url,
                                                             "DOMINO_USER_API_KEY": API_KEY}),
                                      max_retries=0, timeout=(2.0, 5.0))
    with pytest.raises(DominoMlopsError) as info:
        client.get_project("p1")
    assert isinstance(info.value, BadResponse) and "GET /v4/projects/p1" in str(info.value)


def test_https_at_a_plain_http_server_is_one_configuration_error_without_retries(server) -> None:
    """The TLS handshake fails the same way every time: the old code retried it for ~52 s and
    printed the pool's repr. Now: no retry (the recorded sleeps stay empty), exit 2, one line."""
    http, sleeps = make_http(server.url.replace("http://", "https://"), timeout=(2.0, 5.0))  # default retries

    with pytest.raises(DominoMlopsError) as info:
        http.call("GET", "/v4/projects/abc")

    assert info.value.exit_code == 2 and sleeps == []
    assert str(info.value) == f"the Domino server at {server.url.replace('http://', 'https://')} does not speak TLS " \
                              "(the TLS handshake failed)"
    assert "http://" in info.value.hint and "Pool" not in info.value.hint
