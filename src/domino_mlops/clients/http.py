"""The one HTTP session layer: timeouts, retries, and our exceptions instead of requests'.

Every request to Domino (and to the models deployed on it) goes through `HttpClient.call`, so
the rules live in one place:

- every call has a (connect, read) timeout: a hung server must not hang a workflow for hours;
  and a total deadline per request (clients/deadline.py), since the read timeout restarts with
  each byte and a server that drips one byte a second would never hit it;
- an answer is read in pieces and cut at ``max_body_bytes``: a 5 GB error page must not
  become 5 GB of memory (nor a 5 GB message);
- idempotent methods (GET, HEAD, PUT, DELETE) are retried on connection errors, 429 and
  502/503/504, with exponential backoff and full jitter, honouring ``Retry-After``, for as long
  as the retries fit in a time budget (`Retries`: 60 s per call by default), not a fixed count:
  a flaky but alive Domino must not fail a run. A refused connection (nothing listens: a wrong
  URL, a server down) gets a short budget (5 s), so a typo still fails in seconds;
- POST is never retried here, because a blind retry of a create can deploy twice.
  `HttpClient.create_idempotent` first looks up whether an ambiguous POST happened, and posts
  again only when it did not. The one POST that is repeated as it is: calling a deployed model
  in a smoke test (apply/smoke.py), because a prediction changes nothing on Domino; it is
  retried on the same transient failures, with the same `Retries`, within the smoke test's
  own time budget;
- requests' exceptions and error statuses become ours exactly once (``raise ... from exc``);
- nothing secret is logged: debug lines carry the method, path, status and timing only.
"""

from __future__ import annotations

import email.utils
import json as jsonlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timezone
from typing import Any, BinaryIO, Literal, Protocol, TypeVar
from urllib.parse import urlsplit

import requests
from requests.auth import AuthBase

from domino_mlops import __version__
from domino_mlops.clients.deadline import Deadline, DeadlineAdapter
from domino_mlops.errors import (
    AuthenticationFailed,
    BadResponse,
    ConfigError,
    CredentialsExpired,
    DominoMlopsError,
    NotFound,
    PermissionDenied,
    Redirected,
    RemoteError,
    Unreachable,
)

log = logging.getLogger(__name__)

T = TypeVar("T")
Expect = Literal["json", "text", "none"]

# Statuses that say "try again later"; 500 is absent on purpose: it is usually a bug, not a blip.
TRANSIENT_STATUSES = frozenset({429, 502, 503, 504})
# Methods that may be sent twice with the effect of once (RFC 9110 9.2.2). POST is not one.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
DEFAULT_TIMEOUT = (5.0, 30.0)  # (connect, read) seconds
# One request, connect to last byte. The slowest legitimate answer (a model's prediction during
# a smoke test) is bounded by the 30 s read timeout; twice that is a server that is not finishing.
DEFAULT_DEADLINE = 60.0
# Domino's largest answers (a page of Model APIs or versions) are tens of KB; 32 MiB is neither
# a real answer nor memory a CI runner should spend on one.
MAX_BODY_BYTES = 32 * 1024 * 1024
# Connections kept per host: the executor's workers call one Domino at once, and requests keeps
# 10 by default, so an 11th worker's connection was closed after each call (and urllib3 printed
# "Connection pool is full" on stderr). Above any parallelism in use (--max-parallel, default 16).
POOL_MAXSIZE = 64
_CHUNK = 64 * 1024
RETRY_BUDGET = 60.0  # seconds one call may spend on failed attempts and waits before giving up
REFUSED_BUDGET = 5.0  # the same when nothing listens: that is rarely a blip
BACKOFF_BASE, BACKOFF_CAP = 0.5, 10.0  # full jitter in [0, min(cap, base * 2**attempt)]
RETRY_AFTER_CAP = 120.0  # a Retry-After longer than this is waited for this long at most

_TRANSIENT_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)


class Jitter(Protocol):
    """Anything with random() -> [0, 1), such as random.Random; injectable for tests."""

    def random(self) -> float: ...


def transient(error: DominoMlopsError) -> bool:
    """Worth another try of a call that is safe to repeat: the connection failed, or the server
    said "later" (429, 502, 503, 504)."""
    if isinstance(error, RemoteError):
        return error.status in TRANSIENT_STATUSES
    return isinstance(error, Unreachable)


class Retries:
    """One call's retries: how long to wait before the next attempt, or None once the budget is spent.

    The budget counts what the call has cost so far (each failed attempt's own time plus every
    wait), so a test's injected sleep spends it exactly as a real one does. A wait is the
    server's ``Retry-After`` (capped) or full-jitter backoff; a retry whose wait would end
    beyond the budget is not made. ``max_retries`` optionally caps the count as well.

    .. code-block:: python

        retries = Retries(30.0)
        while True:
            try:
                return call()
            except DominoMlopsError as exc:
                delay = retries.next_delay(exc, took=0.2) if transient(exc) else None
                if delay is None:
                    raise
                time.sleep(delay)
    """

    def __init__(self, budget: float = RETRY_BUDGET, *, refused_budget: float = REFUSED_BUDGET,
                 backoff_base: float = BACKOFF_BASE, backoff_cap: float = BACKOFF_CAP,
                 retry_after_cap: float = RETRY_AFTER_CAP, max_retries: int | None = None,
                 rng: Jitter | None = None) -> None:
        self.budget, self.refused_budget = budget, min(refused_budget, budget)
        self.backoff_base, self.backoff_cap, self.retry_after_cap = backoff_base, backoff_cap, retry_after_cap
        self.max_retries = max_retries
        self._rng = rng or random.Random()
        self.spent = 0.0
        self.count = 0  # retries granted so far

    def next_delay(self, error: DominoMlopsError, *, took: float) -> float | None:
        """After ``error`` (an attempt that took ``took`` seconds): seconds to wait, or None to give up."""
        self.spent += max(0.0, took)
        if self.max_retries is not None and self.count >= self.max_retries:
            return None
        refused = isinstance(error, Unreachable) and error.reason == "connection refused"
        told = getattr(error, "retry_after", None)
        delay = self.backoff_delay(self.count) if told is None else min(told, self.retry_after_cap)
        if self.spent + delay > (self.refused_budget if refused else self.budget):
            return None
        self.spent += delay
        self.count += 1
        return delay

    def backoff_delay(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**attempt)] (AWS architecture blog)."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2.0**attempt)
        return ceiling * self._rng.random()


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful answer: the status, the decoded body and the endpoint it came from."""

    status: int
    body: Any  # JSON value for expect="json", str for "text", None for "none"
    endpoint: str  # "GET /v4/projects/abc": what BadResponse names when the body is wrong


class HttpClient:
    """A requests.Session bound to one base URL and one credential, with our retry rules.

    .. code-block:: python

        http = HttpClient("https://domino.example.com", ApiKeyAuth("..."))
        reply = http.call("GET", "/version")
        reply.body["version"]   # '6.1.0'
    """

    def __init__(
        self,
        base_url: str,
        auth: AuthBase,
        *,
        service: str = "Domino",
        conflict_means_expired: bool | Callable[[str, str], bool] = False,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        deadline: float = DEFAULT_DEADLINE,
        max_body_bytes: int = MAX_BODY_BYTES,
        retry_budget: float = RETRY_BUDGET,
        refused_budget: float = REFUSED_BUDGET,
        max_retries: int | None = None,
        backoff_base: float = BACKOFF_BASE,
        backoff_cap: float = BACKOFF_CAP,
        retry_after_cap: float = RETRY_AFTER_CAP,
        create_attempts: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Jitter | None = None,
        clock: Callable[[], float] = time.time,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.service = service
        self._auth = auth
        # Named in 401/403 messages: the variable the credential came from, never its value.
        self.credential_source = _source_of(auth)
        # Some Domino routes answer 409 when temporary credentials expired (the v4 document's
        # Relogin answer); elsewhere a 409 is a conflict. True, False, or (method, path) -> bool.
        self.conflict_means_expired = conflict_means_expired
        self.timeout = timeout
        self.deadline, self.max_body_bytes = deadline, max_body_bytes
        self.retry_budget, self.refused_budget, self.max_retries = retry_budget, refused_budget, max_retries
        self.backoff_base, self.backoff_cap, self.retry_after_cap = backoff_base, backoff_cap, retry_after_cap
        self.create_attempts = create_attempts  # None: as many as the budget allows, each after a lookup
        self._sleep, self._rng, self._clock = sleep, rng or random.Random(), clock
        self._session = session or requests.Session()
        for prefix in ("http://", "https://"):
            self._session.mount(prefix, DeadlineAdapter(pool_maxsize=POOL_MAXSIZE))
        self._session.headers.update({"Accept": "application/json", "User-Agent": f"domino-mlops/{__version__}"})

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- one request ---------------------------------------------------------------------------

    def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        auth: AuthBase | None = None,
        expect: Expect = "json",
        into: BinaryIO | None = None,
        max_bytes: int | None = None,
        deadline: float | None = None,
    ) -> Reply:
        """Send one request to ``base_url + path``; retry if it is safe; return or raise ours.
        ``params`` become the query string; errors name ``path`` only (a long filter stays out).

        ``into``: a file that receives a successful body (a download), rewritten from its start
        on each attempt, instead of memory; ``max_bytes`` and ``deadline`` then replace the
        client's bounds for this request (a model file is larger and slower than an API answer)."""
        method = method.upper()
        url = self.base_url + path
        endpoint = f"{method} {path}"
        use_auth = auth or self._auth
        source = self.credential_source if auth is None else _source_of(auth)
        retries = self.retries() if method in IDEMPOTENT_METHODS else None
        limit = self.max_body_bytes if max_bytes is None else max_bytes
        seconds = self.deadline if deadline is None else deadline
        while True:
            started = time.monotonic()
            watch = Deadline(seconds)
            try:
                with watch:
                    # No redirects: requests would carry X-Domino-Api-Key to whatever host it is
                    # sent to (it strips only Authorization), and an API that redirects is not the API.
                    response = self._session.request(method, url, json=json, params=params, auth=use_auth,
                                                     timeout=self.timeout,
                                                     allow_redirects=False, stream=True)
                    try:
                        sink = into if response.status_code == 200 else None
                        content = self._read_body(response, endpoint, limit, sink)
                    finally:
                        response.close()
            except requests.RequestException as exc:
                if watch.expired:
                    raise self._deadline_passed(url, seconds) from exc
                if isinstance(exc, requests.exceptions.SSLError):
                    # A handshake that failed fails the same way again: no retry, a configuration error.
                    raise self._tls_failed(exc, url) from exc
                error = self._translate_exception(exc, url, endpoint)
                if retries is not None and isinstance(exc, _TRANSIENT_ERRORS):
                    delay = retries.next_delay(error, took=time.monotonic() - started)
                    if delay is not None:
                        self._wait(delay, endpoint, type(exc).__name__, retries)
                        continue
                raise error from exc
            if watch.expired:  # the watchdog cut the body; what arrived may look complete
                raise self._deadline_passed(url, seconds)
            took = time.monotonic() - started
            log.debug("%s -> %s in %.2fs", endpoint, response.status_code, took)
            if retries is not None and response.status_code in TRANSIENT_STATUSES:
                error = self._status_error(response, content, endpoint, source)
                delay = retries.next_delay(error, took=took)
                if delay is None:
                    raise error
                self._wait(delay, endpoint, str(response.status_code), retries)
                continue
            return self._reply(response, content, endpoint, expect, source)

    def _read_body(self, response: requests.Response, endpoint: str, limit: int,
                   into: BinaryIO | None = None) -> bytes:
        """The whole body, read in pieces (into a file, when given); BadResponse once it passes ``limit``."""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise self._too_large(endpoint, f"announced as {int(declared)} bytes", limit)
        if into is not None:
            into.seek(0)
            into.truncate()  # what an earlier, failed attempt wrote
        chunks, size = [], 0
        for chunk in response.iter_content(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise self._too_large(endpoint, "still coming", limit)
            if into is not None:
                into.write(chunk)
            else:
                chunks.append(chunk)
        return b"".join(chunks)

    def _too_large(self, endpoint: str, how: str, limit: int) -> BadResponse:
        shown = f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit} bytes"
        return BadResponse(self.service, endpoint, f"the answer is larger than {shown} ({how}); "
                           "stopped reading it")

    def _deadline_passed(self, url: str, seconds: float) -> Unreachable:
        # Not retried: a server still sending after the deadline is not a blip a retry fixes,
        # and retries would multiply the wait.
        return Unreachable(self.service, url, f"no complete answer within {seconds:g}s (total deadline "
                           "per request; the server kept sending, or trickling, without finishing)",
                           hint=f"Check that {self.service} is healthy and that no proxy in between trickles "
                           "data; the URL must be the API itself.")

    def retries(self, budget: float | None = None) -> Retries:
        """A fresh retry budget with this client's settings (``budget`` seconds, else its own)."""
        return Retries(self.retry_budget if budget is None else budget, refused_budget=self.refused_budget,
                       backoff_base=self.backoff_base, backoff_cap=self.backoff_cap,
                       retry_after_cap=self.retry_after_cap, max_retries=self.max_retries, rng=self._rng)

    # --- a create that must happen once ----------------------------------------------------------

    def create_idempotent(self, post: Callable[[], T], lookup: Callable[[], T | None], *, what: str) -> T:
        """Run ``post``; after an ambiguous failure, ``lookup`` before posting again.

        Ambiguous means the server may have acted: the connection broke or timed out, a 5xx or
        429 came back, or the answer was unreadable. ``lookup`` returns the created object or
        None. POST is tried again, always after a lookup, while the client's retry budget lasts
        (and at most ``create_attempts`` times, if set); the last error is raised.
        """
        retries = self.retries()
        retries.max_retries = None if self.create_attempts is None else self.create_attempts - 1
        return create_once(post, lookup, what=what, retries=retries, sleep=self._sleep)

    # --- timing --------------------------------------------------------------------------------

    def _wait(self, delay: float, label: str, why: str, retries: Retries) -> None:
        log.debug("%s: %s; retry %d in %.2fs (%.1fs of %gs spent)", label, why, retries.count, delay,
                  retries.spent, retries.budget)
        self._sleep(delay)

    # --- translation: the only place where requests' vocabulary becomes ours ---------------------

    def _tls_failed(self, exc: requests.RequestException, url: str) -> ConfigError:
        parts = urlsplit(url)
        server = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
        if "CERTIFICATE_VERIFY_FAILED" in str(exc):
            return ConfigError(f"the {self.service} server at {server} has a TLS certificate this machine does not "
                               "trust", hint="Install the CA that signed it (REQUESTS_CA_BUNDLE), or fix the host name "
                                             "if the certificate is for another one.")
        return ConfigError(f"the {self.service} server at {server} does not speak TLS (the TLS handshake failed)",
                           hint="If it serves plain HTTP, write http:// in the variable that names it, not https://; "
                                "else check the port.")

    def _translate_exception(self, exc: requests.RequestException, url: str, endpoint: str) -> DominoMlopsError:
        if isinstance(exc, requests.exceptions.ContentDecodingError):
            return BadResponse(self.service, endpoint, "the body does not decode as its Content-Encoding says")
        return Unreachable(self.service, url, _reason(exc, self.timeout))

    def _reply(self, response: requests.Response, content: bytes, endpoint: str, expect: Expect,
               source: str) -> Reply:
        status = response.status_code
        if status >= 400:
            raise self._status_error(response, content, endpoint, source)
        if status >= 300:
            raise Redirected(self.service, endpoint, status, response.headers.get("Location", ""))
        if expect == "none":
            return Reply(status, None, endpoint)
        if expect == "text":
            return Reply(status, _text(response, content), endpoint)
        return Reply(status, self._json_body(response, content, endpoint), endpoint)

    def _json_body(self, response: requests.Response, content: bytes, endpoint: str) -> Any:
        # Never quote the body: a truncated answer to "create an access token" holds the token.
        content_type = response.headers.get("Content-Type", "no content type")
        if not content:
            raise BadResponse(self.service, endpoint, f"the body is empty (status {response.status_code})")
        try:
            return _parse_json(content)
        except ValueError as exc:
            raise BadResponse(
                self.service, endpoint,
                f"the body is not JSON ({content_type}, {len(content)} bytes)",
            ) from exc

    def _expired_on_conflict(self, endpoint: str) -> bool:
        rule = self.conflict_means_expired
        if not callable(rule):
            return bool(rule)
        method, _, path = endpoint.partition(" ")
        return rule(method, path.split("?", 1)[0])

    def _status_error(self, response: requests.Response, content: bytes, endpoint: str,
                      source: str) -> DominoMlopsError:
        status = response.status_code
        if status == 401:
            return AuthenticationFailed(self.service, source, endpoint=endpoint)
        if status == 403:
            return PermissionDenied(self.service, source, endpoint=endpoint)
        if status == 409 and self._expired_on_conflict(endpoint):  # "temporary credentials expired"
            return CredentialsExpired(self.service, endpoint=endpoint, credential=source)
        detail = _server_message(content)
        if status == 404:
            return NotFound(f"{self.service} has nothing at {endpoint} (404){': ' + detail if detail else ''}")
        retry_after = retry_after_seconds(response.headers.get("Retry-After"), now=self._clock())
        if status == 429:
            return RemoteError(self.service, status, endpoint, detail or "rate limited",
                               hint=f"{self.service} is rate limiting; wait a minute and re-run.",
                               retry_after=retry_after)
        if status < 500:
            return RemoteError(self.service, status, endpoint, detail,
                               hint=f"{self.service} refused the request as sent; the detail says what it disliked.")
        return RemoteError(self.service, status, endpoint, detail, retry_after=retry_after)


def retry_after_seconds(value: str | None, *, now: float) -> float | None:
    """Retry-After as seconds from ``now``: delta-seconds or an HTTP-date; None if unusable."""
    if not value or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now)


def create_once(post: Callable[[], T], lookup: Callable[[], T | None], *, what: str, retries: Retries,
                sleep: Callable[[float], None] = time.sleep) -> T:
    """The rule for every create, Domino's or MLflow's: run ``post``; after an ambiguous failure,
    ``lookup`` whether it happened, and post again only if it did not, while ``retries`` last."""
    while True:
        started = time.monotonic()
        try:
            return post()
        except (Unreachable, RemoteError, BadResponse) as exc:
            if not _ambiguous(exc):
                raise
            took = time.monotonic() - started
            log.debug("create %s failed ambiguously (%s); looking it up", what, type(exc).__name__)
            found = lookup()
            if found is not None:
                log.debug("create %s had happened; not posting again", what)
                return found
            delay = retries.next_delay(exc, took=took)
            if delay is None:
                raise
            log.debug("create %s: not created; retry %d in %.2fs (%.1fs of %gs spent)", what, retries.count,
                      delay, retries.spent, retries.budget)
            sleep(delay)


def _ambiguous(exc: DominoMlopsError) -> bool:
    if isinstance(exc, RemoteError):
        return exc.status >= 500 or exc.status == 429
    return isinstance(exc, (Unreachable, BadResponse))


def _source_of(auth: AuthBase) -> str:
    return getattr(auth, "source", None) or "the configured credential"


def _parse_json(content: bytes) -> Any:
    """json.loads, with the ways it fails on hostile text folded into ValueError."""
    try:
        return jsonlib.loads(content)
    except RecursionError as exc:  # 100,000 nested '[' exhaust the C parser's recursion limit
        raise ValueError("nested too deeply") from exc


def _text(response: requests.Response, content: bytes) -> str:
    try:
        return content.decode(response.encoding or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return content.decode("utf-8", errors="replace")


def _server_message(content: bytes) -> str:
    """The server's own words from a JSON error body, else "". Domino's public API answers
    ``{"errors": [...], "requestId"}`` (or ``{"error"}``), its v4 API ``{"message"}``."""
    try:
        body = _parse_json(content)
    except ValueError:
        return ""  # an HTML error page says nothing we should repeat
    if not isinstance(body, dict):
        return ""
    errors = body.get("errors")
    parts = [body.get("message"), body.get("error"), *(errors if isinstance(errors, list) else [])]
    kept = dict.fromkeys(p.strip() for p in parts if isinstance(p, str) and p.strip())  # ordered, no repeats
    text = " ".join("; ".join(kept).split())  # one line, whatever the server put in it
    return text[:300]


def _reason(exc: requests.RequestException, timeout: tuple[float, float]) -> str:
    """A short cause: 'connection refused' rather than urllib3's three nested reprs."""
    if isinstance(exc, requests.ConnectTimeout):
        return f"no connection within {timeout[0]:g}s (connect timeout)"
    if isinstance(exc, requests.ReadTimeout):
        return f"no answer within {timeout[1]:g}s (read timeout)"
    text = str(exc)
    if "IncompleteRead" in text or "InvalidChunkLength" in text:
        return "the answer was cut off before its end (the connection closed early)"
    for marker, reason in (
        ("Connection refused", "connection refused"),
        ("Name or service not known", "host name not found"),
        ("nodename nor servname", "host name not found"),
        ("Temporary failure in name resolution", "host name not found"),
        ("No route to host", "no route to host"),
        ("Connection reset", "connection reset"),
        ("RemoteDisconnected", "the server closed the connection without answering"),
        ("CERTIFICATE_VERIFY_FAILED", "TLS certificate not trusted"),
    ):
        if marker in text:
            return reason
    first_line = text.strip().splitlines()[0][:200] if text.strip() else ""
    return f"{type(exc).__name__}: {first_line}" if first_line else type(exc).__name__
