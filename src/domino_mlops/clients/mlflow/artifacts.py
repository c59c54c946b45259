"""A registered version's files (its input example, its whole model folder), without `mlflow`.

MLflow answers where a version's files live (`model-versions/get-download-uri`). When they live
behind the tracking server (``mlflow-artifacts:/...``, what ``mlflow server --serve-artifacts``
and Domino hand out) they are read through its artifact proxy with the same session, credential
and retry rules as every other MLflow call (clients/mlflow/rest.py):
``GET /api/2.0/mlflow-artifacts/artifacts?path=<dir>`` lists a folder (basenames only),
``GET /api/2.0/mlflow-artifacts/artifacts/<path>`` is one file. A file is streamed to disk with a
size bound, and every listed name must be a plain name: a hostile server must not make us write
outside the destination.

Any other store (s3://, gs://, file://, dbfs:/...) needs that store's client, which is MLflow's:
`mlflow.artifacts.download_artifacts` when `mlflow` is installed, else a ConfigError with a hint.
MLflow reads credentials from the environment only, so that fallback alone sets them for its
duration under a process-wide lock; the proxy path takes no lock, and parallel applies never
wait on each other's downloads.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from domino_mlops.clients.json_fields import Fields
from domino_mlops.clients.mlflow.rest import SERVICE, MlflowRest
from domino_mlops.errors import (
    BadResponse,
    ConfigError,
    DominoMlopsError,
    NotFound,
    RemoteError,
    Unreachable,
)

PROXY = "/api/2.0/mlflow-artifacts/artifacts"
MAX_FILE_BYTES = 4 * 1024**3  # one model file; a bigger one is a mistake, not a model to serve
MAX_FILES = 10_000  # in one model folder, all levels
MIN_RATE = 1024 * 1024  # bytes a second a download may not fall below: its deadline grows with its size
MAX_HOPS = 3  # runs:/ and models:/ locations point at others; a loop must end


class ModelFiles:
    """The files of registered versions, through one credential's MLflow session."""

    def __init__(self, rest: MlflowRest) -> None:
        self.rest = rest

    def input_example(self, name: str, version: str) -> Any | None:
        """The input example logged with the model (parsed JSON), or None when it logged none.
        A server error is an error, not "none"."""
        what = f"input example of {name!r} version {version}"
        where = self.location(name, version)
        path = proxied_path(where, self.rest.credentials.tracking_uri)
        if path is None:
            with tempfile.TemporaryDirectory() as tmp:
                try:
                    local = _download_with_mlflow(self.rest, f"{where.rstrip('/')}/input_example.json", tmp, what)
                except NotFound:
                    return None
                return self.rest.shaped(lambda: _json_file(Path(local), what))
        reply = self.rest.read(f"{PROXY}/{quote(path)}/input_example.json", None, what=what, missing_ok=True)
        return None if reply is None else reply.body

    def download_model(self, name: str, version: str, dst: str) -> str:
        """Every file of the version's model folder (MLmodel, the model, its requirements) into
        ``dst``; return the folder."""
        what = f"the model files of {name!r} version {version}"
        where = self.location(name, version)
        path = proxied_path(where, self.rest.credentials.tracking_uri)
        if path is None:
            return _download_with_mlflow(self.rest, where, dst, what)
        target = Path(dst)
        target.mkdir(parents=True, exist_ok=True)
        count = 0
        for count, (relative, size) in enumerate(self._walk(path, what), start=1):
            if count > MAX_FILES:
                raise BadResponse(SERVICE, PROXY, f"{what}: more than {MAX_FILES} files")
            local = target.joinpath(*relative)
            local.parent.mkdir(parents=True, exist_ok=True)
            with open(local, "wb") as handle:
                self.rest.read(f"{PROXY}/{quote('/'.join((path, *relative)))}", None, what=what, expect="none",
                               into=handle, max_bytes=MAX_FILE_BYTES, deadline=60.0 + size / MIN_RATE)
        if count == 0:  # the listing of a folder that is not there is empty, not a 404
            raise NotFound(f"MLflow lists no files for {what} (at {where})",
                           hint="The version's artifacts were deleted or never uploaded; register it again.")
        return str(target)

    def location(self, name: str, version: str) -> str:
        """Where the version's files are: an artifact URI with runs:/ and models:/ followed."""
        what = f"the files of {name!r} version {version}"
        reply = self.rest.get("model-versions/get-download-uri", {"name": name, "version": version}, what=what,
                              missing_ok=True)
        if reply is None:
            raise NotFound(f"MLflow has no version {version} of model {name!r}",
                           hint="Check the model name and version (or alias) in the manifest.")
        uri = self.rest.shaped(lambda: Fields(reply.body, reply.endpoint).req_str("artifact_uri"))
        for _ in range(MAX_HOPS):
            if uri.startswith("runs:/"):  # runs:/<run id>/<path in the run>
                run_id, _, inner = uri[len("runs:/"):].partition("/")
                uri = self._joined(self._root("runs/get", {"run_id": run_id}, ("run", "info"), what), inner)
            elif uri.startswith("models:/m-"):  # MLflow 3's logged model: models:/<model id>[/<path>]
                model_id, _, inner = uri[len("models:/"):].partition("/")
                uri = self._joined(self._root(f"logged-models/{quote(model_id)}", {}, ("model", "info"), what), inner)
            else:
                return uri
        raise BadResponse(SERVICE, "model-versions/get-download-uri", f"{what}: more than {MAX_HOPS} redirections")

    def _root(self, endpoint: str, params: dict[str, str], keys: tuple[str, str], what: str) -> str:
        reply = self.rest.get(endpoint, params, what=what)
        assert reply is not None  # missing_ok is off: a 404 raised
        return self.rest.shaped(lambda: Fields(reply.body, reply.endpoint).req_obj(keys[0]).req_obj(keys[1])
                      .req_str("artifact_uri"))

    @staticmethod
    def _joined(root: str, inner: str) -> str:
        return f"{root.rstrip('/')}/{inner}" if inner else root

    def _walk(self, path: str, what: str, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], int]]:
        """(relative parts, size) of every file under ``path``, depth first."""
        if len(prefix) > 32:
            raise BadResponse(SERVICE, PROXY, f"{what}: folders nested more than 32 deep")
        folder = "/".join((path, *prefix))
        reply = self.rest.read(PROXY, {"path": folder}, what=what)
        assert reply is not None  # missing_ok is off: a 404 raised
        for item in self.rest.shaped(lambda: Fields(reply.body, reply.endpoint).opt_list("files")):
            fields = self.rest.shaped(lambda i=item: Fields(i, reply.endpoint))
            name = self.rest.shaped(lambda f=fields: f.req_str("path"))
            if not _plain(name):
                raise BadResponse(SERVICE, reply.endpoint, f"{what}: the listing names {name[:80]!r}, not a plain "
                                  "file name (refused: it would be written outside the model folder)")
            if fields.raw("is_dir") is True:
                yield from self._walk(path, what, (*prefix, name))
            else:
                size = fields.raw("file_size")
                yield (*prefix, name), int(size) if str(size or "0").isdigit() else 0


def proxied_path(uri: str, tracking_uri: str) -> str | None:
    """The artifact proxy's path for ``uri`` when the tracking server serves it, else None."""
    parts, server = urlsplit(uri), urlsplit(tracking_uri)
    if parts.scheme == "mlflow-artifacts":
        if parts.netloc and parts.netloc != server.hostname and parts.netloc != (server.netloc.rsplit("@", 1)[-1]):
            return None  # another server's: its own credentials, not ours
        path = parts.path.strip("/")
    elif parts.scheme in ("http", "https") and parts.netloc.rsplit("@", 1)[-1] == server.netloc.rsplit("@", 1)[-1]:
        base = server.path.rstrip("/") + PROXY + "/"
        if not parts.path.startswith(base):
            return None
        path = parts.path[len(base):].strip("/")
    else:
        return None
    return path if all(_plain(part) for part in path.split("/")) else None


def _plain(name: str) -> bool:
    return bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name and "\0" not in name


def _json_file(path: Path, what: str) -> Any:
    import json

    try:
        return json.loads(path.read_bytes())
    except (ValueError, RecursionError) as exc:
        raise BadResponse(SERVICE, what, "the file is not JSON") from exc


# --- the fallback: a store only MLflow's own clients reach ----------------------------------------

_ENV_LOCK = threading.Lock()
_CRED_VARS = ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD")


def _download_with_mlflow(rest: MlflowRest, uri: str, dst: str, what: str) -> str:
    scheme = urlsplit(uri).scheme or uri.split(":", 1)[0]
    try:
        from mlflow.artifacts import download_artifacts
    except ImportError:
        raise ConfigError(f"{what} are stored at a {scheme}: location, which only MLflow's own client reads, "
                          "and the `mlflow` package is not installed",
                          hint=f"Install mlflow-skinny plus the client of that store (for {scheme}: its SDK), "
                               "or let the tracking server serve artifacts (mlflow server --serve-artifacts) "
                               "so that they are read through it.") from None
    credentials = rest.credentials
    with _ENV_LOCK, _credentials_in_env(credentials.token, credentials.username, credentials.password):
        try:
            return str(download_artifacts(artifact_uri=uri, dst_path=dst, tracking_uri=credentials.tracking_uri))
        except DominoMlopsError:
            raise
        except Exception as exc:  # MLflow's and each store's SDK's exceptions, all of them
            raise _translated(exc, uri, what, credentials.tracking_uri) from exc


def _translated(exc: Exception, uri: str, what: str, tracking_uri: str) -> DominoMlopsError:
    from domino_mlops.clients.redact import redact_uri, scrub

    text = " ".join(scrub(str(exc), tracking_uri).split())[:200]
    code = str(getattr(exc, "error_code", ""))
    if code == "RESOURCE_DOES_NOT_EXIST" or isinstance(exc, FileNotFoundError) or "does not exist" in text.lower():
        return NotFound(f"MLflow's store has no {what}: {text}")
    if isinstance(exc, OSError):
        return Unreachable(SERVICE, redact_uri(uri), text)
    return RemoteError(SERVICE, 500, redact_uri(uri), f"{type(exc).__name__}: {text}")


@contextmanager
def _credentials_in_env(token: str | None, username: str | None, password: str | None) -> Iterator[None]:
    saved = {key: os.environ.pop(key, None) for key in _CRED_VARS}
    values = dict(zip(_CRED_VARS, (token, username, password), strict=True))
    os.environ.update({k: v for k, v in values.items() if v})
    try:
        yield
    finally:
        for key in _CRED_VARS:
            os.environ.pop(key, None)
            if saved[key] is not None:
                os.environ[key] = saved[key]  # type: ignore[assignment]

