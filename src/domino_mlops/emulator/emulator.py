"""``Emulator``: a local Domino on loopback, in a background thread, for tests and pipeline dry runs."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from domino_mlops.emulator import access
from domino_mlops.emulator import records as r
from domino_mlops.emulator import seed as seeds
from domino_mlops.emulator.context import Context
from domino_mlops.emulator.crash import CrashPoint
from domino_mlops.emulator.defaults import DEFAULT_DEPLOY_SECONDS, DEFAULT_HOST
from domino_mlops.emulator.deployments import resume_builds
from domino_mlops.emulator.faults import FaultInjector, FaultPlan, FaultRule
from domino_mlops.emulator.predictor import ModelStore
from domino_mlops.emulator.recorder import Counters, RequestLog, RequestRecord
from domino_mlops.emulator.server import EmulatorHTTPServer, build_router
from domino_mlops.emulator.world import World, load_state, new_id
from domino_mlops.errors import ConfigError


class Emulator:
    """A real HTTP server that speaks the Domino REST contract, with state, timing and faults.

    .. code-block:: python
        :caption: Example

        import requests
        from domino_mlops.emulator import Emulator

        with Emulator(mlflow_uri="http://127.0.0.1:5000", deploy_seconds=0.2) as emu:
            headers = {"X-Domino-Api-Key": emu.api_key}
            print(requests.get(f"{emu.url}/v4/projects/{emu.project_id}", headers=headers).json()["name"])
            print(emu.counters.writes())

    .. code-block:: text
        :caption: Output

        demo-project
        0

    ``world`` is a seed: a path to a YAML/JSON seed file or a mapping in the same format (see
    ``domino_mlops.emulator.seed``); None gives the default world. With ``state_file`` the world
    is saved after every write and, when the file exists, loaded from it instead of the seed.
    ``faults`` is a ``FaultPlan``, a mapping or JSON text (see ``domino_mlops.emulator.faults``).
    With ``record_responses`` the request log also keeps each answer's parsed JSON
    (``RequestRecord.response``), for tests that hold recorded traffic to the contract.
    ``clock`` replaces the wall clock (``clock.ManualClock``: a test moves time by hand).

    Model APIs are restricted, as on Domino: calling one needs an access token an admin issued
    (``issue_model_token``), unless it was made public (``set_model_api_public``).
    """

    def __init__(self, *, mlflow_uri: str | None = None, world: str | Path | Mapping[str, Any] | None = None,
                 deploy_seconds: float = DEFAULT_DEPLOY_SECONDS,
                 faults: FaultPlan | Mapping[str, Any] | str | None = None,
                 state_file: str | Path | None = None, host: str = DEFAULT_HOST, port: int = 0,
                 record_responses: bool = False, clock: Callable[[], float] | None = None) -> None:
        if deploy_seconds < 0:
            raise ConfigError(f"deploy_seconds must be >= 0, not {deploy_seconds}", hint="Use 0.2 in tests.")
        self.mlflow_uri = mlflow_uri
        self.deploy_seconds = float(deploy_seconds)
        self.state_file = Path(state_file) if state_file else None
        self._seed = world
        self.record_responses = record_responses
        self.clock = clock or time.time
        self._plan = FaultPlan.parse(faults)
        self._address = (host, port)
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.restored = False  # True when the world came from an existing state file

    # --- life ---------------------------------------------------------------------------------

    def start(self) -> Emulator:
        if self._server is not None:
            return self
        world = load_state(self.state_file) if self.state_file else None
        self.restored = world is not None
        if world is None:
            world = seeds.build_world(self._seed_mapping(), source=self._seed_source(), run_seconds=self.deploy_seconds,
                                      now=self.clock())
        ctx = Context(world=world, models=ModelStore(self.mlflow_uri), faults=FaultInjector(self._plan),
                      log=RequestLog(record_responses=self.record_responses), deploy_seconds=self.deploy_seconds,
                      state_file=self.state_file, clock=self.clock)
        try:
            server = EmulatorHTTPServer(self._address, ctx, build_router())
        except OSError as exc:
            host, port = self._address
            raise ConfigError(f"the emulator cannot listen on {host}:{port}: {exc.strerror or exc}",
                              hint="Choose another --port, or --port 0 for a free one.") from exc
        with world.lock:
            if self.restored:
                resume_builds(ctx)
            ctx.persist()
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="domino-emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop as a server process that goes away does: stop accepting, save the world, then cut
        every open connection (a request under way gets no answer; one that applied its write
        has saved it)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with server.ctx.world.lock:
            server.ctx.persist()
            server.ctx.closed = True
        server.close_connections()
        server.ctx.models.close()
        host, port = server.server_address[:2]
        self._address = (str(host), int(port))  # a later start() listens where clients look for it

    def restart(self) -> Emulator:
        """Stop, then start again on the same address from the state file: a Domino whose control
        plane restarts. Open connections are cut and new ones refused until it listens again
        (``stop()`` and a later ``start()`` do the same with a pause in between); builds under way
        go on (``resume_builds``); the request log starts afresh and the fault plan is the one it
        was made with."""
        if self.state_file is None:
            raise ConfigError("the emulator restarts from its state file, and it has none",
                              hint="Pass state_file= (or --state-file) so the world outlives the restart.")
        self._running()
        self.stop()
        return self.start()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- where and who ------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._running().server_address[:2]
        return f"http://{host}:{port}"

    @property
    def port(self) -> int:
        return int(self._running().server_address[1])

    @property
    def world(self) -> World:
        """The live state, for inspection; hold ``world.lock`` while reading it."""
        return self._running().ctx.world

    @property
    def project_id(self) -> str:
        return self.world.default_project_id

    @property
    def owner(self) -> str:
        return self.world.project(self.project_id).owner

    @property
    def project_name(self) -> str:
        return self.world.project(self.project_id).name

    @property
    def api_key(self) -> str:
        """An API key (header ``X-Domino-Api-Key``) of the default project: a local test credential."""
        return self.api_key_for(self.project_id)

    @property
    def token(self) -> str:
        """A Bearer token of the default project."""
        return self._credential_for(self.project_id, "token")

    def api_key_for(self, project: str) -> str:
        """An API key limited to ``project`` (an id or ``owner/name``), e.g. to show a 403 elsewhere."""
        return self._credential_for(project, "api_key")

    def _credential_for(self, project: str, kind: str) -> str:
        world = self.world
        with world.lock:
            ids = {p.id for p in world.projects.values() if project in (p.id, f"{p.owner}/{p.name}")}
            for cred in world.credentials.values():
                if cred.kind == kind and not (cred.admin or cred.read_only) and ids & set(cred.projects):
                    return cred.secret
        raise ConfigError(f"the emulator world has no {kind} for project {project!r}",
                          hint="Add one under credentials in the seed file.")

    # --- what happened, and faults ----------------------------------------------------------------

    @property
    def counters(self) -> Counters:
        return self._running().ctx.log.counters

    @property
    def requests(self) -> list[RequestRecord]:
        return self._running().ctx.log.records()

    def reset_log(self) -> None:
        self._running().ctx.log.clear()

    def set_faults(self, plan: FaultPlan | Mapping[str, Any] | str | None = None, /, **rule: Any) -> FaultPlan:
        """Replace the fault plan; keyword arguments make a one-rule plan.

        ``emu.set_faults(seed=7, rate_429=0.3, prefix="/v4/jobs")``; ``emu.set_faults(failing_apps=["dash-prod"])``;
        ``emu.set_faults(omit_active_version=True)``;
        ``emu.set_faults(None)`` clears.
        """
        if rule:
            if plan is not None:
                raise TypeError("pass a plan or rule keywords, not both")
            seed, slow = int(rule.pop("seed", 0)), float(rule.pop("slow_deploy_seconds", 0.0))
            failing_apps = tuple(rule.pop("failing_apps", ()))
            omit = bool(rule.pop("omit_active_version", False))
            parsed = FaultPlan(seed=seed, rules=(FaultRule.from_dict(rule),) if rule else (), slow_deploy_seconds=slow,
                               failing_apps=failing_apps, omit_active_version=omit)
        else:
            parsed = FaultPlan.parse(plan)
        self._running().ctx.faults.set(parsed)
        return parsed

    # --- what a Domino admin does in the UI ------------------------------------------------------

    @contextmanager
    def crash_at(self, nth_write: int, *, after: bool = False) -> Iterator[CrashPoint]:
        """Hold the ``nth_write`` write request from now on (emulator/crash.py): the test kills
        its client while ``point.reached`` is set; leaving the block lets the emulator go on."""
        ctx = self._running().ctx
        point = CrashPoint(nth_write, after)
        ctx.crash_point = point
        try:
            yield point
        finally:
            ctx.crash_point = None
            point.release()

    def issue_model_token(self, model_api_id: str, name: str = "emulator") -> str:
        """Issue an access token of the Model API and return its value (HTTP Basic user and
        password of ``/models/{id}/latest/model``, Bearer token of async predictions)."""
        ctx = self._running().ctx
        with ctx.world.lock:
            issued = access.issue_token(ctx.world.model_api(model_api_id), name, ctx.now())
            ctx.persist()
        return str(issued["token"])

    def add_monitored_model(self, project_id: str, name: str) -> str:
        """Register a model in Model Monitor (no published route does) and return its
        ``modelMonitoringId``, the id the custom metrics routes take (routes_custom_metrics)."""
        ctx = self._running().ctx
        with ctx.world.lock:
            model = r.MonitoredModel(id=new_id(), project_id=ctx.world.project(project_id).id, name=name,
                                     created=ctx.now())
            ctx.world.monitored_models[model.id] = model
            ctx.persist()
        return model.id

    def set_model_api_public(self, model_api_id: str, public: bool = True) -> None:
        """Make the Model API callable without a token (or restricted again)."""
        ctx = self._running().ctx
        with ctx.world.lock:
            access.set_public(ctx.world.model_api(model_api_id), public, ctx.now())
            ctx.persist()

    @contextmanager
    def hold_async_predictions(self) -> Iterator[None]:
        """Keep async predictions submitted inside the block ``Pending`` until it ends."""
        queue = self._running().ctx.async_queue
        queue.hold()
        try:
            yield
        finally:
            queue.release(self._running().ctx.now())

    # --- helpers ----------------------------------------------------------------------------------

    def _running(self) -> EmulatorHTTPServer:
        if self._server is None:
            raise RuntimeError("the emulator is not running; use `with Emulator(...) as emu:` or call start()")
        return self._server

    def _seed_mapping(self) -> Mapping[str, Any] | None:
        if isinstance(self._seed, (str, Path)):
            return seeds.load_seed_file(Path(self._seed))
        return self._seed

    def _seed_source(self) -> str:
        return str(self._seed) if isinstance(self._seed, (str, Path)) else "seed"
