"""MLflow's REST API over the house HTTP layer, without importing the `mlflow` package.

Why not MlflowClient: importing `mlflow` is most of an action's memory and start-up, for what
is a handful of GETs and POSTs; MlflowClient reads one model at a time where MLflow's searches
take many names at once (clients/mlflow/reader.py); and it reads credentials from process-wide
environment variables, where each project here has its own. So only a tracking server (http or
https) is spoken to: a local store (sqlite:///, a database URI) has no REST API and is refused
with a hint (`check_tracking_server`).

Three kinds of call. A read (GET, or runs/search's POST) and a write that sets a value (a tag,
an alias, a stage) are safe to repeat and retried by the house rule (clients/http.Retries). A
create (experiment, run) is sent once (`create`): clients/http.create_once looks up what an
ambiguous failure did before creating again.

The rules of clients/http.py apply (one session per credential, timeouts, a total deadline,
retries of what is safe to repeat within a budget). Errors name the tracking URI as we print it
(never its password, nor a long filter), and the server's words lose any secret of the URI
they echo; 401 and 403 name the variable the credential came from, never its value.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal, TypeVar
from urllib.parse import unquote, urlsplit, urlunsplit

import requests
from requests.auth import AuthBase, HTTPBasicAuth

from domino_mlops.clients.http import RETRY_BUDGET, HttpClient, Reply, transient
from domino_mlops.clients.json_fields import Fields
from domino_mlops.clients.mlflow.auth import MlflowCredentials
from domino_mlops.clients.redact import scrub
from domino_mlops.errors import (
    AuthenticationFailed,
    BadResponse,
    ConfigError,
    DominoMlopsError,
    NotFound,
    PermissionDenied,
    RemoteError,
    Unreachable,
)

T = TypeVar("T")
SERVICE = "MLflow"
API = "/api/2.0/mlflow"
SERVER_ERROR_RETRIES, SERVER_ERROR_PAUSE = 2, 0.2  # a call answered 500 (see MlflowRest.get, _repeated)


# MLflow's SQL stores write a tag by looking for its row and then inserting it: when two writers
# set the same tag at once (two runs taking one lease), the second insert breaks the table's
# unique key and MLflow answers 400 (or 500) with the database's words. Setting a value is safe
# to repeat, and the row exists by the next attempt, so such an answer is retried, not a failure.
# The wording of SQLite, MySQL and PostgreSQL, in that order.
CONCURRENT_INSERT = ("UNIQUE constraint failed", "Duplicate entry", "duplicate key value violates unique constraint")


class ConcurrentWrite(RemoteError):
    """MLflow refused a write because another writer inserted the same row a moment before."""


class AlreadyExists(ConfigError):
    """MLflow's RESOURCE_ALREADY_EXISTS (400): what a create asked for is there already."""


def is_concurrent_write(error: DominoMlopsError) -> bool:
    return isinstance(error, ConcurrentWrite)


def check_tracking_server(credentials: MlflowCredentials) -> None:
    """ConfigError unless the tracking URI names a tracking server: nothing else has a REST API."""
    uri = credentials.display_uri
    scheme = uri.split("://", 1)[0].lower()
    if scheme in ("http", "https"):
        return
    if scheme in ("sqlite", "file", "postgresql", "mysql", "mssql") or scheme.startswith(("postgresql+", "mysql+")):
        raise ConfigError(f"MLFLOW_TRACKING_URI {uri!r} is a local store, not a tracking server: domino-mlops "
                          "talks to MLflow's REST API only",
                          hint=f"Serve it: mlflow server --backend-store-uri {uri} --serve-artifacts, then set "
                               "MLFLOW_TRACKING_URI=http://127.0.0.1:5000 (Domino serves MLflow this way).")
    raise ConfigError(f"MLflow cannot use MLFLOW_TRACKING_URI {uri!r}: no tracking server or store has that scheme",
                      hint="Use http:// or https:// for a server, for example "
                           "MLFLOW_TRACKING_URI=http://127.0.0.1:5000.")


class MlflowRest:
    """One credential's session with an MLflow tracking server (http or https)."""

    def __init__(self, credentials: MlflowCredentials, *, environ: Mapping[str, str] | None = None,
                 http: HttpClient | None = None, sleep: Callable[[float], None] = time.sleep,
                 retry_budget: float = RETRY_BUDGET) -> None:
        check_tracking_server(credentials)
        self.credentials = credentials
        self._http = http or _http_client(credentials, os.environ if environ is None else environ,
                                          retry_budget=retry_budget, sleep=sleep)
        self._sleep = sleep
        self.requests = 0  # sent so far (benchmarks count at the server too)

    @property
    def display_uri(self) -> str:
        return self.credentials.display_uri

    def close(self) -> None:
        self._http.close()

    def get(self, endpoint: str, params: Mapping[str, Any], *, what: str,
            missing_ok: bool = False) -> Reply | None:
        """GET ``/api/2.0/mlflow/<endpoint>``; None for a 404 when ``missing_ok`` (MLflow's
        RESOURCE_DOES_NOT_EXIST), else a NotFound naming the endpoint. See `read`."""
        return self.read(f"{API}/{endpoint}", params, what=what, missing_ok=missing_ok)

    def read(self, path: str, params: Mapping[str, Any] | None, *, what: str, missing_ok: bool = False,
             **options: Any) -> Reply | None:
        """GET ``path`` (any of the server's, the artifact proxy's too); ``options`` go to
        HttpClient.call (``expect``, ``into`` a file, ``max_bytes``, ``deadline``).

        A 500 is asked again twice (the house rule retries 429 and 502-504 only): MLflow on
        Python 3.11 parses a `name IN (...)` filter with ast.literal_eval, which fails now and
        then under concurrent requests ("SystemError: AST constructor recursion depth
        mismatch", seen with 8 parallel searches against MLflow 3.17 on Python 3.11.7)."""
        for attempt in range(1 + SERVER_ERROR_RETRIES):
            try:
                return self._translated(what, lambda: self._http.call("GET", path, params=params, **options))
            except NotFound:
                if missing_ok:
                    return None
                raise
            except RemoteError as exc:
                if exc.status != 500 or attempt == SERVER_ERROR_RETRIES:
                    raise
                self._sleep(SERVER_ERROR_PAUSE)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def post_read(self, endpoint: str, body: Mapping[str, Any], *, what: str) -> Reply:
        """A read MLflow serves as POST (runs/search): safe to repeat, so retried like a GET."""
        return self._repeated("POST", endpoint, body, what=what, expect="json")

    def write(self, method: str, endpoint: str, body: Mapping[str, Any], *, what: str) -> Reply:
        """A write that sets a value (POST a tag, an alias, a stage; DELETE one): safe to repeat,
        so retried like a read, and again when another writer inserted the same row at once."""
        return self._repeated(method, endpoint, body, what=what, expect="none")

    def _repeated(self, method: str, endpoint: str, body: Mapping[str, Any], *, what: str,
                  expect: Literal["json", "none"]) -> Reply:
        """``method`` (safe to repeat) retried within the budget on transient failures (HttpClient
        retries those of a DELETE itself), on a concurrent insert, and on a 500 twice, as a GET:
        MLflow's SQL stores answer 500 now and then under concurrent writers ("database is
        locked"), and MLflow's own client retries a 500 too."""
        retries = self._http.retries()
        server_errors = 0
        while True:
            started = time.monotonic()
            try:
                return self._translated(what, lambda: self._http.call(
                    method, f"{API}/{endpoint}", json=dict(body), expect=expect))
            except (Unreachable, RemoteError) as exc:
                server_error = isinstance(exc, RemoteError) and exc.status == 500 and not is_concurrent_write(exc)
                server_errors += server_error
                again = (is_concurrent_write(exc) or (method == "POST" and transient(exc))
                         or (server_error and server_errors <= SERVER_ERROR_RETRIES))
                delay = retries.next_delay(exc, took=time.monotonic() - started) if again else None
                if delay is None:
                    raise
                self._sleep(delay)

    def create(self, endpoint: str, body: Mapping[str, Any], *, what: str) -> Reply | None:
        """POST a create once, never resent here (clients/http.create_once decides); None when
        MLflow answers that it exists already."""
        try:
            return self._translated(what, lambda: self._http.call("POST", f"{API}/{endpoint}", json=dict(body)),
                                    creating=True)
        except AlreadyExists:
            return None

    def shaped(self, parse: Callable[[], T]) -> T:
        """`shaped`, naming this server: which MLflow gave the odd answer matters."""
        try:
            return parse()
        except BadResponse as exc:
            raise BadResponse(SERVICE, f"{self.display_uri} ({exc.endpoint})", exc.problem) from exc

    def pages(self, send: Callable[[str | None], Reply], key: str) -> Iterator[object]:
        """Every item under ``key`` of a paged answer; ``send(page_token)`` asks for one page."""
        token: str | None = None
        seen: set[str] = set()
        while True:
            reply = send(token)
            items, token = self.shaped(lambda: _page_of(reply.body, reply.endpoint, key))
            yield from items
            if not token:
                return
            if token in seen:  # a server handing out the same page again would never end
                raise BadResponse(SERVICE, reply.endpoint, "the same next_page_token came back twice")
            seen.add(token)

    def _translated(self, what: str, call: Callable[[], Reply], *, creating: bool = False) -> Reply:
        endpoint_of = f"{self.display_uri.rstrip('/')}{API}"

        def clean(text: str) -> str:
            return scrub(text, self.credentials.tracking_uri)

        self.requests += 1
        try:
            return call()
        except AuthenticationFailed as exc:
            raise AuthenticationFailed(SERVICE, exc.credential, endpoint=endpoint_of) from None
        except PermissionDenied as exc:
            raise PermissionDenied(SERVICE, exc.credential, endpoint=endpoint_of, target=what) from None
        except NotFound:
            raise NotFound(f"MLflow at {self.display_uri} has no {what} (404)",
                           hint="Check MLFLOW_TRACKING_URI: it must name the tracking server itself.") from None
        except RemoteError as exc:
            # First: MLflow's "already exists" quotes the database's unique-key refusal too.
            if creating and exc.status == 400 and "already exists" in exc.detail:
                raise AlreadyExists(f"MLflow has {what} already") from None
            if exc.status in (400, 500) and any(marker in exc.detail for marker in CONCURRENT_INSERT):
                raise ConcurrentWrite(SERVICE, exc.status, endpoint_of, f"another writer wrote {what} at the same "
                                      "moment (the store's unique key refused the second insert)") from None
            # MLflow's INVALID_PARAMETER_VALUE: it disliked what we asked. A 400 without MLflow's
            # JSON words is some proxy's, not MLflow's judgement of the manifest.
            if exc.status == 400 and exc.detail:
                raise ConfigError(f"MLflow refused {what}: {clean(exc.detail)}",
                                  hint="Check the names and values in the manifest.") from None
            raise RemoteError(SERVICE, exc.status, endpoint_of, clean(exc.detail), retry_after=exc.retry_after) \
                from None
        except BadResponse as exc:
            raise BadResponse(SERVICE, endpoint_of, clean(exc.problem)) from None
        except Unreachable as exc:
            hint = exc.hint
            if "total deadline" in exc.reason:
                hint = ("Check that the server is healthy and that no proxy in between trickles data; the deadline "
                        "is twice MLFLOW_HTTP_REQUEST_TIMEOUT plus 5 s.")
            raise Unreachable(SERVICE, self.display_uri, clean(exc.reason), hint=hint) from None


def shaped(parse: Callable[[], T]) -> T:
    """Parse an MLflow answer: json_fields names Domino in its errors, these answers are MLflow's."""
    try:
        return parse()
    except BadResponse as exc:
        raise BadResponse(SERVICE, exc.endpoint, exc.problem) from exc


def _page_of(body: object, endpoint: str, key: str) -> tuple[tuple[object, ...], str | None]:
    fields = Fields(body, endpoint)  # an empty result is {} (MLflow leaves out empty lists)
    # Empty is `{}`; `200 {"weird": true}` is not "no models" but something that does not answer as
    # MLflow does (a proxy, another service on that port). Fields beside the items are let be: a
    # later MLflow may add some.
    strangers = sorted(k for k in body if k not in (key, "next_page_token")) if isinstance(body, dict) else []
    if strangers and key not in body:  # type: ignore[operator]
        raise BadResponse(SERVICE, endpoint, f"a search answer with {', '.join(map(repr, strangers[:3]))} and no "
                          f"{key!r}: this server does not answer as MLflow does (is the URL the tracking server's?)")
    return fields.opt_list(key), fields.opt_str("next_page_token")


# --- one HTTP session per credential ------------------------------------------------------------


class _Bearer(AuthBase):
    """MLflow's token: ``Authorization: Bearer``; ``source`` names the variable, never the value."""

    def __init__(self, token: str, source: str) -> None:
        self._token, self.source = token, source

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request


class _Basic(HTTPBasicAuth):
    def __init__(self, username: str, password: str, source: str) -> None:
        super().__init__(username, password)
        self.source = source


class _NoAuth(AuthBase):
    source = "(no credential)"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


def _http_client(credentials: MlflowCredentials, environ: Mapping[str, str], *, retry_budget: float = RETRY_BUDGET,
                 sleep: Callable[[float], None] = time.sleep) -> HttpClient:
    """An HttpClient that connects as MLflow's own client would: its credential (a user:password
    in the URI counts), its TLS settings and its read timeout (MLFLOW_HTTP_REQUEST_TIMEOUT)."""
    parts = urlsplit(credentials.tracking_uri)
    host = f"[{parts.hostname}]" if parts.hostname and ":" in parts.hostname else (parts.hostname or "")
    base = urlunsplit((parts.scheme, host + (f":{parts.port}" if parts.port else ""), parts.path, "", ""))
    auth: AuthBase
    if credentials.token:
        auth = _Bearer(credentials.token, credentials.source)
    elif credentials.username and credentials.password:
        auth = _Basic(credentials.username, credentials.password, credentials.source)
    elif parts.username is not None:
        auth = _Basic(unquote(parts.username), unquote(parts.password or ""), "MLFLOW_TRACKING_URI")
    else:
        auth = _NoAuth()
    session = requests.Session()
    if environ.get("MLFLOW_TRACKING_INSECURE_TLS", "").lower() == "true":
        session.verify = False
    elif environ.get("MLFLOW_TRACKING_SERVER_CERT_PATH"):
        session.verify = environ["MLFLOW_TRACKING_SERVER_CERT_PATH"]
    if environ.get("MLFLOW_TRACKING_CLIENT_CERT_PATH"):
        session.cert = environ["MLFLOW_TRACKING_CLIENT_CERT_PATH"]
    read = _seconds(environ.get("MLFLOW_HTTP_REQUEST_TIMEOUT"), 120.0)
    return HttpClient(base, auth, service=SERVICE, conflict_means_expired=False, timeout=(min(10.0, read), read),
                      deadline=2 * read + 5, session=session, retry_budget=retry_budget, sleep=sleep)


def _seconds(text: str | None, default: float) -> float:
    try:
        return max(1.0, float(text)) if text else default
    except ValueError:
        return default

