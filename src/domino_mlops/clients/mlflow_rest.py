"""MLflow's REST API read in batches, without importing the `mlflow` package.

Why not MlflowClient here: a plan reads every model of a manifest, and MlflowClient asks one
model at a time (`registered-models/get` plus `model-versions/search`: two requests per model,
2,000 for a 1,000-entry manifest). MLflow's search endpoints take many names at once
(``filter="name IN ('a','b')"``) and page their answers, so the requests grow with credentials
and pages instead of with entries. And importing `mlflow` costs most of a plan's memory and
start-up, for what is a few GETs.

The rules of clients/http.py apply (one session per credential, timeouts, a total deadline,
retries within a budget: every call here is a GET, safe to repeat); raw JSON stops in this
module. Writes stay with clients/mlflow.py.

Limits we follow (MLflow 3.x server, checked by tests/clients/test_mlflow_rest.py against a real
`mlflow server`):
- `registered-models/search` answers at most 1,000 models a page, `model-versions/search`
  200,000 versions (10,000 is its own default, and what we ask for);
- a search is a GET, so the filter travels in the URL. MLflow behind gunicorn refuses a request
  line over 4,094 bytes (uvicorn and nginx allow 8 KB or more), so a batch of names is cut at
  ~3,500 bytes of query;
- a name list is parsed as a Python tuple literal, so ``repr(name)`` quotes any name (quotes,
  backslashes and commas included).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests
from requests.auth import AuthBase, HTTPBasicAuth

from domino_mlops.clients.http import HttpClient, Reply
from domino_mlops.clients.json_fields import Fields
from domino_mlops.clients.mlflow import ModelVersionInfo, RegisteredModelInfo
from domino_mlops.clients.mlflow_auth import MlflowCredentials
from domino_mlops.clients.redact import scrub
from domino_mlops.errors import (
    AuthenticationFailed,
    BadResponse,
    ConfigError,
    NotFound,
    PermissionDenied,
    RemoteError,
    Unreachable,
)

T = TypeVar("T")
SERVICE = "MLflow"
API = "/api/2.0/mlflow"
MODELS_PAGE = 1000  # registered-models/search refuses more
VERSIONS_PAGE = 10_000  # MLflow's own default page of model-versions/search
# Query bytes per search, so that the whole request line stays under gunicorn's 4,094.
MAX_QUERY_BYTES = 3500


class MlflowReader:
    """Registry reads for one MLflow credential, in batches.

    .. code-block:: python

        reader = MlflowReader(MlflowCredentials.from_env(project_id="6650c1a3"))
        models = reader.models(["churn", "fraud", "missing"])   # 2 requests, plus pages
        sorted(models)                                           # ['churn', 'fraud']
        models["churn"].alias_map                                # {'staging': '3'}
    """

    def __init__(self, credentials: MlflowCredentials, *, environ: Mapping[str, str] | None = None,
                 http: HttpClient | None = None, max_query_bytes: int = MAX_QUERY_BYTES,
                 models_page: int = MODELS_PAGE, versions_page: int = VERSIONS_PAGE) -> None:
        self.credentials = credentials
        self._http = http or _http_client(credentials, os.environ if environ is None else environ)
        self.max_query_bytes, self.models_page, self.versions_page = max_query_bytes, models_page, versions_page

    def close(self) -> None:
        self._http.close()

    def models(self, names: Collection[str]) -> dict[str, RegisteredModelInfo]:
        """The registered models among ``names`` with their aliases and every version (tags,
        stages). A name MLflow does not have is absent from the answer, not an error."""
        wanted = sorted(set(names))
        found: dict[str, object] = {}
        for batch in self.batches(wanted):
            for item in self._search("registered-models/search", "registered_models", batch, self.models_page):
                found.setdefault(_mlflow_shape(lambda: Fields(item, "registered-models/search").req_str("name")), item)
        versions: dict[str, dict[str, ModelVersionInfo]] = {}
        for batch in self.batches([name for name in wanted if name in found]):
            for item in self._search("model-versions/search", "model_versions", batch, self.versions_page):
                info = _mlflow_shape(lambda: version_from_rest(item))
                versions.setdefault(info.name, {})[info.version] = info  # a repeat across pages counts once
        # A model no request asked for (a server answering more than asked) is left out.
        return {name: _mlflow_shape(lambda: model_from_rest(found[name], tuple(versions.get(name, {}).values())))
                for name in wanted if name in found}

    def batches(self, names: list[str]) -> Iterator[list[str]]:
        """``names`` cut into groups whose `name IN (...)` filter fits the query budget."""
        batch: list[str] = []
        for name in names:
            if batch and _query_bytes(name_filter([*batch, name])) > self.max_query_bytes:
                yield batch
                batch = []
            batch.append(name)  # one name longer than the budget still goes, alone
        if batch:
            yield batch

    def _search(self, endpoint: str, key: str, names: list[str], page: int) -> Iterator[object]:
        """Every item of a paged search (GET, so retried by the house rules)."""
        params: dict[str, Any] = {"filter": name_filter(names), "max_results": page}
        seen_tokens: set[str] = set()
        while True:
            reply = self._get(endpoint, params)
            items, token = _mlflow_shape(lambda: _page_of(reply.body, reply.endpoint, key))
            yield from items
            if not token:
                return
            if token in seen_tokens:  # a server handing out the same page again would never end
                raise BadResponse(SERVICE, reply.endpoint, "the same next_page_token came back twice")
            seen_tokens.add(token)
            params = {**params, "page_token": token}

    @property
    def display_uri(self) -> str:
        return self.credentials.display_uri

    def _get(self, endpoint: str, params: dict[str, Any]) -> Reply:
        """One GET. Errors name the tracking URI as we print it (never its password, nor the long
        filter), and the server's words lose any secret of the URI they echo."""
        where = f"{self.display_uri.rstrip('/')}{API}/{endpoint}"

        def clean(text: str) -> str:
            return scrub(text, self.credentials.tracking_uri)

        try:
            return self._http.call("GET", f"{API}/{endpoint}", params=params)
        except AuthenticationFailed as exc:
            raise AuthenticationFailed(SERVICE, exc.credential, endpoint=where) from None
        except PermissionDenied as exc:
            raise PermissionDenied(SERVICE, exc.credential, endpoint=where) from None
        except NotFound:
            raise NotFound(f"MLflow at {self.display_uri} has no {endpoint} endpoint (404)",
                           hint="Check MLFLOW_TRACKING_URI: it must name the tracking server itself "
                                "(MLflow 2.x or later), not a path below it.") from None
        except RemoteError as exc:
            if exc.status == 400:  # MLflow's INVALID_PARAMETER_VALUE: it disliked what we asked
                raise ConfigError(f"MLflow refused the {endpoint} of {len(names_in(params))} models: "
                                  f"{clean(exc.detail)}", hint="Check the model names in the manifest.") from None
            raise RemoteError(SERVICE, exc.status, where, clean(exc.detail), retry_after=exc.retry_after) from None
        except BadResponse as exc:
            raise BadResponse(SERVICE, where, clean(exc.problem)) from None
        except Unreachable as exc:
            raise Unreachable(SERVICE, self.display_uri, clean(exc.reason), hint=exc.hint) from None


def names_in(params: dict[str, Any]) -> tuple[str, ...]:
    """The names a search's filter asks about (for messages)."""
    import ast

    text = str(params.get("filter", ""))
    names = ast.literal_eval(text[len("name IN "):]) if text.startswith("name IN (") else ()
    return (names,) if isinstance(names, str) else tuple(names)


def _page_of(body: object, endpoint: str, key: str) -> tuple[tuple[object, ...], str | None]:
    fields = Fields(body, endpoint)  # an empty result is {} (MLflow leaves out empty lists)
    return fields.opt_list(key), fields.opt_str("next_page_token")


def _mlflow_shape(parse: Callable[[], T]) -> T:
    """json_fields names Domino in its errors; these answers are MLflow's."""
    try:
        return parse()
    except BadResponse as exc:
        raise BadResponse(SERVICE, exc.endpoint, exc.problem) from exc


def name_filter(names: list[str]) -> str:
    """MLflow's filter for these exact names. MLflow reads the list with ast.literal_eval, so a
    Python literal quotes anything a name may hold."""
    return "name IN (" + ",".join(repr(name) for name in names) + ")"


def _query_bytes(filter_string: str) -> int:
    return len(urlencode({"filter": filter_string, "max_results": VERSIONS_PAGE, "page_token": "x" * 40}))


def version_from_rest(item: object) -> ModelVersionInfo:
    """One `ModelVersion` JSON object (search answers carry no aliases: the model's map does)."""
    f = Fields(item, "model-versions/search")
    tags = f.opt_list("tags")
    return ModelVersionInfo(
        name=f.req_str("name"), version=_version_number(f.req_str("version")), run_id=f.opt_str("run_id") or None,
        source=f.opt_str("source") or "", current_stage=f.opt_str("current_stage") or "None",
        status=f.opt_str("status") or "READY", aliases=tuple(sorted(str(a) for a in f.opt_list("aliases"))),
        tags=tuple(sorted(_pairs(tags, "key", "value"))), user_id=f.opt_str("user_id") or None)


def model_from_rest(item: object, versions: tuple[ModelVersionInfo, ...]) -> RegisteredModelInfo:
    """One `RegisteredModel` JSON object, with its versions marked by the aliases it lists."""
    f = Fields(item, "registered-models/search")
    aliases = tuple(sorted((alias, _version_number(v)) for alias, v in _pairs(f.opt_list("aliases"),
                                                                              "alias", "version")))
    marked = tuple(ModelVersionInfo(v.name, v.version, v.run_id, v.source, v.current_stage, v.status,
                                    tuple(sorted(a for a, n in aliases if n == v.version)), v.tags, v.user_id)
                   for v in sorted(versions, key=lambda v: int(v.version)))
    return RegisteredModelInfo(name=f.req_str("name"), aliases=aliases, versions=marked)


def _version_number(text: str) -> str:
    if not text.isdigit():
        raise BadResponse(SERVICE, "model-versions/search", f"version {text[:20]!r} is not a number")
    return text


def _pairs(items: tuple[Any, ...], key: str, value: str) -> Iterator[tuple[str, str]]:
    for item in items:
        f = Fields(item, "MLflow")
        yield f.req_str(key), f.opt_str(value) or ""


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


def _http_client(credentials: MlflowCredentials, environ: Mapping[str, str]) -> HttpClient:
    """An HttpClient as MLflow's own client would connect: its credential (a user:password in
    the URI counts), its TLS settings and its read timeout (MLFLOW_HTTP_REQUEST_TIMEOUT)."""
    parts = urlsplit(credentials.tracking_uri)
    base = urlunsplit((parts.scheme, parts.hostname + (f":{parts.port}" if parts.port else ""), parts.path, "", ""))
    if parts.hostname and ":" in parts.hostname:  # IPv6 literal
        base = urlunsplit((parts.scheme, f"[{parts.hostname}]" + (f":{parts.port}" if parts.port else ""),
                           parts.path, "", ""))
    auth: AuthBase
    if credentials.token:
        auth = _Bearer(credentials.token, credentials.source)
    elif credentials.username and credentials.password:
        auth = _Basic(credentials.username, credentials.password, credentials.source)
    elif parts.username is not None:
        from urllib.parse import unquote

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
                      deadline=2 * read + 5, session=session)


def _seconds(text: str | None, default: float) -> float:
    try:
        return max(1.0, float(text)) if text else default
    except ValueError:
        return default

