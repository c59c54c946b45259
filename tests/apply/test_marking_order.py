"""When a model is marked in MLflow: in a deploy or promote as soon as its own last wave is done
(another model's slow deploy does not hold it), in a rollout only once every model passed its
last wave (one failure stops the environment).

Proved with events, not timing: a worker that blocks inside ``on_event`` (called on the model's
own worker thread) holds that model exactly there, and another model's progress is what releases it.
"""

from __future__ import annotations

import threading

from domino_mlops import api
from domino_emulator.local.models import SAMPLE_PATIENT, register_diabetes_model
from tests.apply.conftest import events_to

SMOKE = {"input": SAMPLE_PATIENT, "expect_shape": [1]}
# Only a run that is wrong ever waits this long: then the test fails instead of hanging.
GIVE_UP = 120.0


class Recorder:
    """Every progress line in the order the workers said them; a model can be held at a line
    until an event of another model happens."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._waits: list[tuple[str, str, threading.Event, list[bool]]] = []
        self._events: dict[tuple[str, str], threading.Event] = {}

    def when(self, model: str, text: str) -> threading.Event:
        """An event set when ``model`` says a line holding ``text``."""
        return self._events.setdefault((model, text), threading.Event())

    def hold(self, model: str, text: str, until: threading.Event) -> list[bool]:
        """Hold ``model``'s worker at its first line holding ``text`` until ``until`` is set; the
        list gets whether it was (True) or the wait gave up (False)."""
        outcome: list[bool] = []
        self._waits.append((model, text, until, outcome))
        return outcome

    def __call__(self, model: str, message: str) -> None:
        with self._lock:
            self.lines.append((model, message))
        for (who, text), event in list(self._events.items()):
            if who == model and text in message:
                event.set()
        for who, text, until, outcome in self._waits:
            if who == model and text in message and not outcome:
                outcome.append(until.wait(GIVE_UP))

    def first(self, model: str, text: str) -> int:
        return min(i for i, (who, line) in enumerate(self.lines) if who == model and text in line)

    def last(self, model: str, text: str) -> int:
        return max(i for i, (who, line) in enumerate(self.lines) if who == model and text in line)


def _apply(pipeline, environment: str, recorder: Recorder, action: str = "deploy"):
    outcome = pipeline.call(action, api.DeployRequest(environment, max_parallel=2), events_to(recorder))
    return outcome.result


def test_a_deploy_marks_a_model_while_another_model_still_deploys(pipeline) -> None:
    """STAGE has one wave: `quick` is marked (alias, tags, ledger) while `slow` is held before its
    deploy, and it is `quick`'s marking that lets `slow` go on."""
    quick, slow = pipeline.unique("quick"), pipeline.unique("slow")
    versions = {m: register_diabetes_model(pipeline.mlflow_uri, m) for m in (quick, slow)}
    pipeline.manifest(*({"name": m, "version": int(v), "smoke_test": SMOKE} for m, v in versions.items()))
    recorder = Recorder()
    released = recorder.hold(slow, "(wave 1)", until=recorder.when(quick, "done: "))

    result = _apply(pipeline, "STAGE", recorder)

    assert released == [True]  # slow's deploy waited for quick's marking, never the other way
    assert result.exit_code == 0 and [m.status for m in result.models] == ["done", "done"]
    assert [m.model for m in result.models] == [quick, slow]  # the manifest's order, whoever finished first
    assert recorder.first(quick, "done: ") < recorder.first(slow, "smoke test passed")
    assert pipeline.aliases(quick)["staging"] == versions[quick] and pipeline.aliases(slow)["staging"] == versions[slow]
    assert [e["environment"] for e in pipeline.ledger(quick)] == ["STAGE"]


def test_a_rollout_marks_no_model_before_every_model_passed_its_last_wave(pipeline) -> None:
    """PROD has two waves. `ahead` finishes its last wave first (`behind` is held until then), yet
    is marked only after `behind`'s last data plane passed its smoke test."""
    ahead, behind = pipeline.unique("ahead"), pipeline.unique("behind")
    versions = {m: register_diabetes_model(pipeline.mlflow_uri, m) for m in (ahead, behind)}
    pipeline.manifest(*({"name": m, "version": int(v), "smoke_test": SMOKE} for m, v in versions.items()))
    for environment in ("DEV", "STAGE"):
        assert pipeline.run("rollout", "--env", environment) == 0
    recorder = Recorder()
    last_plane = f"{ahead}-prod-prod-small: smoke test passed"
    released = recorder.hold(behind, "(wave 2)", until=recorder.when(ahead, last_plane))

    result = _apply(pipeline, "PROD", recorder, action="rollout")

    assert released == [True]
    assert result.exit_code == 0 and [m.status for m in result.models] == ["done", "done"]
    assert recorder.first(ahead, "done: ") > recorder.last(behind, "prod-small: smoke test passed")
    assert {pipeline.aliases(m)["production"] for m in (ahead, behind)} == {versions[ahead], versions[behind]}
