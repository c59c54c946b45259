"""Calling a deployed model: ``POST /models/{modelId}/latest/model``.

The server has already checked the caller (a token of this Model API as HTTP Basic user and
password, or nothing when the Model API is public) and the body (``data`` or ``parameters``).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from domino_emulator import auth, deployments, metrics
from domino_emulator.context import Context
from domino_emulator.deployments import log
from domino_emulator.predictor import InputError, ModelLoadError, model_input, predict
from domino_emulator.web import ApiError, Request, Response, Router, bad_request

HARNESS_VERSION = "0.1"


def register(router: Router) -> None:
    # Not a write (nothing changes), not a Domino credential (the model's own), and the
    # prediction runs outside the world lock so a slow model does not stall the API.
    router.add("POST", "/models/{modelId}/latest/model", call_model, write=False,
               auth=auth.ModelAccess("modelId", "basic"), locked=False)


def call_model(ctx: Context, req: Request, who: None) -> Any:
    with ctx.world.lock:
        api = ctx.world.model_api(req.params["modelId"])
        if api.is_async:
            raise bad_request(f"model API {api.id} is asynchronous; call /api/modelApis/async/v1/{api.id}")
        version = deployments.running_version(ctx, api)
        source = dict(version.source)
        number, log_calls = version.number, version.log_http_request_response
        # Every answer of the version is counted (the metric routes serve them); a fault plan may
        # make it answer a share of its calls with a 500, as a broken new version would.
        if metrics.should_fail(ctx.faults.plan.error_share(metrics.source_key(version)),
                               metrics.calls_so_far(version)):
            metrics.record(version, ctx.now(), 500)
            raise ApiError(500, "the model raised an error (emulator fault plan: model_error_share)")
    started = time.perf_counter()
    try:
        model = ctx.models.load(str(source["registeredModelName"]), str(source["registeredModelVersion"]))
        result = predict(model, model_input(req.json_object()))
    except (InputError, ModelLoadError) as exc:
        with ctx.world.lock:
            metrics.record(version, ctx.now(), 400 if isinstance(exc, InputError) else 500)
        if isinstance(exc, InputError):
            raise bad_request(str(exc)) from exc
        raise ApiError(500, f"the model could not be loaded: {exc}") from exc
    elapsed_ms = int(round((time.perf_counter() - started) * 1000))
    request_id = str(uuid.uuid4())
    with ctx.world.lock:
        metrics.record(version, ctx.now(), 200)
        if log_calls:
            log(version.instance_log, ctx.now(), f"request {request_id}: {len(result)} prediction(s) in {elapsed_ms} ms")
    return Response(200, {
        "result": result, "request_id": request_id, "model_time_in_ms": elapsed_ms,
        "release": {"harness_version": HARNESS_VERSION, "model_version_number": number,
                    "registered_model_name": source.get("registeredModelName"),
                    "registered_model_version": source.get("registeredModelVersion")},
    })
