"""The HTTP layer: timeouts, retries with backoff, look-up-first creates, and our exceptions."""

from __future__ import annotations

import logging
import random
import socket
import time
from email.utils import formatdate

import pytest
import requests

from domino_mlops.clients.http import Reply, retry_after_seconds
from domino_mlops.errors import (
    AuthenticationFailed,
    BadResponse,
    CredentialsExpired,
    NotFound,
    PermissionDenied,
    RemoteError,
    Unreachable,
)
from tests.clients.domino_fakes import API_KEY, HOST, calls_to, make_http

URL = f"{HOST}/version"
OK = {"version": "6.1.0"}


# --- retries of idempotent calls ---------------------------------------------------------------


def test_every_call_carries_connect_and_read_timeouts(rsps):
    http, _ = make_http(timeout=(2.0, 9.0))
    rsps.get(URL, json=OK)
    http.call("GET", "/version")
    assert rsps.calls[0].request.req_kwargs["timeout"] == (2.0, 9.0)


def test_429_with_retry_after_seconds_is_honoured_then_succeeds(rsps):
    http, sleeps = make_http()
    rsps.get(URL, status=429, headers={"Retry-After": "7"}, json={"message": "slow down"})
    rsps.get(URL, json=OK)
    reply = http.call("GET", "/version")
    assert reply == Reply(200, OK, "GET /version")
    assert sleeps == [7.0]
    assert len(rsps.calls) == 2


def test_retry_after_as_http_date_is_honoured(rsps):
    now = 1_700_000_000.0
    http, sleeps = make_http(clock=lambda: now)
    rsps.get(URL, status=503, headers={"Retry-After": formatdate(now + 12, usegmt=True)})
    rsps.get(URL, json=OK)
    http.call("GET", "/version")
    assert sleeps == [pytest.approx(12.0)]


def test_retry_after_is_capped(rsps):
    http, sleeps = make_http(retry_after_cap=60.0, retry_budget=120.0)
    rsps.get(URL, status=429, headers={"Retry-After": "86400"})
    rsps.get(URL, json=OK)
    http.call("GET", "/version")
    assert sleeps == [60.0]


def test_a_flaky_but_alive_server_is_retried_for_the_budget_not_a_count(rsps):
    http, sleeps = make_http()  # 60 s per call, backoff 0.5 s doubling up to 10 s
    for _ in range(8):
        rsps.get(URL, status=503)
    rsps.get(URL, json=OK)
    assert http.call("GET", "/version").body == OK
    assert sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]  # jitter pinned to its maximum


def test_retries_stop_when_the_next_wait_would_end_beyond_the_budget(rsps):
    http, sleeps = make_http(retry_budget=20.0)
    rsps.get(URL, status=502)
    with pytest.raises(RemoteError) as caught:
        http.call("GET", "/version")
    assert sleeps == [0.5, 1.0, 2.0, 4.0, 8.0]  # 15.5 s; a 10 s wait more would end at 25.5 s
    assert caught.value.status == 502 and len(rsps.calls) == 6


def test_a_retry_after_longer_than_the_budget_left_is_not_waited_for(rsps):
    http, sleeps = make_http(retry_budget=30.0)
    rsps.get(URL, status=429, headers={"Retry-After": "45"}, json={"message": "slow down"})
    with pytest.raises(RemoteError) as caught:
        http.call("GET", "/version")
    assert sleeps == [] and caught.value.status == 429 and caught.value.retry_after == 45.0
    assert "rate limiting" in caught.value.hint


def test_503_twice_then_success(rsps):
    http, sleeps = make_http(backoff_base=0.5)
    rsps.get(URL, status=503)
    rsps.get(URL, status=503)
    rsps.get(URL, json=OK)
    assert http.call("GET", "/version").body == OK
    assert len(rsps.calls) == 3
    assert sleeps == [0.5, 1.0]  # jitter pinned to its maximum: base * 2**attempt


def test_backoff_grows_exponentially_and_is_capped_then_gives_up(rsps):
    http, sleeps = make_http(max_retries=5, backoff_base=1.0, backoff_cap=5.0)
    rsps.get(URL, status=502, json={"message": "bad gateway", "errors": ["upstream down"]})
    with pytest.raises(RemoteError) as caught:
        http.call("GET", "/version")
    assert sleeps == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert len(rsps.calls) == 6  # one try + five retries
    assert caught.value.status == 502
    assert "bad gateway; upstream down" in str(caught.value)


def test_full_jitter_stays_between_zero_and_the_exponential_ceiling(rsps):
    http, sleeps = make_http(max_retries=8, backoff_base=0.5, backoff_cap=10.0, rng=random.Random(7))
    rsps.get(URL, status=504)
    with pytest.raises(RemoteError):
        http.call("GET", "/version")
    ceilings = [min(10.0, 0.5 * 2**n) for n in range(8)]
    assert len(sleeps) == 8
    assert all(0.0 <= s <= c for s, c in zip(sleeps, ceilings, strict=True))
    assert sleeps != ceilings  # jitter is really applied


def test_connection_errors_on_get_are_retried(rsps):
    http, sleeps = make_http()
    rsps.get(URL, body=requests.ConnectionError("reset by peer"))
    rsps.get(URL, json=OK)
    assert http.call("GET", "/version").body == OK
    assert len(sleeps) == 1


def test_put_and_delete_are_retried_too(rsps):
    http, _ = make_http()
    rsps.put(f"{HOST}/thing", status=503)
    rsps.put(f"{HOST}/thing", json={"id": "t"})
    rsps.delete(f"{HOST}/thing", status=502)
    rsps.delete(f"{HOST}/thing", status=204)
    assert http.call("PUT", "/thing", json={"a": 1}).body == {"id": "t"}
    assert http.call("DELETE", "/thing", expect="none").body is None
    assert len(rsps.calls) == 4


def test_500_is_not_transient_and_is_not_retried(rsps):
    http, sleeps = make_http()
    rsps.get(URL, status=500, json={"message": "NullPointerException"})
    with pytest.raises(RemoteError, match=r"500.*NullPointerException"):
        http.call("GET", "/version")
    assert len(rsps.calls) == 1 and sleeps == []


# --- POST: never retried blindly -----------------------------------------------------------------


def test_post_is_never_retried_on_503(rsps):
    http, sleeps = make_http()
    rsps.post(f"{HOST}/things", status=503)
    rsps.post(f"{HOST}/things", json={"id": "dup"})
    with pytest.raises(RemoteError) as caught:
        http.call("POST", "/things", json={"name": "x"})
    assert caught.value.status == 503
    assert len(rsps.calls) == 1 and sleeps == []


def test_post_is_never_retried_on_connection_error_or_429(rsps):
    http, sleeps = make_http()
    rsps.post(f"{HOST}/a", body=requests.ConnectionError("boom"))
    rsps.post(f"{HOST}/b", status=429, headers={"Retry-After": "1"})
    with pytest.raises(Unreachable):
        http.call("POST", "/a")
    with pytest.raises(RemoteError, match="429"):
        http.call("POST", "/b")
    assert len(rsps.calls) == 2 and sleeps == []


def _create_calls(http):
    post = lambda: http.call("POST", "/things", json={"name": "churn"}).body["id"]  # noqa: E731

    def lookup():
        items = http.call("GET", "/things").body
        return next((t["id"] for t in items if t["name"] == "churn"), None)

    return post, lookup


def test_post_that_timed_out_but_happened_is_found_not_duplicated(rsps):
    http, _ = make_http()
    rsps.post(f"{HOST}/things", body=requests.ReadTimeout("read timed out"))
    rsps.get(f"{HOST}/things", json=[{"id": "t-1", "name": "churn"}])
    post, lookup = _create_calls(http)
    assert http.create_idempotent(post, lookup, what="thing 'churn'") == "t-1"
    assert len(calls_to(rsps, "POST", "/things")) == 1
    assert len(calls_to(rsps, "GET", "/things")) == 1


def test_post_that_failed_ambiguously_and_did_not_happen_is_retried_once(rsps):
    http, sleeps = make_http()
    rsps.post(f"{HOST}/things", status=502)
    rsps.post(f"{HOST}/things", json={"id": "t-2"})
    rsps.get(f"{HOST}/things", json=[])
    post, lookup = _create_calls(http)
    assert http.create_idempotent(post, lookup, what="thing 'churn'") == "t-2"
    methods = [c.request.method for c in rsps.calls]
    assert methods == ["POST", "GET", "POST"]  # looked up before posting again
    assert len(sleeps) == 1


def test_a_create_is_posted_again_after_each_lookup_while_the_budget_lasts(rsps):
    http, sleeps = make_http()
    for status in (503, 429, 502):
        rsps.post(f"{HOST}/things", status=status)
    rsps.post(f"{HOST}/things", json={"id": "t-3"})
    rsps.get(f"{HOST}/things", json=[])
    post, lookup = _create_calls(http)
    assert http.create_idempotent(post, lookup, what="thing 'churn'") == "t-3"
    assert [c.request.method for c in rsps.calls] == ["POST", "GET"] * 3 + ["POST"]  # never blindly
    assert len(sleeps) == 3


def test_create_gives_up_after_its_attempts_and_looks_up_after_the_last(rsps):
    http, _ = make_http(create_attempts=2)
    rsps.post(f"{HOST}/things", status=504)
    rsps.get(f"{HOST}/things", json=[])
    post, lookup = _create_calls(http)
    with pytest.raises(RemoteError) as caught:
        http.create_idempotent(post, lookup, what="thing 'churn'")
    assert caught.value.status == 504
    assert [c.request.method for c in rsps.calls] == ["POST", "GET", "POST", "GET"]


def test_create_refused_outright_is_not_looked_up_or_retried(rsps):
    http, _ = make_http()
    rsps.post(f"{HOST}/things", status=400, json={"message": "name is taken"})
    post, lookup = _create_calls(http)
    with pytest.raises(RemoteError, match="name is taken"):
        http.create_idempotent(post, lookup, what="thing 'churn'")
    assert [c.request.method for c in rsps.calls] == ["POST"]


# --- statuses become our exceptions ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, AuthenticationFailed), (403, PermissionDenied), (409, CredentialsExpired)],
)
def test_auth_statuses_are_distinct_and_never_show_the_secret(rsps, caplog, status, error):
    caplog.set_level(logging.DEBUG)
    http, _ = make_http(conflict_means_expired=True)
    rsps.get(URL, status=status, json={"message": f"credential {API_KEY} refused"})
    with pytest.raises(error) as caught:
        http.call("GET", "/version")
    exc = caught.value
    assert type(exc) is error
    text = " ".join([str(exc), repr(exc), exc.hint, caplog.text])
    assert API_KEY not in text
    assert "GET /version" in str(exc)
    assert "DOMINO_USER_API_KEY" in str(exc)
    if status in (401, 403):
        assert "DOMINO_USER_API_KEY" in exc.hint


def test_another_service_keeps_409_as_a_conflict_and_speaks_in_its_own_name(rsps):
    """The session layer also carries GitHub calls: Domino's meaning of 409 and its name stay Domino's."""
    http, _ = make_http(service="GitHub", conflict_means_expired=False, max_retries=0)
    rsps.get(URL, status=409, json={"message": "conflict"})
    with pytest.raises(RemoteError) as conflict:
        http.call("GET", "/version")
    assert type(conflict.value) is RemoteError and conflict.value.status == 409
    rsps.replace(rsps.GET, URL, status=429, json={"message": "slow down"})
    with pytest.raises(RemoteError) as limited:
        http.call("GET", "/version")
    assert limited.value.hint.startswith("GitHub is rate limiting") and "Domino" not in limited.value.hint


def test_404_is_not_found_with_the_servers_message(rsps):
    http, _ = make_http()
    rsps.get(f"{HOST}/v4/projects/p9", status=404, json={"message": "project p9 not found"})
    with pytest.raises(NotFound, match="project p9 not found"):
        http.call("GET", "/v4/projects/p9")


def test_other_4xx_is_a_remote_error_with_the_servers_message(rsps):
    http, _ = make_http()
    rsps.post(f"{HOST}/things", status=400, json={"message": "invalid body", "errors": ["body.name is required"]})
    with pytest.raises(RemoteError) as caught:
        http.call("POST", "/things", json={})
    assert caught.value.status == 400
    assert caught.value.detail == "invalid body; body.name is required"


def test_an_html_error_page_is_not_repeated_in_the_message(rsps):
    http, _ = make_http()
    rsps.get(URL, status=502, body="<html><body>nginx bad gateway</body></html>", content_type="text/html")
    with pytest.raises(RemoteError) as caught:
        http.call("GET", "/version")
    assert "nginx" not in str(caught.value)


# --- garbage answers -----------------------------------------------------------------------------------


def test_html_login_page_with_200_is_a_bad_response(rsps):
    http, _ = make_http()
    rsps.get(URL, body="<!DOCTYPE html><html><title>Sign in</title></html>", content_type="text/html")
    with pytest.raises(BadResponse) as caught:
        http.call("GET", "/version")
    assert "GET /version" in str(caught.value)
    assert "not JSON" in str(caught.value) and "text/html" in str(caught.value)


def test_truncated_json_is_a_bad_response_that_does_not_quote_the_body(rsps):
    http, _ = make_http()
    rsps.post(f"{HOST}/tokens", body='{"id": "t1", "token": "tok-SECRET-77', content_type="application/json")
    with pytest.raises(BadResponse) as caught:
        http.call("POST", "/tokens", json={"name": "smoke"})
    assert "tok-SECRET-77" not in str(caught.value)
    assert isinstance(caught.value.__cause__, ValueError)  # translated once, chained


def test_an_empty_body_where_json_is_expected_is_a_bad_response(rsps):
    http, _ = make_http()
    rsps.get(URL, body="")
    with pytest.raises(BadResponse, match="empty"):
        http.call("GET", "/version")


def test_a_redirect_is_not_followed_so_the_api_key_never_reaches_another_host(rsps):
    http, _ = make_http()
    rsps.get(URL, status=302, headers={"Location": "https://sso.example.com/login?state=abc"})
    rsps.get("https://sso.example.com/login", body="<html>login</html>")
    with pytest.raises(BadResponse) as caught:
        http.call("GET", "/version")
    assert "redirected (302) to sso.example.com/login" in str(caught.value)
    assert "state=abc" not in str(caught.value)
    assert [c.request.url for c in rsps.calls] == [URL]


# --- unreachable ------------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the block ends: nothing listens there


def test_unreachable_host_fails_fast_with_the_url():
    port = _closed_port()
    http, sleeps = make_http(f"http://127.0.0.1:{port}", timeout=(0.5, 0.5))
    started = time.monotonic()
    with pytest.raises(Unreachable) as caught:
        http.call("GET", "/version")
    assert time.monotonic() - started < 1.0
    assert f"http://127.0.0.1:{port}/version" in str(caught.value)
    assert "connection refused" in str(caught.value)
    assert isinstance(caught.value.__cause__, requests.ConnectionError)
    # Retried (GET), with no real waiting in tests, within the short budget of a refused connection.
    assert sleeps == [0.5, 1.0, 2.0] and sum(sleeps) <= http.refused_budget < http.retry_budget


def test_read_timeout_says_which_timeout(rsps):
    http, _ = make_http(max_retries=0, timeout=(3.0, 12.0))
    rsps.get(URL, body=requests.ReadTimeout("read timed out"))
    with pytest.raises(Unreachable, match=r"no answer within 12s \(read timeout\)"):
        http.call("GET", "/version")


# --- Retry-After parsing -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("", None), ("soon", None), ("0", 0.0), ("120", 120.0),
     (formatdate(1_000, usegmt=True), 0.0)],  # a date in the past: go now
)
def test_retry_after_seconds(value, expected):
    assert retry_after_seconds(value, now=2_000.0) == expected


def test_debug_log_names_the_call_but_no_headers_or_bodies(rsps, caplog):
    caplog.set_level(logging.DEBUG, logger="domino_mlops.clients.http")
    http, _ = make_http()
    rsps.post(f"{HOST}/things", json={"secretField": "body-SECRET"})
    http.call("POST", "/things", json={"password": "pw-SECRET"})
    assert "POST /things -> 200" in caplog.text
    assert "SECRET" not in caplog.text
