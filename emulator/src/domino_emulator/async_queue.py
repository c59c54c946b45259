"""Async predictions waiting their turn: ``Pending`` -> ``Processing`` -> ``Succeeded`` | ``Failed``,
the statuses the public document names for ``AsyncPredictionEnvelopeV1``.

The prediction itself is computed when it is submitted; the queue only decides when to reveal
it. ``hold()`` keeps every prediction submitted meanwhile ``Pending`` until ``release()``, so a
test can see the queued state without racing the clock. In memory only: predictions live for
minutes on Domino too, and a restart forgets them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from domino_emulator.web import not_found
from domino_emulator.world import new_id

PENDING, PROCESSING, SUCCEEDED, FAILED = "Pending", "Processing", "Succeeded", "Failed"


@dataclass(slots=True)
class _Prediction:
    model_api_id: str
    released: float | None  # None while held: it stays Pending
    outcome: dict[str, Any]  # {"status": SUCCEEDED, "result": {...}} or {"status": FAILED, "errors": [...]}


class AsyncQueue:
    def __init__(self, step_seconds: float) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, _Prediction] = {}
        self._held = False
        self.step = step_seconds  # how long a prediction is Pending, then Processing

    def submit(self, model_api_id: str, outcome: dict[str, Any], now: float) -> str:
        prediction_id = new_id()
        with self._lock:
            self._items[prediction_id] = _Prediction(model_api_id, None if self._held else now, outcome)
        return prediction_id

    def envelope(self, model_api_id: str, prediction_id: str, now: float) -> dict[str, Any]:
        """``AsyncPredictionEnvelopeV1`` of a prediction of that Model API, or 404."""
        with self._lock:
            found = self._items.get(prediction_id)
        if found is None or found.model_api_id != model_api_id:
            raise not_found("async prediction", prediction_id)
        if found.released is None or now < found.released + self.step:
            return {"asyncPredictionId": prediction_id, "status": PENDING}
        if now < found.released + 2 * self.step:
            return {"asyncPredictionId": prediction_id, "status": PROCESSING}
        return {"asyncPredictionId": prediction_id, **found.outcome}

    def hold(self) -> None:
        with self._lock:
            self._held = True

    def release(self, now: float) -> None:
        """Stop holding; the held predictions start their way from now."""
        with self._lock:
            self._held = False
            for item in self._items.values():
                if item.released is None:
                    item.released = now
