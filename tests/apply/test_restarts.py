"""A server restarts while an apply is under way: the apply completes or fails with one clear line
(exit 1, a hint, no traceback), and a re-run converges with nothing done twice.

- Domino (the emulator, with a state file) restarts in the middle of a deploy to STAGE: while the
  new Model API version is building and the apply polls it; after the create applied with its
  answer lost; or it stays down until the apply gives up, then comes back.
- MLflow (a real ``mlflow server`` on SQLite, behind a gateway: tests/support/fault_proxy.py)
  restarts in the middle of marking, held at its first tag write: behind the gateway, which
  answers 502 while it is down (the apply retries), or with the gateway gone too (refused: the
  apply gives up).

Every point is a condition, never a duration: the emulator's clock stands still while the test
holds it, so the new version is still building when the restart comes; the emulator holds the
create (emulator/crash.py) and the gateway holds the tag write. Where the outcome may go either
way (a restart that takes longer than the apply's retry budget), both outcomes are checked for
what must hold; neither is hoped for.

After each: the environment's alias names the version that passed its smoke test (the
``passed`` tag), one Model API version per (model, environment, registry version), the ledger
records each change once, and a further run writes nothing. The interrupted apply is the CLI in its
own process (what a workflow step runs, and what says the one line); the deploys around it, the
re-runs, go through the facade (domino_mlops.api).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from domino_mlops.desired.environments import load_environments
from domino_emulator import Emulator
from domino_emulator.seed import default_seed
from domino_emulator.local.mlflow_server import start_mlflow_server
from domino_emulator.local.models import SAMPLE_PATIENT
from tests.apply.conftest import Pipeline, _workspace
from tests.support.convergence import model_api_names, register_copies
from tests.support.emulator import wait_until
from tests.support.fault_proxy import FaultProxy, ProxyFaults, fault_proxy

CLI = str(Path(sys.executable).with_name("domino-mlops"))
SMOKE = {"input": SAMPLE_PATIENT, "expect_shape": [1]}
VERSION_ROUTE = "GET /api/modelServing/v1/modelApis/{modelApiId}/versions/{modelApiVersionId}"
PATIENCE = 600.0  # seconds a condition may take on a busy machine before the test gives up


class HoldableClock:
    """Wall time that a test can stop: while held, Domino's time stands still, so a version that
    is building stays building (however busy the machine); let go, time goes on from there."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0
        self._held: float | None = None

    def __call__(self) -> float:
        with self._lock:
            return self._held if self._held is not None else time.time() + self._offset

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            self._held = time.time() + self._offset
        try:
            yield
        finally:
            with self._lock:
                self._offset, self._held = self._held - time.time(), None  # type: ignore[operator]


class Apply:
    """The CLI in its own process (as a workflow step runs it), its output in a file; a test that
    fails before it ends leaves no process behind (``_no_apply_left``)."""

    running: list[Apply] = []

    def __init__(self, root: Path, *argv: str) -> None:
        self.log = root / f"apply-{time.monotonic_ns()}.log"
        with self.log.open("w") as out:
            self.process = subprocess.Popen([CLI, *argv], stdout=out, stderr=subprocess.STDOUT,
                                            env=dict(os.environ), start_new_session=True)
        Apply.running.append(self)

    @property
    def output(self) -> str:
        return self.log.read_text()

    def finish(self) -> int:
        try:
            return self.process.wait(PATIENCE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(f"the apply did not finish within {PATIENCE:g} s:\n{self.output}") from None


@pytest.fixture(autouse=True)
def _no_apply_left() -> Iterator[None]:
    yield
    while Apply.running:
        run = Apply.running.pop()
        if run.process.poll() is None:
            os.killpg(run.process.pid, signal.SIGKILL)  # its own session: the apply and nothing else
            run.process.wait(60)


def two_versions(pipeline: Pipeline, source: tuple[str, str], stem: str) -> tuple[str, str, str]:
    """A new model with two versions of one real model's artifacts: (name, v1, v2)."""
    client = pipeline.mlflow
    model = pipeline.unique(stem)
    shared = client.get_model_version(*source)
    client.create_registered_model(model)
    v1, v2 = (str(client.create_model_version(model, shared.source, run_id=shared.run_id,
                                              model_id=shared.source.removeprefix("models:/")).version)
              for _ in range(2))
    return model, v1, v2


def assert_clear_failure(code: int, output: str) -> None:
    """A failed run says so in one line with a hint: exit 1, no traceback, no "unexpected"."""
    assert code == 1, output
    assert "Traceback" not in output and "unexpected" not in output, output
    assert any(line.startswith("hint: ") for line in output.splitlines()), output


def assert_alias_passed(pipeline: Pipeline, model: str, env_name: str = "STAGE") -> None:
    """Wherever the alias points, that version passed the environment (the ``passed`` tag and a
    smoke result for every data plane), and the ledger's last entry names it."""
    env = load_environments(pipeline.root / "scripts" / "environments.yaml").get(env_name)
    target = pipeline.aliases(model).get(env.alias)
    if target is None:
        return
    tags = pipeline.tags(model, target)
    assert tags.get(f"domino_mlops.{env_name}.status") == "passed", tags
    smoke = json.loads(tags[f"domino_mlops.{env_name}.smoke"])
    assert all(set(smoke[name]) == {"latency_ms", "shape"} for name in model_api_names(model, env)), smoke
    assert [e["to"] for e in pipeline.ledger(model) if e["environment"] == env_name][-1] == target


def assert_converged(pipeline: Pipeline, model: str, versions: tuple[str, ...], env_name: str = "STAGE") -> None:
    """The alias at the last version, served once per registry version, each change in the ledger
    once; a further run writes nothing to Domino or MLflow."""
    env = load_environments(pipeline.root / "scripts" / "environments.yaml").get(env_name)
    assert pipeline.aliases(model)[env.alias] == versions[-1]
    api, served = pipeline.serving(f"{model}-{env_name.lower()}")
    built = Counter(v.source.registered_model_version for v in served)
    assert built == Counter(int(v) for v in versions), f"one Model API version per registry version: {built}"
    active = next(v for v in served if v.id == api.active_version.id)
    assert (active.source.registered_model_version, active.status) == (int(versions[-1]), "Running")
    changes = [(e["from"], e["to"]) for e in pipeline.ledger(model) if e["environment"] == env_name]
    assert changes == [("", versions[0]), *zip(versions, versions[1:])], changes  # "" : from nothing
    assert_alias_passed(pipeline, model, env_name)
    writes, state = pipeline.emu.counters.writes(), pipeline.mlflow_state(model)
    assert pipeline.deploy(env=env_name).result is None  # nothing applied
    assert pipeline.emu.counters.writes() == writes and pipeline.mlflow_state(model) == state


# --- Domino restarts in the middle of a deploy ---------------------------------------------------


@pytest.fixture
def restartable(tmp_path: Path, mlflow_server, monkeypatch: pytest.MonkeyPatch
                ) -> Iterator[tuple[Pipeline, HoldableClock]]:
    """A workspace against an emulator that saves its world to a state file (public Model APIs),
    on a clock the test can hold."""
    seed = default_seed()
    seed["model_api_access"] = [{"project": seed["default_project"], "model_api": "*", "public": True}]
    clock = HoldableClock()
    emu = Emulator(mlflow_uri=mlflow_server.uri, world=seed, deploy_seconds=0.2,
                   state_file=tmp_path / "domino-state.json", clock=clock)
    with emu:
        yield _workspace(tmp_path, mlflow_server.uri, emu, monkeypatch), clock


def _polled_while_building(emu: Emulator, model: str, version: str, run: Apply) -> bool:
    """The apply created the new version and has polled it at least once (it heard the create's answer)."""
    if run.process.poll() is not None:
        raise AssertionError(f"the apply ended before the restart:\n{run.output}")
    with emu.world.lock:
        sources = {v.id: (v.source.get("registeredModelName"), str(v.source.get("registeredModelVersion")))
                   for v in emu.world.versions.values()}
    mine = {version_id for version_id, source in sources.items() if source == (model, version)}
    return any(r.route == VERSION_ROUTE and r.path.rsplit("/", 1)[-1] in mine for r in emu.requests)


@pytest.mark.parametrize("when", [
    "while building",  # the version is building and the apply polls it: restart at once
    "create answer lost",  # the create applied and saved, its answer cut by the restart
    "down until the run gives up",  # nothing listens until the apply has failed, then Domino is back
])
def test_domino_restarts_in_the_middle_of_a_deploy(restartable, diabetes_model, when) -> None:
    pipeline, clock = restartable
    emu = pipeline.emu
    model, v1, v2 = two_versions(pipeline, diabetes_model, "domino-restart")
    pipeline.manifest({"name": model, "version": int(v1), "smoke_test": SMOKE})
    assert pipeline.deploy().exit_code == 0
    pipeline.manifest({"name": model, "version": int(v2), "smoke_test": SMOKE})

    with clock.held():  # the new version stays building until Domino is back
        if when == "create answer lost":
            with emu.crash_at(1, after=True) as point:  # Domino's first write: the new version
                run = Apply(pipeline.root, "deploy", "--env", "STAGE")
                assert point.reached.wait(PATIENCE), run.output
                emu.restart()  # the held answer's connection is cut
        else:
            run = Apply(pipeline.root, "deploy", "--env", "STAGE")
            wait_until(lambda: _polled_while_building(emu, model, v2, run), bool, timeout=PATIENCE, step=0.05)
            if when == "while building":
                emu.restart()
            else:
                emu.stop()
                assert_clear_failure(run.finish(), run.output)
                emu.start()
        assert emu.restored
    code = run.finish()

    if code != 0:  # a restart that outlasted the apply's retries: a clear failure, and a re-run
        assert_clear_failure(code, run.output)
        assert "Domino" in run.output, run.output
        assert_alias_passed(pipeline, model)
        assert pipeline.deploy().exit_code == 0
    said = next((line for line in run.output.splitlines() if line.startswith("error: ")), "")
    print(f"\n{when}: the interrupted apply exited {code} {said[:160]}", flush=True)  # -s shows it
    assert_converged(pipeline, model, (v1, v2))


# --- MLflow restarts in the middle of marking ----------------------------------------------------

TAG_WRITE = "/model-versions/set-tag"


class Tracking:
    """A tracking server of this module's own (the session's is shared by every test), stopped and
    started again on the same port, SQLite file and artifacts."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.server = start_mlflow_server(root, startup_timeout=PATIENCE)
        self.port, self.uri = self.server.port, self.server.uri

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server = start_mlflow_server(self.root, port=self.port, startup_timeout=PATIENCE)


@pytest.fixture(scope="module")
def tracking(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tracking]:
    """The module's tracking server, and MLflow's process-wide tracking URI pointing at it while the
    module runs, put back as it was afterwards: the emulator's build fetches the registered model
    by the URI it is given, but MLflow resolves part of it through the process-wide one."""
    from mlflow.tracking._model_registry import utils as registry_utils
    from mlflow.tracking._tracking_service import utils as tracking_utils

    saved = (tracking_utils._tracking_uri, registry_utils._registry_uri,
             {key: os.environ.get(key) for key in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")})
    server = Tracking(tmp_path_factory.mktemp("mlflow-restarts"))
    tracking_utils._tracking_uri, registry_utils._registry_uri = server.uri, None
    yield server
    server.stop()
    tracking_utils._tracking_uri, registry_utils._registry_uri = saved[0], saved[1]
    for key, value in saved[2].items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def tracked_model(tracking: Tracking) -> tuple[str, str]:
    """One real model in that server, whose artifacts the tests' versions share."""
    (name, version), = register_copies(tracking.uri, ["restart-source"]).items()
    return name, version


@pytest.fixture
def behind_gateway(tmp_path: Path, tracking: Tracking, monkeypatch: pytest.MonkeyPatch
                   ) -> Iterator[tuple[Pipeline, FaultProxy]]:
    """A workspace whose CLI reaches MLflow through a gateway (the proxy, no faults), against an
    emulator with public Model APIs; the test's own looks go to MLflow directly."""
    seed = default_seed()
    seed["model_api_access"] = [{"project": seed["default_project"], "model_api": "*", "public": True}]
    with Emulator(mlflow_uri=tracking.uri, world=seed, deploy_seconds=0.2) as emu, \
            fault_proxy(tracking.uri) as gateway:
        pipeline = _workspace(tmp_path, tracking.uri, emu, monkeypatch)
        monkeypatch.setenv("MLFLOW_TRACKING_URI", gateway.url)
        yield pipeline, gateway


def marking(forwarded: list[tuple[str, str, object]], model: str, version: str) -> list[tuple[str, str]]:
    """What MLflow accepted of a version's marking, in order: ("tag", key), ("stage", stage), ("alias", alias)."""
    events = []
    for _, path, body in forwarded:
        if not isinstance(body, dict) or body.get("name") != model:
            continue
        if path.endswith(TAG_WRITE) and str(body.get("version")) == version:
            events.append(("tag", str(body.get("key"))))
        elif path.endswith("/model-versions/transition-stage") and str(body.get("version")) == version:
            events.append(("stage", str(body.get("stage"))))
        elif path.endswith("/registered-models/alias") and str(body.get("version")) == version:
            events.append(("alias", str(body.get("alias"))))
    return events


def assert_marked_in_order(events: list[tuple[str, str]], environment: str = "STAGE") -> None:
    """Each write once; the Domino ids and smoke results first, then the environment's ``passed``
    tag (the last tag), then the legacy stage, then the alias (the commit point)."""
    assert len(events) == len(set(events)), f"a marking write was accepted twice: {events}"
    passed = ("tag", f"domino_mlops.{environment}.status")
    kinds = [kind for kind, _ in events]
    assert passed in events and "alias" in kinds and "stage" in kinds, events
    at = events.index(passed)
    assert all(kind == "tag" for kind, _ in events[:at]) and len(events[:at]) >= 3, events  # ids, smoke first
    assert kinds[at + 1:] == ["stage", "alias"], events


@pytest.mark.parametrize("gateway_too", [False, True], ids=["behind its gateway", "gateway down too"])
def test_mlflow_restarts_in_the_middle_of_marking(request, behind_gateway, tracking, tracked_model,
                                                  gateway_too) -> None:
    """Held at its first tag write (after a deploy that passed its smoke test), MLflow stops. Behind
    its gateway, which answers 502 meanwhile, the apply retries until MLflow is back; with the
    gateway gone too nothing listens, and the apply gives up in one line. Either way the re-run
    converges, each tag, stage and alias write is accepted once, ``passed`` after the other tags
    and before the alias."""
    pipeline, gateway = behind_gateway
    model, v1, v2 = two_versions(pipeline, tracked_model, "mlflow-restart")
    pipeline.manifest({"name": model, "version": int(v1), "smoke_test": SMOKE})
    assert pipeline.deploy().exit_code == 0
    pipeline.manifest({"name": model, "version": int(v2), "smoke_test": SMOKE})
    forwarded = gateway.forwarded
    forwarded.clear()

    with gateway.hold_at(TAG_WRITE) as point:
        run = Apply(pipeline.root, "deploy", "--env", "STAGE")
        assert point.reached.wait(PATIENCE), run.output
        assert pipeline.emu.counters.writes() > 0  # Domino's part is done: this is the marking
        tracking.stop()
        if gateway_too:
            gateway.stop()  # the held request's connection is cut, and nothing listens
    # The held tag write goes on to a server that is down: 502 from the gateway, or a cut connection.
    if gateway_too:
        assert_clear_failure(run.finish(), run.output)
        assert "MLflow" in run.output, run.output
        tracking.start()
        again = FaultProxy(tracking.uri, ProxyFaults(), port=int(gateway.url.rsplit(":", 1)[1])).start()
        request.addfinalizer(again.stop)  # the gateway is back too, where the CLI looks for it
        assert_alias_passed(pipeline, model)
        assert pipeline.deploy().exit_code == 0
        forwarded = forwarded + again.forwarded
        code = 1
    else:
        wait_until(gateway.counters.upstream_errors, lambda errors: errors >= 2, timeout=PATIENCE, step=0.05)
        tracking.start()  # the apply has retried into the outage at least once; MLflow comes back
        code = run.finish()
        if code != 0:  # MLflow took longer to come back than the apply's retries: one line, then a re-run
            assert_clear_failure(code, run.output)
            assert_alias_passed(pipeline, model)
            assert pipeline.deploy().exit_code == 0
        forwarded = list(gateway.forwarded)
    said = next((line for line in run.output.splitlines() if line.startswith("error: ")), "")
    print(f"\nMLflow restart ({'gateway down too' if gateway_too else 'behind its gateway'}): the interrupted "
          f"apply exited {code} {said[:160]}", flush=True)

    assert_marked_in_order(marking(forwarded, model, v2))
    assert_converged(pipeline, model, (v1, v2))
