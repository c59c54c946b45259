"""The MLflow model registry, through MlflowClient, with our errors and immutable results.

Why not plain `MlflowClient(uri)`: MLflow reads credentials from process-wide environment
variables on every request, so two projects' tokens cannot be used side by side (parallel
applies would race on os.environ). We give each `MlflowRegistry` its own REST stores with
pinned credentials instead. MLflow's HTTP knobs (MLFLOW_HTTP_REQUEST_TIMEOUT,
MLFLOW_HTTP_REQUEST_MAX_RETRIES) still apply; the CLI sets its own defaults for them.

MLflow's HTTP stack is its own (a cached requests session inside mlflow-skinny), so two of
clients/http.py's guarantees are enforced from outside. Time: MLflow's timeout is per read, and
a server dripping bytes never reaches it, so each call runs under a total deadline derived from
MLflow's own settings (`mlflow_deadline`). Errors: whatever MLflow lets through (MlflowException,
requests' errors, json and protobuf parse errors) becomes ours in `translate_mlflow_errors`, once,
with the tracking URI's password scrubbed from every text. Memory is the gap: MLflow reads an
answer whole, and no setting of its bounds that.

Every call is safe to repeat (a read, or a write that sets a value), and is retried by the house
rule (clients/http.Retries: backoff with jitter within a time budget, 60 s per call; 5 s when the
connection is refused) on top of MLflow's own few quick retries: a flaky but alive MLflow must
not fail a run, an unreachable one still fails in seconds.

MLflow's client resends any request whose answer was lost, POSTs included (urllib3 with
``allowed_methods=None``). For tags, aliases and stages that is harmless: setting them twice
sets them once. A create is another matter: a resent "create run" makes a second ledger entry.
The two creates we make (`create_experiment`, `create_run`) therefore go out once, without
MLflow's retries, and follow the house rule for creates (clients/http.create_once): after an
ambiguous failure, look up whether it happened before creating again.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from domino_mlops.clients.deadline import DeadlinePassed, call_with_deadline
from domino_mlops.clients.http import RETRY_BUDGET, Retries, create_once, transient
from domino_mlops.clients.mlflow_auth import MlflowCredentials
from domino_mlops.clients.redact import scrub
from domino_mlops.errors import (
    AliasConflict,
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
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ModelVersionInfo:
    """An immutable identity of one registered version plus what the registry says about it."""

    name: str
    version: str
    run_id: str | None
    source: str
    current_stage: str = "None"
    status: str = "READY"
    aliases: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()  # sorted (key, value) pairs: hashable and printable
    user_id: str | None = None

    @property
    def tag_map(self) -> dict[str, str]:
        return dict(self.tags)

    @classmethod
    def from_mlflow(cls, mv: Any) -> ModelVersionInfo:
        tags = mv.tags or {}
        return cls(name=mv.name, version=str(mv.version), run_id=mv.run_id or None,
                   source=mv.source or "", current_stage=mv.current_stage or "None",
                   status=str(mv.status or "READY"), aliases=tuple(sorted(mv.aliases or ())),
                   tags=tuple(sorted((str(k), str(v)) for k, v in tags.items())),
                   user_id=getattr(mv, "user_id", None) or None)


@dataclass(frozen=True, slots=True)
class RegisteredModelInfo:
    name: str
    aliases: tuple[tuple[str, str], ...] = ()  # (alias, version) sorted
    versions: tuple[ModelVersionInfo, ...] = field(default=())

    @property
    def alias_map(self) -> dict[str, str]:
        return dict(self.aliases)

    def version(self, number: str) -> ModelVersionInfo | None:
        return next((v for v in self.versions if v.version == str(number)), None)

    def in_stage(self, stage: str) -> tuple[ModelVersionInfo, ...]:
        return tuple(v for v in self.versions if v.current_stage == stage)


class MlflowRegistry:
    """Read and write the MLflow model registry for one credential (one project, or global).

    .. code-block:: python

        registry = MlflowRegistry(MlflowCredentials.from_env(project_id="6650c1a3"))
        mv = registry.resolve("churn", VersionRef(alias="candidate"))
        registry.set_alias("churn", "staging", mv.version, expected=None)
    """

    def __init__(self, credentials: MlflowCredentials, *, retry_budget: float = RETRY_BUDGET,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.credentials = credentials
        self.retry_budget, self._sleep = retry_budget, sleep
        with translate_mlflow_errors("the MLflow client", credentials):  # MLflow judges the URI's scheme
            self._client = _pinned_client(credentials)
        self._host_creds = _host_creds(credentials)  # None for a local store (no HTTP, no retries)

    # --- reads -----------------------------------------------------------------------------

    def get_version(self, name: str, version: str | int) -> ModelVersionInfo:
        return self._call(f"version {version} of model {name!r}",
                          lambda: ModelVersionInfo.from_mlflow(self._client.get_model_version(name, str(version))))

    def get_version_by_alias(self, name: str, alias: str) -> ModelVersionInfo:
        return self._call(f"alias @{alias} of model {name!r}",
                          lambda: ModelVersionInfo.from_mlflow(self._client.get_model_version_by_alias(name, alias)))

    def resolve(self, name: str, ref: Any) -> ModelVersionInfo:
        """A VersionRef (number or alias) -> the immutable version it names right now."""
        if ref.alias is not None:
            return self.get_version_by_alias(name, ref.alias)
        return self.get_version(name, ref.number)

    def get_model(self, name: str) -> RegisteredModelInfo:
        """The model's aliases and all its versions (with tags and stages): two requests."""
        model = self._call(f"model {name!r}", lambda: self._client.get_registered_model(name))
        versions = self._call(f"versions of model {name!r}",
                              lambda: self._client.search_model_versions(_name_filter(name)))
        with translate_mlflow_errors(f"model {name!r}", self.credentials):  # a version "abc" is a bad answer
            aliases = tuple(sorted((a, str(v)) for a, v in (model.aliases or {}).items()))
            infos = []
            for mv in versions:
                info = ModelVersionInfo.from_mlflow(mv)
                # Search results carry no aliases; the model's alias map is the source of truth.
                mine = tuple(sorted(a for a, v in aliases if v == info.version))
                infos.append(replace(info, aliases=mine))
            return RegisteredModelInfo(name=model.name, aliases=aliases,
                                       versions=tuple(sorted(infos, key=lambda v: int(v.version))))

    def model_tags(self, name: str) -> dict[str, str]:
        """The registered model's own tags (not its versions')."""
        model = self._call(f"model {name!r}", lambda: self._client.get_registered_model(name))
        return {str(k): str(v) for k, v in (model.tags or {}).items()}

    def set_model_tag(self, name: str, key: str, value: str) -> None:
        self._call(f"tag {key!r} of model {name!r}", lambda: self._client.set_registered_model_tag(name, key, value))

    def delete_model_tag(self, name: str, key: str) -> None:
        self._call(f"tag {key!r} of model {name!r}", lambda: self._client.delete_registered_model_tag(name, key))

    def alias_target(self, name: str, alias: str) -> str | None:
        model = self._call(f"model {name!r}", lambda: self._client.get_registered_model(name))
        target = (model.aliases or {}).get(alias)
        return None if target is None else str(target)

    # --- writes: each checks first, so a re-run writes nothing -------------------------------

    def set_alias(self, name: str, alias: str, version: str | int, *, expected: str | None) -> bool:
        """Compare-and-swap: point `alias` at `version` only if it is still at `expected`.

        MLflow has no conditional write, so we read immediately before writing and read back
        after; a difference either time is an AliasConflict. Returns False when already there.
        """
        version = str(version)
        current = self.alias_target(name, alias)
        if current == version:
            return False
        if current != expected:
            raise AliasConflict(name, alias, expected, current)
        self._call(f"alias @{alias} of model {name!r}",
                   lambda: self._client.set_registered_model_alias(name, alias, version))
        after = self.alias_target(name, alias)
        if after != version:
            raise AliasConflict(name, alias, version, after)
        return True

    def delete_alias(self, name: str, alias: str, *, expected: str | None) -> bool:
        current = self.alias_target(name, alias)
        if current is None:
            return False
        if current != expected:
            raise AliasConflict(name, alias, expected, current)
        self._call(f"alias @{alias} of model {name!r}",
                   lambda: self._client.delete_registered_model_alias(name, alias))
        return True

    def transition_stage(self, name: str, version: str | int, stage: str, *,
                         archive_existing: bool = True) -> bool:
        """Legacy stages: move `version` to `stage`, archiving the previous holders.

        Returns False when nothing needed to change.
        """
        version = str(version)
        model = self.get_model(name)
        mine = model.version(version)
        if mine is None:
            raise NotFound(f"model {name!r} has no version {version}")
        others = [v for v in model.in_stage(stage) if v.version != version]
        if mine.current_stage == stage and not (archive_existing and others):
            return False
        with warnings.catch_warnings():  # stages are deprecated; we use them only when asked
            warnings.simplefilter("ignore", FutureWarning)
            self._call(f"stage of {name!r} version {version}",
                       lambda: self._client.transition_model_version_stage(
                           name, version, stage, archive_existing_versions=archive_existing))
        return True

    def set_tags(self, name: str, version: str | int, tags: Mapping[str, str]) -> int:
        """Set version tags that differ from what is there, in the order given; return how many were written."""
        version = str(version)
        current = self.get_version(name, version).tag_map
        written = 0
        for key, value in tags.items():
            if current.get(key) != str(value):
                self._call(f"tag {key!r} of {name!r} version {version}",
                           lambda k=key, v=value: self._client.set_model_version_tag(name, version, k, str(v)))
                written += 1
        return written

    def input_example(self, name: str, version: str | int) -> Any | None:
        """The input example logged with the model (parsed JSON), or None when there is none.

        MLflow's artifact download reads credentials from the environment only, so this one
        call sets them for its duration under a process-wide lock (parallel applies stay safe).
        """
        import json
        import tempfile

        from mlflow.artifacts import download_artifacts

        uri = f"models:/{name}/{version}/input_example.json"
        what = f"input example of {name!r} version {version}"
        with _ENV_LOCK, _credentials_in_env(self.credentials), tempfile.TemporaryDirectory() as tmp:
            try:
                path = self._call(what, lambda: download_artifacts(
                    artifact_uri=uri, dst_path=tmp, tracking_uri=self.credentials.tracking_uri,
                    registry_uri=self.credentials.tracking_uri))  # models:/ is resolved by the registry
            except NotFound:
                return None
            with translate_mlflow_errors(what, self.credentials), open(path, encoding="utf-8") as handle:
                return json.load(handle)

    def search_versions(self, filter_string: str, *, page_size: int = 1000) -> tuple[ModelVersionInfo, ...]:
        """Every version matching an MLflow search filter, all pages (``tags.`TARGET_X` LIKE '%'``).
        Search results carry no aliases."""
        found: list[ModelVersionInfo] = []
        token: str | None = None
        while True:
            page = self._call(f"versions matching {filter_string}", lambda t=token: self._client.search_model_versions(
                filter_string, max_results=page_size, page_token=t))
            with translate_mlflow_errors(f"versions matching {filter_string}", self.credentials):
                found += [ModelVersionInfo.from_mlflow(mv) for mv in page]
            token = getattr(page, "token", None)
            if not token:
                return tuple(sorted(found, key=lambda v: (v.name, int(v.version))))

    def download_model(self, name: str, version: str | int, dst: str) -> str:
        """Download a version's model (MLmodel, the model's files, its requirements) into ``dst``;
        return the folder. Credentials as in `input_example`."""
        from mlflow.artifacts import download_artifacts

        what = f"the model files of {name!r} version {version}"
        with _ENV_LOCK, _credentials_in_env(self.credentials):
            return self._call(what, lambda: download_artifacts(
                artifact_uri=f"models:/{name}/{version}", dst_path=dst, tracking_uri=self.credentials.tracking_uri,
                registry_uri=self.credentials.tracking_uri))

    # --- creates: exactly once --------------------------------------------------------------

    def create_experiment(self, name: str, tags: Mapping[str, str] | None = None) -> str:
        """Create experiment ``name`` and return its id. One that exists already (created meanwhile
        by a parallel apply, or by this very create whose answer was lost) is found, not an error."""
        what = f"experiment {name!r}"

        def lookup() -> str | None:
            found = self.tracking(what, lambda c: c.get_experiment_by_name(name))
            return None if found is None else str(found.experiment_id)

        def post() -> str:
            if self._host_creds is None:
                return str(self._client.create_experiment(name, tags=dict(tags or {})))
            answer = self._post_once(what, "experiments/create", {"name": name, "tags": _tag_list(tags or {})})
            if answer is None:  # "already exists"
                found = lookup()
                if found is None:
                    raise ConfigError(f"MLflow has a deleted experiment {name!r}",
                                      hint=f"Restore experiment {name!r} in MLflow (or delete it for good).")
                return found
            return str(answer["experiment_id"])

        return create_once(post, lookup, what=what, retries=Retries(self.retry_budget), sleep=self._sleep)

    def create_run(self, experiment_id: str, *, start_time: int, tags: Mapping[str, str], run_name: str,
                   lookup: Callable[[], str | None]) -> str:
        """Create a run and return its id, exactly once: ``lookup`` finds it (by a tag only this
        run carries) after an ambiguous failure, before it is created again."""
        what = f"a run in experiment {experiment_id}"

        def post() -> str:
            if self._host_creds is None:
                return str(self._client.create_run(experiment_id, start_time=start_time, tags=dict(tags),
                                                   run_name=run_name).info.run_id)
            answer = self._post_once(what, "runs/create", {
                "experiment_id": experiment_id, "start_time": start_time, "run_name": run_name,
                "tags": _tag_list(tags)})
            if answer is None:
                raise BadResponse(SERVICE, "runs/create", "a new run cannot already exist")
            return str(answer["run"]["info"]["run_id"])

        return create_once(post, lookup, what=what, retries=Retries(self.retry_budget), sleep=self._sleep)

    def finish_run(self, run_id: str, *, end_time: int) -> None:
        """Mark a run FINISHED: one POST to runs/update (setting a value: safe to repeat, so retried).
        MlflowClient.update_run reads the run first, a second request per ledger entry."""
        what = f"run {run_id}"
        if self._host_creds is None:
            self._call(what, lambda: self._client.update_run(run_id, status="FINISHED"))
            return
        from mlflow.utils.rest_utils import http_request, verify_rest_response

        endpoint = "/api/2.0/mlflow/runs/update"
        body = {"run_id": run_id, "status": "FINISHED", "end_time": end_time}
        self._call(what, lambda: verify_rest_response(
            http_request(self._host_creds(), endpoint, "POST", json=body), endpoint))  # type: ignore[misc]

    def _post_once(self, what: str, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """POST to MLflow's REST API (``/api/2.0/mlflow/<path>``) once, without MLflow's retries.
        None when MLflow answers that it exists already (RESOURCE_ALREADY_EXISTS)."""
        from mlflow.exceptions import MlflowException
        from mlflow.utils.rest_utils import http_request, verify_rest_response

        endpoint = f"/api/2.0/mlflow/{path}"
        with translate_mlflow_errors(what, self.credentials):
            try:
                response = http_request(self._host_creds(), endpoint, "POST", max_retries=0, json=body)
                return verify_rest_response(response, endpoint).json()
            except MlflowException as exc:
                if getattr(exc, "error_code", "") == "RESOURCE_ALREADY_EXISTS":
                    return None
                raise

    def tracking(self, what: str, action: Callable[[Any], T]) -> T:
        """Run `action(client)` on the pinned MlflowClient with our error translation and retries
        (the ledger). The action must be safe to repeat: a read or an update, never a create."""
        return self._call(what, lambda: action(self._client))

    # --- one place where MLflow's exceptions become ours -------------------------------------

    def _call(self, what: str, action: Callable[[], T]) -> T:
        """``action`` (safe to repeat) with our errors, under MLflow's total deadline; retried while
        transient failures fit the budget. A passed deadline is not retried: a server still sending
        after it is not a blip, and retries would multiply the wait."""
        retries = Retries(self.retry_budget)
        while True:
            started = time.monotonic()
            try:
                with translate_mlflow_errors(what, self.credentials):
                    return call_with_deadline(mlflow_deadline(), action)
            except (Unreachable, RemoteError) as exc:
                passed = isinstance(exc.__cause__, DeadlinePassed)
                again = transient(exc) or is_concurrent_write(exc)
                delay = retries.next_delay(exc, took=time.monotonic() - started) if again and not passed else None
                if delay is None:
                    raise
                log.debug("MLflow, %s: %s; retry %d in %.2fs", what, exc, retries.count, delay)
                self._sleep(delay)


# MLflow's SQL stores write a tag by looking for its row and then inserting it: when two writers
# set the same tag at once (two runs taking one lease), the second insert breaks the table's
# unique key and MLflow answers 400 (or 500) with the database's words. Setting a value is safe
# to repeat, and the row exists by the next attempt, so such an answer is retried, not a failure.
# The wording of SQLite, MySQL and PostgreSQL, in that order.
CONCURRENT_INSERT = ("UNIQUE constraint failed", "Duplicate entry", "duplicate key value violates unique constraint")


class ConcurrentWrite(RemoteError):
    """MLflow refused a write because another writer inserted the same row a moment before."""


def is_concurrent_write(error: DominoMlopsError) -> bool:
    return isinstance(error, ConcurrentWrite)


_ENV_LOCK = threading.Lock()
_CRED_VARS = ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")


@contextmanager
def _credentials_in_env(credentials: MlflowCredentials) -> Iterator[None]:
    saved = {key: os.environ.pop(key, None) for key in _CRED_VARS}
    values = {"MLFLOW_TRACKING_TOKEN": credentials.token, "MLFLOW_TRACKING_USERNAME": credentials.username,
              "MLFLOW_TRACKING_PASSWORD": credentials.password}
    os.environ.update({k: v for k, v in values.items() if v})
    try:
        yield
    finally:
        for key in _CRED_VARS:
            os.environ.pop(key, None)
            if saved[key] is not None:
                os.environ[key] = saved[key]  # type: ignore[assignment]


def _name_filter(name: str) -> str:
    # MLflow strips the quotes of `name='...'` without unescaping, so a name holding both kinds
    # of quote cannot be written that way; a list is read as a Python literal, which can. Only
    # then: the server's literal parsing can fail under concurrent requests (clients/mlflow_rest.py).
    if "'" not in name:
        return f"name='{name}'"
    if '"' not in name:
        return f'name="{name}"'
    return f"name IN ({name!r})"


def mlflow_deadline(environ: Mapping[str, str] | None = None) -> float:
    """Seconds one MLflow client call may take in all: every attempt MLflow's settings allow
    (MLFLOW_HTTP_REQUEST_TIMEOUT each, 1 + MLFLOW_HTTP_REQUEST_MAX_RETRIES of them) plus its
    backoff between them (urllib3: factor * 2**n, at most 120 s each), plus jitter."""
    env = os.environ if environ is None else environ

    def number(key: str, default: float) -> float:
        try:
            return max(0.0, float(env.get(key, default)))
        except ValueError:
            return default  # MLflow itself refuses it on the first request, with its own message

    timeout = number("MLFLOW_HTTP_REQUEST_TIMEOUT", 120)
    retries = int(number("MLFLOW_HTTP_REQUEST_MAX_RETRIES", 7))
    factor = number("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", 2)
    jitter = number("MLFLOW_HTTP_REQUEST_BACKOFF_JITTER", 1)
    backoff = sum(min(120.0, factor * 2**n) + jitter for n in range(min(retries, 32)))
    return timeout * (retries + 1) + backoff + 1.0


@contextmanager
def translate_mlflow_errors(what: str, credentials: MlflowCredentials) -> Iterator[None]:
    """Turn what MLflow lets through into our hierarchy, exactly once, without the URI's password.

    MlflowException; requests' errors (OSError); the deadline; and what MLflow's parsing of a
    hostile answer raises: json's ValueError, protobuf's ParseError, RecursionError.
    """
    from google.protobuf.json_format import ParseError
    from mlflow.exceptions import MlflowException

    uri = credentials.display_uri
    try:
        yield
    except DominoMlopsError:
        raise
    except MlflowException as exc:
        raise _translate(exc, what, credentials) from exc
    except DeadlinePassed as exc:
        raise Unreachable(SERVICE, uri, f"no complete answer within {exc.seconds:g} s for {what} (the total "
                          "MLflow's timeout and retries allow; the server kept sending, or trickling)",
                          hint="Check that the server is healthy and that no proxy in between trickles data; "
                               "MLFLOW_HTTP_REQUEST_TIMEOUT and MLFLOW_HTTP_REQUEST_MAX_RETRIES set the total.") from exc
    except OSError as exc:  # requests' ConnectionError is an OSError
        raise Unreachable(SERVICE, uri, _clean(_root_reason(exc), credentials)) from exc
    except (ValueError, ParseError, RecursionError) as exc:
        raise BadResponse(SERVICE, uri, f"the answer about {what} is not MLflow's REST API "
                          f"({type(exc).__name__}: {_clean(str(exc), credentials)[:150]})") from exc


def _clean(text: str, credentials: MlflowCredentials) -> str:
    """One line, without the tracking URI's credentials: MLflow quotes the full URL it called."""
    return " ".join(scrub(text, credentials.tracking_uri).split())


def _translate(exc: Any, what: str, credentials: MlflowCredentials) -> DominoMlopsError:
    code = getattr(exc, "error_code", "") or ""
    message = str(getattr(exc, "message", exc))
    uri = credentials.display_uri
    if "unsupported URI" in message:  # the scheme names no store MLflow knows (ftp://, mlflow://)
        return ConfigError(f"MLflow cannot use MLFLOW_TRACKING_URI {uri!r}: no tracking server or store "
                           "has that scheme", hint="Use http:// or https:// for a server, for example "
                                                    "MLFLOW_TRACKING_URI=http://127.0.0.1:5000.")
    if code == "RESOURCE_DOES_NOT_EXIST" or "not found" in message.lower() and code == "NOT_FOUND":
        return NotFound(f"MLflow has no {what}",
                        hint="Check the model name and version (or alias) in the manifest.")
    if code == "UNAUTHENTICATED":
        return AuthenticationFailed(SERVICE, credentials.source, endpoint=uri)
    if code == "PERMISSION_DENIED":
        return PermissionDenied(SERVICE, credentials.source, endpoint=uri, target=what)
    if "failed with timeout exception" in message or (
            "failed with exception" in message and _root_reason(exc) == "timed out"):
        return Unreachable(SERVICE, uri, "no answer within the timeout "
                           f"({os.environ.get('MLFLOW_HTTP_REQUEST_TIMEOUT', '120')} s)",
                           hint="Check that the server is healthy, or raise MLFLOW_HTTP_REQUEST_TIMEOUT.")
    if "failed with exception" in message:
        return Unreachable(SERVICE, uri, _clean(_root_reason(exc), credentials))
    if "not in a valid JSON format" in message or isinstance(exc.__cause__, ValueError):
        return BadResponse(SERVICE, uri, "the body is not JSON")
    if any(marker in message for marker in CONCURRENT_INSERT):
        return ConcurrentWrite(SERVICE, _status_of(exc), uri, f"another writer wrote {what} at the same moment "
                               "(the store's unique key refused the second insert)")
    if code == "INVALID_PARAMETER_VALUE":
        return ConfigError(f"MLflow refused {what}: {_clean(_first_line(message), credentials)[:300]}",
                           hint="Check the names and values in the manifest.")
    status = _status_of(exc)
    # MLflow appends the whole body of a non-JSON error ("... Response body: '<html>...'"): an
    # error page says nothing we should repeat, and it may be megabytes long.
    detail = _first_line(message.split(". Response body:", 1)[0])
    return RemoteError(SERVICE, status, uri, _clean(detail, credentials)[:200])


def _status_of(exc: Any) -> int:
    try:
        return int(exc.get_http_status_code())
    except Exception:  # noqa: BLE001 - older MLflow versions lack it
        return 500


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _root_reason(exc: BaseException) -> str:
    """The innermost cause, shortened: 'Connection refused' rather than three nested reprs."""
    inner: BaseException = exc
    while inner.__cause__ is not None or inner.__context__ is not None:
        inner = inner.__cause__ or inner.__context__  # type: ignore[assignment]
    text = str(inner)
    for marker in ("Connection refused", "Name or service not known", "timed out",
                   "Max retries exceeded", "No route to host"):
        if marker in text:
            return marker.lower() if marker != "Max retries exceeded" else "connection failed after retries"
    return _first_line(text)[:200] or type(inner).__name__


def _tag_list(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"key": str(k), "value": str(v)} for k, v in tags.items()]


def _host_creds(credentials: MlflowCredentials) -> Callable[[], Any] | None:
    """MLflow's host credentials for this credential (None for a local store: no HTTP)."""
    uri = credentials.tracking_uri
    if not uri.startswith(("http://", "https://")):
        return None
    from mlflow.utils.rest_utils import MlflowHostCreds

    def host_creds() -> Any:
        return MlflowHostCreds(uri, username=credentials.username, password=credentials.password,
                               token=credentials.token)

    return host_creds


def _pinned_client(credentials: MlflowCredentials) -> Any:
    """An MlflowClient whose REST stores use these credentials, not os.environ."""
    from mlflow import MlflowClient

    uri = credentials.tracking_uri
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    host_creds = _host_creds(credentials)
    if host_creds is None:
        return client  # local stores (sqlite, files) take no credentials
    from mlflow.store.model_registry.rest_store import RestStore as RegistryRestStore
    from mlflow.store.tracking.rest_store import RestStore as TrackingRestStore
    from mlflow.tracking._model_registry.client import ModelRegistryClient
    from mlflow.tracking._tracking_service.client import TrackingServiceClient

    registry_store = RegistryRestStore(host_creds)
    tracking_store = TrackingRestStore(host_creds)

    class _PinnedRegistryClient(ModelRegistryClient):
        @property
        def store(self) -> Any:
            return registry_store

    class _PinnedTrackingClient(TrackingServiceClient):
        @property
        def store(self) -> Any:
            return tracking_store

    # MLflow resolves these lazily and keeps them on the instance; we pre-seat ours. A test
    # (tests/clients/test_mlflow_registry.py) proves the pinned credential is what is sent.
    client._registry_client_lazy = _PinnedRegistryClient(uri, uri)
    client._tracking_client = _PinnedTrackingClient(uri)
    return client
