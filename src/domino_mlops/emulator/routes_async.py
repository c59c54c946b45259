"""Asynchronous predictions (``/api/modelApis/async/v1``) for Model APIs created with ``isAsync``.

The prediction is computed when it is submitted and revealed after a short queue time, so a
caller must poll as it would on Domino. Requests live in memory only: they are minutes-lived
on Domino too, and a restart forgets them.
"""

from __future__ import annotations

import time
from typing import Any

from domino_mlops.emulator import auth, deployments
from domino_mlops.emulator.context import Context
from domino_mlops.emulator.predictor import InputError, ModelLoadError, predict
from domino_mlops.emulator.web import Request, Response, Router, bad_request, not_found
from domino_mlops.emulator.world import new_id

BASE = "/api/modelApis/async/v1/{modelApiId}"


def register(router: Router) -> None:
    router.add("POST", BASE, submit, write=False, auth=False, locked=False)
    router.add("GET", BASE + "/{asyncPredictionId}", result, auth=False)


def _check_bearer(ctx: Context, req: Request) -> Any:
    api = ctx.world.model_api(req.params["modelApiId"])
    auth.check_model_bearer(api, req.headers)
    return api


def submit(ctx: Context, req: Request, who: None) -> Any:
    with ctx.world.lock:
        api = _check_bearer(ctx, req)
        if not api.is_async:
            raise bad_request(f"model API {api.id} is synchronous; call /models/{api.id}/latest/model")
        source = dict(deployments.running_version(ctx, api).source)
    body = req.json_object()
    if not isinstance(body.get("parameters"), dict | list):
        raise bad_request("the request body needs a 'parameters' object")
    outcome: dict[str, Any]
    try:
        model = ctx.models.load(str(source["registeredModelName"]), str(source["registeredModelVersion"]))
        outcome = {"status": "succeeded", "result": predict(model, body["parameters"])}
    except (InputError, ModelLoadError) as exc:
        outcome = {"status": "failed", "errors": [str(exc)]}
    prediction_id = new_id()
    with ctx.world.lock:
        ctx.async_predictions[prediction_id] = (api.id, time.time() + 0.2 * ctx.run_seconds(), outcome)
    return Response(200, {"asyncPredictionId": prediction_id})


def result(ctx: Context, req: Request, who: None) -> Any:
    api = _check_bearer(ctx, req)
    found = ctx.async_predictions.get(req.params["asyncPredictionId"])
    if found is None or found[0] != api.id:
        raise not_found("async prediction", req.params["asyncPredictionId"])
    _, ready_at, outcome = found
    return {"status": "queued"} if time.time() < ready_at else dict(outcome)
