"""Serve {{MODEL_NAME}} version {{MODEL_VERSION}}: POST /predict, GET /health (the image's ENTRYPOINT).

Rendered by domino-mlops export; replace it with your own in the target's templates folder.
Needs only the standard library, plus MLflow and what the model needs (mymodel/requirements.txt).

POST /predict takes JSON in any of these forms and answers {"predictions": [...]}:
  {"data": {"age": 30, "bmi": 23}}               one row, as Domino's Model APIs take it
  {"data": {"age": [30, 41], "bmi": [23, 27]}}   columns
  {"dataframe_records": [{"age": 30, ...}]}      rows, as `mlflow models serve` takes them
  [{"age": 30, ...}]                               rows
Settings: MODEL_DIR (default: ../mymodel next to this file), HOST (0.0.0.0), PORT (8080).
"""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

MODEL_NAME = "{{MODEL_NAME}}"
MODEL_VERSION = "{{MODEL_VERSION}}"
MAX_BODY = 16 * 1024 * 1024


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


def make_handler(model):
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
                self._answer(200, {"status": "ok", "model": MODEL_NAME, "version": MODEL_VERSION})
            else:
                self._answer(404, {"error": "not found; use POST /predict or GET /health"})

        def do_POST(self):  # noqa: N802
            if self.path.split("?", 1)[0] != "/predict":
                self._answer(404, {"error": "not found; use POST /predict or GET /health"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length <= 0 or length > MAX_BODY:
                self._answer(400, {"error": f"send a JSON body of at most {MAX_BODY} bytes"})
                return
            try:
                frame = coerce(rows_of(json.loads(self.rfile.read(length))), model)
                predictions = as_list(model.predict(frame))
            except (ValueError, BadInput) as exc:
                self._answer(400, {"error": str(exc)})
                return
            except Exception as exc:  # noqa: BLE001 - the model failed on this input: say why
                self._answer(500, {"error": f"{type(exc).__name__}: {exc}"})
                return
            self._answer(200, {"predictions": predictions, "model": MODEL_NAME, "version": MODEL_VERSION})

        def log_message(self, fmt, *args):
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    return Handler


def main():
    model_dir = Path(os.environ.get("MODEL_DIR") or Path(__file__).resolve().parent.parent / "mymodel")
    model = load_model(model_dir)
    server = ThreadingHTTPServer((os.environ.get("HOST", "0.0.0.0"), int(os.environ.get("PORT", "8080"))),
                                 make_handler(model))
    print(f"serving {MODEL_NAME} version {MODEL_VERSION} on port {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
