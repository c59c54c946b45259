"""Asynchronous predictions (``/api/modelApis/async/v1``) for Model APIs created with ``isAsync``.

The caller shows one of the Model API's access tokens as a Bearer token (none when it is
public); the server checked that, and the body, before these run. The prediction is computed
on submit and revealed through the queue (``async_queue.py``), so a caller polls as on Domino.
"""

from __future__ import annotations

from typing import Any

from domino_emulator import auth, deployments
from domino_emulator.async_queue import FAILED, SUCCEEDED
from domino_emulator.context import Context
from domino_emulator.predictor import InputError, ModelLoadError, model_input, predict
from domino_emulator.web import Request, Router, bad_request

BASE = "/api/modelApis/async/v1/{asyncModelId}"


def register(router: Router) -> None:
    bearer = auth.ModelAccess("asyncModelId", "bearer")
    router.add("POST", BASE, submit, write=False, auth=bearer, locked=False)
    router.add("GET", BASE + "/{asyncPredictionId}", result, auth=bearer)


def submit(ctx: Context, req: Request, who: None) -> Any:
    with ctx.world.lock:
        api = ctx.world.model_api(req.params["asyncModelId"])
        if not api.is_async:
            raise bad_request(f"model API {api.id} is synchronous; call /models/{api.id}/latest/model")
        source = dict(deployments.running_version(ctx, api).source)
    outcome: dict[str, Any]
    try:
        model = ctx.models.load(str(source["registeredModelName"]), str(source["registeredModelVersion"]))
        # AsyncPredictionEnvelopeV1.result is an object; the model's answer is a list, so it is
        # wrapped (the document does not name the key: a guess, kept to one).
        outcome = {"status": SUCCEEDED, "result": {"prediction": predict(model, model_input(req.json_object()))}}
    except (InputError, ModelLoadError) as exc:
        outcome = {"status": FAILED, "errors": [str(exc)]}
    return {"asyncPredictionId": ctx.async_queue.submit(api.id, outcome, ctx.now())}


def result(ctx: Context, req: Request, who: None) -> Any:
    return ctx.async_queue.envelope(req.params["asyncModelId"], req.params["asyncPredictionId"], ctx.now())
