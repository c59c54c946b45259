"""Calling a deployed model: ``POST /models/{modelApiId}/latest/model`` with a model access token."""

from __future__ import annotations

import time
import uuid
from typing import Any

from domino_mlops.emulator import auth, deployments
from domino_mlops.emulator.context import Context
from domino_mlops.emulator.predictor import InputError, ModelLoadError, predict
from domino_mlops.emulator.web import ApiError, Request, Response, Router, bad_request

HARNESS_VERSION = "0.1"


def register(router: Router) -> None:
    # Not a write (nothing changes), not a Domino credential (Basic with a model token), and the
    # prediction runs outside the world lock so a slow model does not stall the API.
    router.add("POST", "/models/{modelApiId}/latest/model", call_model, write=False, auth=False, locked=False)


def call_model(ctx: Context, req: Request, who: None) -> Any:
    with ctx.world.lock:
        api = ctx.world.model_api(req.params["modelApiId"])
        auth.check_model_token(api, req.headers)
        if api.is_async:
            raise bad_request(f"model API {api.id} is asynchronous; call /api/modelApis/async/v1/{api.id}")
        version = deployments.running_version(ctx, api)
        source = dict(version.source)
        number, log_calls = version.number, version.log_http_request_response
    body = req.json_object()
    if "data" not in body:
        raise bad_request("the request body needs a 'data' field")
    started = time.perf_counter()
    try:
        model = ctx.models.load(str(source["registeredModelName"]), str(source["registeredModelVersion"]))
        result = predict(model, body["data"])
    except InputError as exc:
        raise bad_request(str(exc)) from exc
    except ModelLoadError as exc:
        raise ApiError(500, f"the model could not be loaded: {exc}") from exc
    elapsed_ms = int(round((time.perf_counter() - started) * 1000))
    request_id = str(uuid.uuid4())
    if log_calls:
        with ctx.world.lock:
            version.instance_log.append(f"request {request_id}: {len(result)} prediction(s) in {elapsed_ms} ms")
            del version.instance_log[:-1000]  # bounded: a soak test must not grow it forever
    return Response(200, {
        "result": result, "request_id": request_id, "model_time_in_ms": elapsed_ms,
        "release": {"harness_version": HARNESS_VERSION, "model_version_number": number,
                    "registered_model_name": source.get("registeredModelName"),
                    "registered_model_version": _as_number(source.get("registeredModelVersion"))},
    })


def _as_number(value: Any) -> Any:
    return int(value) if isinstance(value, str) and value.isdigit() else value
