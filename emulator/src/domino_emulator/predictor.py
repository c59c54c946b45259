"""Fetch registered MLflow models, keep them loaded, and answer predictions with them.

The runtime library has no MLflow; ``domino-emulator[predict]`` brings mlflow-skinny and what it
alone cannot load a scikit-learn model without: numpy, pandas, scikit-learn and skops (MLflow 3
saves scikit-learn models with skops). When one
is missing the load fails with a message that says so, and the deploy goes Failed with it.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'domino-emulator[predict]'"


class ModelLoadError(Exception):
    """The model could not be fetched or loaded; the message is a build-log line."""


class InputError(Exception):
    """The request body cannot be turned into model input; the message is for the caller."""


class ModelStore:
    """Loaded models by (registered name, version), shared by every Model API that serves them."""

    def __init__(self, mlflow_uri: str | None) -> None:
        self.mlflow_uri = mlflow_uri
        self._cache: dict[tuple[str, str], Any] = {}
        # A lock per model version: each is fetched once, while other versions' builds fetch theirs
        # at the same time (one lock for all made 50 builds load one after the other; Domino
        # builds each Model API version on its own).
        self._load_locks: dict[tuple[str, str], threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self._root: Path | None = None
        self._closed = False

    def load(self, name: str, version: str) -> Any:
        key = (name, str(version))
        model = self._cache.get(key)
        if model is not None:
            return model
        with self._locks_lock:
            lock = self._load_locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._cache:
                self._cache[key] = self._fetch(name, str(version))
            return self._cache[key]

    def close(self) -> None:
        self._closed = True
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)

    def _fetch(self, name: str, version: str) -> Any:
        uri = f"models:/{name}/{version}"
        if self._closed:
            raise ModelLoadError(f"cannot fetch {uri}: the emulator is stopping")
        if not self.mlflow_uri:
            raise ModelLoadError(f"cannot fetch {uri}: no MLflow tracking URI is configured "
                                 "(start the emulator with --mlflow-uri or set MLFLOW_TRACKING_URI)")
        try:
            import mlflow.artifacts
            import mlflow.pyfunc

            with self._locks_lock:  # builds fetch at once: one folder for all of them
                if self._root is None:
                    self._root = Path(tempfile.mkdtemp(prefix="domino-emulator-models-"))
            # Explicit URIs, never mlflow.set_tracking_uri(): that is process-global and would
            # redirect the host program's own MLflow calls when the emulator runs in-process. And
            # not the `models:/` URI itself: MLflow 3.17 resolves it through a check that reads the
            # *default* registry (a new ./mlflow.db, "Registered Model not found") whatever
            # registry_uri says. The version's own artifact location, asked of the registry, is what
            # the download needs.
            from mlflow.tracking import MlflowClient

            location = MlflowClient(tracking_uri=self.mlflow_uri, registry_uri=self.mlflow_uri) \
                .get_model_version_download_uri(name, version)
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=location, dst_path=tempfile.mkdtemp(dir=self._root), tracking_uri=self.mlflow_uri,
            )
            # suppress_warnings: MLflow would compare the model's requirements (and Python
            # version) with this process's packages, reading every installed package's metadata:
            # a warning about the wrong environment (a Domino build installs the model's own), and
            # about a quarter of a build's CPU in the rollout benchmark. The model loads the same.
            return mlflow.pyfunc.load_model(local, suppress_warnings=True)
        except Exception as exc:  # noqa: BLE001 - any failure is a failed build, reported in its log
            raise _load_error(uri, self.mlflow_uri, exc) from exc
        finally:
            if self._closed and self._root is not None:
                # Stopped mid-download: the download re-created the folder close() removed.
                shutil.rmtree(self._root, ignore_errors=True)


def _load_error(uri: str, mlflow_uri: str, exc: Exception) -> ModelLoadError:
    missing = _missing_module(exc)
    if missing:
        return ModelLoadError(f"cannot load {uri}: Python package {missing!r} is missing in the emulator; "
                              f"install the emulator extra: {INSTALL_HINT}")
    return ModelLoadError(f"cannot fetch or load {uri} from {mlflow_uri}: {_first_line(exc)}")


def model_input(body: dict[str, Any]) -> Any:
    """What the model function gets from a request body, as Domino's docs describe the two forms.

    ``{"data": {...}}`` holds named arguments: for an MLflow model, one row ``{col: value}`` or
    rows as columns ``{col: [v1, v2]}``. ``{"parameters": [...]}`` holds positional arguments:
    an MLflow model's predict takes one (a row, columns, or a list of rows); a list of several
    row objects is read as rows, the way callers mean it.
    """
    if "data" in body:
        return body["data"]
    parameters = body.get("parameters")
    if isinstance(parameters, dict):  # the async route's NewAsyncPredictionV1: named arguments
        return parameters
    if isinstance(parameters, list) and len(parameters) == 1:
        return parameters[0]
    if isinstance(parameters, list) and parameters and all(isinstance(p, dict) for p in parameters):
        return parameters
    raise InputError("'parameters' must hold the model's one argument, or a list of row objects")


def predict(model: Any, data: Any) -> list[Any]:
    """Run ``model`` on its input (one row, a list of rows, or columns)."""
    import pandas as pd

    frame = _coerce(_to_frame(data, pd), model)
    try:
        result = model.predict(frame)
    except Exception as exc:  # noqa: BLE001 - the model refused this input; the caller should know why
        raise InputError(f"the model refused the input: {_first_line(exc)}") from exc
    return _to_list(result)


def _to_frame(data: Any, pd: Any) -> Any:
    if isinstance(data, list) and data and all(isinstance(row, dict) for row in data):
        return pd.DataFrame(data)
    if isinstance(data, dict) and data:
        columns = [isinstance(v, list) for v in data.values()]
        if all(columns):
            if len({len(v) for v in data.values()}) != 1:
                raise InputError("every column must have the same number of values")
            return pd.DataFrame(data)
        if not any(columns):
            return pd.DataFrame([data])
    raise InputError("the input must be an object of column values (one row), a list of such objects, "
                     "or an object of equal-length lists (columns)")


def _coerce(frame: Any, model: Any) -> Any:
    """Cast columns to the signature's types: JSON 30 must meet a double column as 30.0.

    MLflow refuses int64 -> float64 as unsafe; a serving harness converts the JSON it parsed first.
    """
    schema = model.metadata.get_input_schema() if getattr(model, "metadata", None) else None
    if schema is None or schema.is_tensor_spec() or not schema.has_input_names():
        return frame
    for name, dtype in zip(schema.input_names(), schema.pandas_types(), strict=True):
        if name in frame.columns:
            try:
                frame[name] = frame[name].astype(dtype)
            except (TypeError, ValueError) as exc:
                raise InputError(f"column {name!r} cannot be read as {dtype}: {exc}") from exc
    return frame


def _to_list(result: Any) -> list[Any]:
    if hasattr(result, "to_dict") and hasattr(result, "columns"):  # a DataFrame: one object per row
        return result.to_dict(orient="records")
    if hasattr(result, "tolist"):  # numpy arrays, pandas Series
        value = result.tolist()
        return value if isinstance(value, list) else [value]
    return list(result) if isinstance(result, (list, tuple)) else [result]


def _missing_module(exc: BaseException) -> str | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ImportError):
            return (current.name or str(current)).split(".")[0]
        current = current.__cause__ or current.__context__
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")
