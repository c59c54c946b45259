"""Drive the CLI against a faulty Domino emulator and a faulty MLflow (behind tests/support/fault_proxy),
re-run until done, and check what must hold whatever the faults did.

Shared by the fast fault test (tests/apply/test_faults.py) and the stress runs
(tests/apply/test_stress.py). Assertions read MLflow and the emulator directly, never through the
faults. Every re-run loop is bounded; nothing waits on time.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from domino_mlops.cli import main
from domino_mlops.desired.environments import Environment, load_environments
from domino_emulator.seed import ADMIN_API_KEY, default_seed
from domino_mlops.desired.naming import model_api_name, tiers_in_waves

# About a fifth of Domino's answers are 429 (Retry-After: 1 s) or 503, one in twenty connections
# is dropped, and every answer is a little late: a flaky but alive Domino.
DOMINO_FAULTS = {"seed": 11, "rules": [{"prefix": "/", "latency_ms": 5, "rate_429": 0.1, "rate_503": 0.1,
                                        "drop_rate": 0.05, "retry_after": 1}]}
# The same for MLflow, some answers lost after MLflow acted (a blindly resent create acts twice).
MLFLOW_FAULTS = {"seed": 13, "rate_500": 0.08, "rate_503": 0.07, "reset_rate": 0.03, "lost_rate": 0.04,
                 "latency_ms": 5, "retry_after": 1}
STEPS = (("deploy", "STAGE"), ("promote", "PROD"))


@dataclass
class Run:
    command: str
    environment: str
    code: int
    seconds: float
    out: str = field(repr=False, default="")
    err: str = field(repr=False, default="")


@dataclass
class Figures:
    """What one scenario cost, for the README's Reliability table."""

    name: str
    models: int
    projects: int
    runs: dict[str, list[int]] = field(default_factory=dict)  # environment -> exit code of every CLI run
    seconds: dict[str, float] = field(default_factory=dict)  # environment -> wall time until converged
    rerun_seconds: float = 0.0  # re-running all of it once done (writes nothing)
    domino_requests: int = 0
    domino_faults: int = 0
    mlflow_requests: int = 0
    mlflow_faults: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        runs = "; ".join(f"{env}: {len(codes)} CLI run(s), {sum(1 for c in codes if c)} failed and re-run"
                         for env, codes in self.runs.items())
        wall = ", ".join(f"{env} {s:.1f} s" for env, s in self.seconds.items())
        return [f"{self.name}: {self.models} models in {self.projects} project(s), STAGE then PROD",
                f"  runs: {runs}",
                f"  wall time until converged: {wall}; a re-run of finished work: {self.rerun_seconds:.1f} s",
                f"  Domino requests: {self.domino_requests} ({self.domino_faults} answered with an injected fault)",
                f"  MLflow requests: {self.mlflow_requests} (injected: {self.mlflow_faults})",
                "  | scenario | models (projects) | CLI runs (failed) STAGE / PROD | wall time STAGE / PROD "
                "| Domino requests (faults) | MLflow requests (faults) |",
                f"  | {self.name} | {self.models} ({self.projects}) | "
                + " / ".join(f"{len(c)} ({sum(1 for x in c if x)})" for c in self.runs.values())
                + " | " + " / ".join(f"{s:.0f} s" for s in self.seconds.values())
                + f" | {self.domino_requests} ({self.domino_faults}) "
                f"| {self.mlflow_requests} ({sum(self.mlflow_faults.values())}) |"]

    def write(self, folder: Path) -> Path:
        """Print the figures and keep them as JSON in ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{self.name}.json"
        path.write_text(json.dumps(asdict(self), indent=2))
        print("\n" + "\n".join(self.lines()) + f"\n  figures: {path}", flush=True)
        return path


def figures_folder(default: Path) -> Path:
    """FAULT_FIGURES_DIR (say, to keep them after `make stress`), else the test's own folder."""
    return Path(os.environ.get("FAULT_FIGURES_DIR") or default)


def run_cli(*argv: str) -> Run:
    """The CLI in-process, its output kept (a failed run's lines explain a failed assertion)."""
    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return Run(argv[0], argv[argv.index("--env") + 1], code, time.perf_counter() - started, out.getvalue(),
               err.getvalue())


def converge(command: str, environment: str, *, max_runs: int, extra: Iterable[str] = (),
             after_each: Callable[[Run], None] = lambda run: None) -> list[Run]:
    """Run ``command`` until it exits 0, at most ``max_runs`` times; ``after_each`` checks what must
    hold after every run, failed or not. Only exit 1 (an operation failed) is worth a re-run."""
    runs: list[Run] = []
    while True:
        run = run_cli(command, "--env", environment, *extra)
        runs.append(run)
        print(f"{command} {environment} {' '.join(extra)}: run {len(runs)} exit {run.code} in {run.seconds:.1f} s"
              + (f"\n{run.err[-2000:]}" if run.code else ""), flush=True)
        after_each(run)
        if run.code == 0:
            return runs
        assert run.code == 1, f"{command} {environment} exited {run.code}, not a transient failure:\n{run.err}"
        assert len(runs) < max_runs, (
            f"{command} {environment} did not converge in {max_runs} runs; the last said:\n{run.err[-3000:]}")


def model_api_names(model: str, env: Environment) -> tuple[str, ...]:
    return tuple(model_api_name(model, env, tier) for _, tier in tiers_in_waves(env))


def alias_needs_a_passed_smoke_test(mlflow: Any, models: Iterable[str], env: Environment) -> None:
    """Wherever the environment's alias points, that version passed the environment, the smoke
    test of every tier included: an alias never moves on to an untested version. And the ledger
    records only what the alias shows."""
    ledger = mlflow.get_experiment_by_name("domino-mlops-ledger")
    for model in models:
        target = mlflow.get_registered_model(model).aliases.get(env.alias)
        if target is not None:
            tags = mlflow.get_model_version(model, str(target)).tags
            assert tags.get(f"domino_mlops.{env.name}.status") == "passed", (model, env.name, tags)
            smoke = json.loads(tags[f"domino_mlops.{env.name}.smoke"])
            for name in model_api_names(model, env):
                assert set(smoke[name]) == {"latency_ms", "shape"}, (model, name, smoke)
        recorded = [] if ledger is None else [r.data.tags["dmlops.to"] for r in mlflow.search_runs(
            [ledger.experiment_id], filter_string=f"tags.`dmlops.model` = '{model}' and "
                                                  f"tags.`dmlops.environment` = '{env.name}'")]
        assert all(version == str(target) for version in recorded), (model, env.name, target, recorded)


def assert_converged(mlflow: Any, domino: Any, models: Mapping[str, tuple[str, str]], env: Environment,
                     action: str) -> None:
    """Every model (name -> (project id, version)) is served, marked and recorded exactly once."""
    ledger = mlflow.get_experiment_by_name("domino-mlops-ledger")
    for model, (project_id, version) in models.items():
        assert str(mlflow.get_registered_model(model).aliases.get(env.alias)) == version, model
        runs = mlflow.search_runs([ledger.experiment_id], filter_string=(
            f"tags.`dmlops.model` = '{model}' and tags.`dmlops.environment` = '{env.name}'"))
        assert [(r.data.tags["dmlops.action"], r.data.tags["dmlops.to"]) for r in runs] == [(action, version)], (
            f"the ledger must record {model} {env.name} once")
        for name in model_api_names(model, env):
            api = domino.model_apis.find(project_id, name)
            assert api is not None, f"no Model API {name}"
            mine = [v for v in domino.model_apis.list_versions(api.id)
                    if v.source.registered_model_version == int(version)]
            built = [v for v in mine if v.status != "Failed"]  # a failed build is a legitimate re-try
            assert len(built) == 1, f"{name}: {len(built)} Model API versions of {model} v{version}: {mine}"
            assert api.active_version is not None and api.active_version.id == built[0].id, name
    alias_needs_a_passed_smoke_test(mlflow, models, env)


def promote_everything(pipeline: Any, proxy: Any, models: Mapping[str, tuple[str, str]], *, name: str,
                       max_runs: int, max_parallel: int, per_project: bool = False, domino: Any = None) -> Figures:
    """Deploy every model to STAGE, then promote it to PROD, under the faults both servers are set
    to; re-run until each converges (at most ``max_runs`` runs each); check it all; then re-run
    finished work once and check that it writes nothing. ``per_project``: one CLI run per project,
    as the workflows' matrix does. ``domino``: a client that sees every project (default: the
    pipeline's). The emulator's request log is bounded, so its figures are taken after each run."""
    environments = load_environments(pipeline.root / "scripts" / "environments.yaml")
    projects = sorted({project for project, _ in models.values()})
    scopes = [("--project", p) for p in projects] if per_project else [()]
    figures = Figures(name, len(models), len(projects))
    emu = pipeline.emu
    domino = domino or pipeline.domino

    def count() -> None:  # the emulator's log is bounded: take its figures after each run
        figures.domino_requests += emu.counters.total()
        figures.domino_faults += sum(1 for r in emu.requests if r.fault)
        emu.reset_log()

    emu.reset_log()
    proxy.counters.clear()
    for command, env_name in STEPS:
        env = environments.get(env_name)
        started, codes = time.perf_counter(), []
        for scope in scopes:
            mine = [m for m, (p, _) in models.items() if not scope or p == scope[1]]
            runs = converge(command, env_name, max_runs=max_runs, extra=(*scope, "--max-parallel", str(max_parallel)),
                            after_each=lambda run, env=env, mine=mine: (
                                count(), alias_needs_a_passed_smoke_test(pipeline.mlflow, mine, env)))
            codes += [r.code for r in runs]
        figures.runs[env_name], figures.seconds[env_name] = codes, time.perf_counter() - started
        assert_converged(pipeline.mlflow, domino, models, env, command)
    figures.mlflow_requests, figures.mlflow_faults = proxy.counters.total(), proxy.counters.faults()
    assert figures.domino_faults > 0 and sum(figures.mlflow_faults.values()) > 0  # the faults were real

    # A re-run of finished work, faults still on, writes nothing anywhere.
    mlflow_writes = proxy.counters.writes()
    states = {m: pipeline.mlflow_state(m) for m in models}
    started = time.perf_counter()
    for command, env_name in STEPS:
        for scope in scopes:
            converge(command, env_name, max_runs=max_runs, extra=(*scope, "--max-parallel", str(max_parallel)))
    figures.rerun_seconds = time.perf_counter() - started
    assert emu.counters.writes() == 0, emu.counters.by_route()
    assert proxy.counters.writes() == mlflow_writes, proxy.counters.writes_by_route()
    assert {m: pipeline.mlflow_state(m) for m in models} == states
    return figures


def world_with_projects(count: int) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """An emulator seed with ``count`` projects, each with its own token and public Model APIs,
    and an admin key: (seed, [(project id, token), ...])."""
    seed = default_seed()
    projects, credentials, access = [], [{"api_key": ADMIN_API_KEY, "user": "admin", "admin": True}], []
    for number in range(count):
        project_id = f"65f0c0ffee0000000000{number + 0x100:04x}"
        projects.append({"id": project_id, "owner": "load-user", "name": f"load-{number}"})
        credentials.append({"token": f"LOCAL-TEST-TOKEN-load-{number}-not-a-secret", "user": "load-user",
                            "projects": [project_id]})
        access.append({"project": project_id, "model_api": "*", "public": True})
    seed.update(projects=projects, credentials=credentials, default_project=projects[0]["id"],
                model_api_access=access)
    return seed, [(p["id"], c["token"]) for p, c in zip(projects, credentials[1:], strict=True)]


def register_copies(mlflow_uri: str, names: Iterable[str], *, source: tuple[str, str] | None = None) -> dict[str, str]:
    """Register each name as a version of one real model's artifacts (two requests each, not a
    training run each): name -> version. The model is ``source`` (name, version), else the first
    name, trained here. MLFLOW_TRACKING_URI is left as it was (mlflow.set_tracking_uri sets it: a
    CLI meant to go through the fault proxy would not)."""
    from mlflow import MlflowClient

    from domino_emulator.local.models import register_diabetes_model

    names = list(names)
    client = MlflowClient(tracking_uri=mlflow_uri, registry_uri=mlflow_uri)
    versions: dict[str, str] = {}
    if source is None:
        before = os.environ.get("MLFLOW_TRACKING_URI")
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # MLflow prints a link per run
                source = names[0], register_diabetes_model(mlflow_uri, names[0], experiment="load")
        finally:
            if before is None:
                os.environ.pop("MLFLOW_TRACKING_URI", None)
            else:
                os.environ["MLFLOW_TRACKING_URI"] = before
        versions[names[0]] = source[1]
    model = client.get_model_version(*source)
    for name in names[len(versions):]:
        client.create_registered_model(name)
        versions[name] = str(client.create_model_version(name, model.source, run_id=model.run_id,
                                                         model_id=model.source.removeprefix("models:/")).version)
    return versions
