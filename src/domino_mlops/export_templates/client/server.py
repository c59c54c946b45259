"""Serve {{MODEL_NAME}} version {{MODEL_VERSION}}: POST /predict, GET /health (the image's ENTRYPOINT).

Rendered by domino-mlops export; replace it with your own in the target's templates folder.
Needs only the standard library, plus MLflow and what the model needs (mymodel/requirements.txt).

POST /predict takes JSON in any of these forms and answers {"predictions": [...]}:
  {"data": {"age": 30, "bmi": 23}}               one row, as Domino's Model APIs take it
  {"data": {"age": [30, 41], "bmi": [23, 27]}}   columns
  {"dataframe_records": [{"age": 30, ...}]}      rows, as `mlflow models serve` takes them
  [{"age": 30, ...}]                               rows
Settings: MODEL_DIR (default: ../mymodel next to this file), HOST (0.0.0.0), PORT (8080).

Capture for monitoring (off unless DMLOPS_CAPTURE is set; see client/spool.py and docs/MONITORING.md):
  DMLOPS_CAPTURE          off (default) | sqlite | rabbitmq: record every prediction into that spool
  DMLOPS_SPOOL_PATH       the SQLite spool file, on a volume (default /var/spool/dmlops/predictions.sqlite)
  DMLOPS_RABBITMQ_URL     amqp://user:password@host:5672/vhost (a secret: never printed)
  DMLOPS_RABBITMQ_QUEUE   the durable queue (default dmlops.predictions)
  DMLOPS_CAPTURE_INPUTS   1: records carry the input rows and the predictions too (for drift)
  DMLOPS_CAPTURE_QUEUE    records held in memory while the spool is slow (default 10000); beyond
                          that a record is dropped and counted, never the prediction
"""

import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MODEL_NAME = "{{MODEL_NAME}}"
MODEL_VERSION = "{{MODEL_VERSION}}"
MAX_BODY = 16 * 1024 * 1024
CAPTURE_MODES = ("off", "sqlite", "rabbitmq")


class BadInput(ValueError):
    pass


def load_model(model_dir):
    import mlflow.pyfunc

    return mlflow.pyfunc.load_model(str(model_dir))


def rows_of(body):
    """The model input as a pandas DataFrame, cast to the model signature's column types
    (JSON 30 must meet a double column as 30.0: MLflow refuses int -> float as unsafe)."""
    data = body
    if isinstance(body, dict):
        if "data" in body:
            data = body["data"]
        elif "dataframe_records" in body:
            data = body["dataframe_records"]
        elif "inputs" in body:
            data = body["inputs"]
    import pandas as pd

    if isinstance(data, list) and data and all(isinstance(row, dict) for row in data):
        return pd.DataFrame(data)
    if isinstance(data, dict) and data:
        columns = [isinstance(v, list) for v in data.values()]
        if all(columns) and len({len(v) for v in data.values()}) == 1:
            return pd.DataFrame(data)
        if not any(columns):
            return pd.DataFrame([data])
    raise BadInput("send one row {column: value}, rows [{column: value}], or columns {column: [values]}")


def coerce(frame, model):
    schema = model.metadata.get_input_schema() if getattr(model, "metadata", None) else None
    if schema is None or schema.is_tensor_spec() or not schema.has_input_names():
        return frame
    for name, dtype in zip(schema.input_names(), schema.pandas_types()):
        if name in frame.columns:
            try:
                frame[name] = frame[name].astype(dtype)
            except (TypeError, ValueError) as exc:
                raise BadInput(f"column {name!r} cannot be read as {dtype}: {exc}") from exc
    return frame


def as_list(result):
    if hasattr(result, "to_dict") and hasattr(result, "columns"):
        return result.to_dict(orient="records")
    if hasattr(result, "tolist"):
        value = result.tolist()
        return value if isinstance(value, list) else [value]
    return list(result) if isinstance(result, (list, tuple)) else [result]


def capture_from_env(environ):
    """A spool.Capture as DMLOPS_* ask, or None when capture is off; ValueError for a bad setting."""
    mode = (environ.get("DMLOPS_CAPTURE") or "off").strip().lower()
    if mode not in CAPTURE_MODES:
        raise ValueError(f"DMLOPS_CAPTURE={mode!r}: use one of {', '.join(CAPTURE_MODES)}")
    if mode == "off":
        return None
    import spool  # client/spool.py, beside this file

    url = environ.get("DMLOPS_RABBITMQ_URL", "")
    if mode == "rabbitmq" and not url:
        raise ValueError("DMLOPS_CAPTURE=rabbitmq needs DMLOPS_RABBITMQ_URL")
    settings = {"path": environ.get("DMLOPS_SPOOL_PATH") or spool.DEFAULT_SPOOL_PATH, "url": url,
                "queue_name": environ.get("DMLOPS_RABBITMQ_QUEUE") or spool.DEFAULT_QUEUE}
    capacity = int(environ.get("DMLOPS_CAPTURE_QUEUE") or 10000)
    return spool.Capture(lambda: spool.open_spool(mode, **settings), capacity=capacity)


class Recorder:
    """What a prediction hands to the capture: the record is built here, written by its thread."""

    def __init__(self, capture, mode, with_inputs):
        self.capture, self.mode, self.with_inputs = capture, mode, with_inputs
        self._seq = 0
        self._lock = threading.Lock()

    def record(self, started, status, rows=0, inputs=None, outputs=None):
        import spool

        with self._lock:
            self._seq += 1
            seq = self._seq
        self.capture.offer(spool.new_record(
            MODEL_NAME, MODEL_VERSION, seq, latency_ms=(time.perf_counter() - started) * 1000, rows=rows,
            status=status, inputs=inputs if self.with_inputs else None,
            outputs=outputs if self.with_inputs else None))

    def health(self):
        return {"mode": self.mode, "inputs": self.with_inputs, **self.capture.status()}


def make_handler(model, recorder=None):
    class Handler(BaseHTTPRequestHandler):
        server_version = "domino-mlops-export/1"

        def _answer(self, status, payload):
            body = json.dumps(payload).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):  # noqa: N802 - the http.server API
            if self.path.split("?", 1)[0] == "/health":
                health = {"status": "ok", "model": MODEL_NAME, "version": MODEL_VERSION}
                health["capture"] = recorder.health() if recorder else {"mode": "off"}
                self._answer(200, health)
            else:
                self._answer(404, {"error": "not found; use POST /predict or GET /health"})

        def do_POST(self):  # noqa: N802
            if self.path.split("?", 1)[0] != "/predict":
                self._answer(404, {"error": "not found; use POST /predict or GET /health"})
                return
            started = time.perf_counter()
            status, rows, frame, predictions = self._predict()
            # After the answer is sent: the record's latency is the client's, and capture
            # (which only queues the record) cannot delay the answer.
            if recorder is not None:
                keep = recorder.with_inputs and frame is not None
                recorder.record(started, status, rows, inputs=frame.to_dict(orient="records") if keep else None,
                                outputs=predictions if keep else None)

        def _predict(self):
            """Answer the request; return (status, rows, input frame or None, predictions or None)."""
            length = int(self.headers.get("Content-Length") or 0)
            if length <= 0 or length > MAX_BODY:
                self._answer(400, {"error": f"send a JSON body of at most {MAX_BODY} bytes"})
                return 400, 0, None, None
            frame = None
            try:
                frame = coerce(rows_of(json.loads(self.rfile.read(length))), model)
                predictions = as_list(model.predict(frame))
            except (ValueError, BadInput) as exc:
                self._answer(400, {"error": str(exc)})
                return 400, 0 if frame is None else len(frame), None, None
            except Exception as exc:  # noqa: BLE001 - the model failed on this input: say why
                self._answer(500, {"error": f"{type(exc).__name__}: {exc}"})
                return 500, 0 if frame is None else len(frame), None, None
            self._answer(200, {"predictions": predictions, "model": MODEL_NAME, "version": MODEL_VERSION})
            return 200, len(frame), frame, predictions

        def log_message(self, fmt, *args):
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    return Handler


def main():
    model_dir = Path(os.environ.get("MODEL_DIR") or Path(__file__).resolve().parent.parent / "mymodel")
    try:
        capture = capture_from_env(os.environ)
    except ValueError as exc:
        sys.exit(f"error: {exc}")
    recorder = None
    if capture is not None:
        mode = os.environ["DMLOPS_CAPTURE"].strip().lower()
        recorder = Recorder(capture, mode, os.environ.get("DMLOPS_CAPTURE_INPUTS", "") in ("1", "true", "yes"))
    model = load_model(model_dir)
    server = ThreadingHTTPServer((os.environ.get("HOST", "0.0.0.0"), int(os.environ.get("PORT", "8080"))),
                                 make_handler(model, recorder))
    print(f"serving {MODEL_NAME} version {MODEL_VERSION} on port {server.server_address[1]}"
          f"{f', capturing into {recorder.mode}' if recorder else ''}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if capture is not None:
            capture.flush()
            capture.close()


if __name__ == "__main__":
    main()
