"""The MLflow registry layer against a real `mlflow server` (and a real bearer-token proxy)."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from domino_mlops.clients.mlflow.registry import MlflowRegistry
from domino_mlops.clients.mlflow.auth import MlflowCredentials
from domino_mlops.desired.manifest import VersionRef
from domino_mlops.errors import (
    AliasConflict,
    AuthenticationFailed,
    BadResponse,
    ConfigError,
    LeaseHeld,
    NotFound,
    PermissionDenied,
    RemoteError,
    Unreachable,
)
from domino_emulator.local.models import register_diabetes_model
from tests.support.auth_proxy import auth_proxy
from tests.support.fault_proxy import ProxyFaults, fault_proxy


@pytest.fixture(scope="module")
def two_versions(mlflow_server) -> tuple[str, str, str]:
    name = "registry-layer"
    v1 = register_diabetes_model(mlflow_server.uri, name, alpha=1.0)
    v2 = register_diabetes_model(mlflow_server.uri, name, alpha=2.0)
    return name, v1, v2


def registry(uri: str, **env: str) -> MlflowRegistry:
    return MlflowRegistry(MlflowCredentials.from_env(env, tracking_uri=uri))


def test_resolve_number_and_alias_to_immutable_identity(mlflow_server, two_versions) -> None:
    name, v1, v2 = two_versions
    reg = registry(mlflow_server.uri)
    first = reg.resolve(name, VersionRef(number=int(v1)))
    assert (first.name, first.version) == (name, v1) and first.run_id and first.source
    reg.set_alias(name, "candidate", v2, expected=reg.alias_target(name, "candidate"))
    by_alias = reg.resolve(name, VersionRef(alias="candidate"))
    assert by_alias.version == v2 and by_alias.run_id != first.run_id and "candidate" in by_alias.aliases


def test_alias_compare_and_swap(mlflow_server, two_versions) -> None:
    name, v1, v2 = two_versions
    reg = registry(mlflow_server.uri)
    reg.delete_alias(name, "cas", expected=reg.alias_target(name, "cas"))
    assert reg.set_alias(name, "cas", v1, expected=None) is True
    assert reg.set_alias(name, "cas", v1, expected=None) is False  # already there: no write
    with pytest.raises(AliasConflict) as info:
        reg.set_alias(name, "cas", v2, expected=None)  # the plan saw no alias; it is at v1 now
    assert info.value.exit_code == 4 and info.value.found == v1
    assert reg.alias_target(name, "cas") == v1  # the conflict changed nothing
    assert reg.set_alias(name, "cas", v2, expected=v1) is True
    assert reg.get_model(name).alias_map["cas"] == v2


def test_stage_transition_archives_previous_holder(mlflow_server, two_versions) -> None:
    name, v1, v2 = two_versions
    reg = registry(mlflow_server.uri)
    reg.transition_stage(name, v1, "Production")
    assert reg.transition_stage(name, v1, "Production") is False  # nothing to do
    assert reg.transition_stage(name, v2, "Production") is True
    stages = {v.version: v.current_stage for v in reg.get_model(name).versions}
    assert stages[v1] == "Archived" and stages[v2] == "Production"


def test_a_stage_the_caller_saw_elsewhere_is_written_without_a_search(mlflow_server, two_versions) -> None:
    """``seen_stage`` (the plan's read) outside the stage: the write alone, same outcome."""
    name, v1, _ = two_versions
    reg = registry(mlflow_server.uri)
    model = "registry-layer-seen-stage"
    reg.create_registered_model(model)
    made = [reg.create_version(model, source=f"models:/{name}/{v1}", run_id=None, tags={}, lookup=lambda: None)
            for _ in range(2)]
    with fault_proxy(mlflow_server.uri) as proxy:
        counted = registry(proxy.url)
        assert counted.transition_stage(model, made[0].version, "Staging", seen_stage="None") is True
        assert counted.transition_stage(model, made[1].version, "Staging", seen_stage="None") is True
        assert counted.transition_stage(model, made[1].version, "Staging", seen_stage="Staging") is False
        routes = proxy.counters.by_route()
    assert routes["POST /api/2.0/mlflow/model-versions/transition-stage"] == 2
    assert routes["GET /api/2.0/mlflow/model-versions/search"] == 1  # only where it saw the stage already
    stages = {v.version: v.current_stage for v in reg.get_model(model).versions}
    assert stages == {made[0].version: "Archived", made[1].version: "Staging"}


def test_tag_round_trip_writes_only_differences(mlflow_server, two_versions) -> None:
    name, v1, _ = two_versions
    reg = registry(mlflow_server.uri)
    tags = {"DOMINO_MODEL_ID": "m-1", "DOMINO_MODEL_VERSION_ID": "v-9"}
    reg.set_tags(name, v1, {"DOMINO_MODEL_ID": "old"})
    assert reg.set_tags(name, v1, tags) == 2
    assert reg.set_tags(name, v1, tags) == 0
    assert {k: v for k, v in reg.get_version(name, v1).tags if k in tags} == tags


def test_tags_with_a_guard_read_the_registered_model_once(mlflow_server, two_versions) -> None:
    """The guard's read (a lease check) shows the newest version's tags too: no version read; an
    older version's tags are read as before; a guard that refuses stops every write."""
    name, v1, _ = two_versions
    reg = registry(mlflow_server.uri)
    model = "registry-layer-guarded-tags"
    reg.create_registered_model(model)
    older, newest = (reg.create_version(model, source=f"models:/{name}/{v1}", run_id=None, tags={"k": "0"},
                                        lookup=lambda: None) for _ in range(2))
    seen: list[str] = []

    def refuse(head) -> None:
        raise LeaseHeld(head.name, "STAGE", "another run")

    with fault_proxy(mlflow_server.uri) as proxy:
        counted = registry(proxy.url)
        assert counted.set_tags(model, newest.version, {"k": "1", "j": "2"}, guard=lambda h: seen.append(h.name)) == 2
        assert counted.set_tags(model, newest.version, {"k": "1", "j": "2"}, guard=lambda h: seen.append(h.name)) == 0
        newest_only = proxy.counters.by_route()
        assert counted.set_tags(model, older.version, {"k": "1"}, guard=lambda h: seen.append(h.name)) == 1
        with pytest.raises(LeaseHeld):
            counted.set_tags(model, older.version, {"k": "2"}, guard=refuse)
        routes = proxy.counters.by_route()
    assert seen == [model] * 3
    assert newest_only["GET /api/2.0/mlflow/registered-models/get"] == 2
    assert "GET /api/2.0/mlflow/model-versions/get" not in newest_only
    assert routes["GET /api/2.0/mlflow/model-versions/get"] == 1  # the older version, once (the refusal reads none)
    assert routes["POST /api/2.0/mlflow/model-versions/set-tag"] == 3
    assert reg.get_version(model, older.version).tag_map["k"] == "1"  # the refused write never went out


def test_unknown_model_and_version_are_not_found(mlflow_server, two_versions) -> None:
    name, _, _ = two_versions
    reg = registry(mlflow_server.uri)
    with pytest.raises(NotFound, match="no model 'no-such-model'"):
        reg.get_model("no-such-model")
    with pytest.raises(NotFound) as info:
        reg.get_version(name, 999)
    assert info.value.exit_code == 2 and info.value.hint


def test_per_project_token_selection(mlflow_server) -> None:
    """A call for project A carries A's token only; B's call carries B's; never the global one."""
    register_diabetes_model(mlflow_server.uri, "model-a")
    register_diabetes_model(mlflow_server.uri, "model-b")
    grants = {"tok-a": {"model-a"}, "tok-b": {"model-b"}, "tok-global": set()}
    env = {"PROJECT_ID_aaa": "tok-a", "PROJECT_ID_bbb": "tok-b", "MLFLOW_TRACKING_TOKEN": "tok-global"}
    with auth_proxy(mlflow_server.uri, grants) as proxy:
        reg_a = MlflowRegistry(MlflowCredentials.from_env(env, project_id="aaa", tracking_uri=proxy.url))
        reg_b = MlflowRegistry(MlflowCredentials.from_env(env, project_id="bbb", tracking_uri=proxy.url))
        # Interleave on threads: credentials are per registry, not process-wide environment.
        threads = [threading.Thread(target=reg.get_model, args=(model,))
                   for reg, model in ((reg_a, "model-a"), (reg_b, "model-b")) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert proxy.log.tokens_for("model-a") == {"tok-a"}
        assert proxy.log.tokens_for("model-b") == {"tok-b"}
        # A project without its own token falls back to the general one, never another project's.
        other = MlflowCredentials.from_env(env, project_id="ccc", tracking_uri=proxy.url)
        assert other.source == "MLFLOW_TRACKING_TOKEN"


def test_wrong_token_401_names_the_credential_without_printing_it(mlflow_server) -> None:
    with auth_proxy(mlflow_server.uri, {"good": {"model-a"}}) as proxy:
        creds = MlflowCredentials.from_env({"PROJECT_ID_aaa": "s3cr3t-value"}, project_id="aaa",
                                           tracking_uri=proxy.url)
        with pytest.raises(AuthenticationFailed) as info:
            MlflowRegistry(creds).get_model("model-a")
    exc = info.value
    assert "PROJECT_ID_aaa" in str(exc) and "401" in str(exc) and exc.exit_code == 2
    for text in (str(exc), repr(exc), exc.hint, repr(creds)):
        assert "s3cr3t-value" not in text


def test_other_projects_token_is_403(mlflow_server) -> None:
    register_diabetes_model(mlflow_server.uri, "model-b")
    with auth_proxy(mlflow_server.uri, {"tok-a": {"model-a"}}) as proxy:
        creds = MlflowCredentials.from_env({"PROJECT_ID_aaa": "tok-a"}, project_id="aaa", tracking_uri=proxy.url)
        with pytest.raises(PermissionDenied) as info:
            MlflowRegistry(creds).get_model("model-b")
    assert "PROJECT_ID_aaa" in str(info.value) and "403" in str(info.value) and "tok-a" not in str(info.value)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_server_fails_fast_and_clearly() -> None:
    uri = f"http://127.0.0.1:{closed_port()}"
    start = time.monotonic()
    with pytest.raises(Unreachable) as info:
        registry(uri).get_model("x")
    assert time.monotonic() - start < 10
    assert uri in str(info.value) and info.value.exit_code == 1 and info.value.hint


def test_silent_server_times_out_within_the_configured_timeout(monkeypatch) -> None:
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "1")
    with socket.socket() as listener:  # accepts connections (backlog) but never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        uri = f"http://127.0.0.1:{listener.getsockname()[1]}"
        start = time.monotonic()
        with pytest.raises(Unreachable, match="timeout"):  # one attempt: no budget for retries
            MlflowRegistry(MlflowCredentials.from_env({}, tracking_uri=uri), retry_budget=0).get_model("x")
        assert time.monotonic() - start < 6


def test_a_flaky_mlflow_is_retried_within_the_budget(mlflow_server, two_versions, monkeypatch) -> None:
    name, v1, _ = two_versions
    sleeps: list[float] = []
    with fault_proxy(mlflow_server.uri, ProxyFaults(rate_503=0.5, reset_rate=0.5, limit=5)) as proxy:
        reg = MlflowRegistry(MlflowCredentials.from_env({}, tracking_uri=proxy.url), sleep=sleeps.append)
        assert reg.get_version(name, v1).version == v1
        assert sum(proxy.counters.faults().values()) == 5 and len(sleeps) == 5
        proxy.set_faults(ProxyFaults(rate_503=1.0, limit=2, paths=("/mlflow-artifacts/",)))
        proxy.counters.clear()
        assert reg.input_example(name, v1)["columns"][0] == "age"  # the download, retried
        assert proxy.counters.faults() == {"503": 2} and len(sleeps) == 7, proxy.counters.by_route()


def test_garbage_answer_is_a_clear_error() -> None:
    class Html(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            body = b"<html><body>Sign in to continue</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Html)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(BadResponse, match="not JSON"):
            registry(f"http://127.0.0.1:{server.server_port}").get_model("x")
    finally:
        server.shutdown()
        server.server_close()


def test_missing_tracking_uri_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="MLFLOW_TRACKING_URI"):
        MlflowCredentials.from_env({})


def test_input_example_is_the_logged_one_or_none_when_the_model_has_none(mlflow_server, two_versions) -> None:
    from domino_emulator.local.models import register_broken_model

    name, v1, _ = two_versions
    example = registry(mlflow_server.uri).input_example(name, v1)
    assert isinstance(example, dict) and set(example["columns"]) >= {"age", "bmi"} and len(example["data"]) == 3  # X.head(3)
    broken = register_broken_model(mlflow_server.uri, "no-example")  # no MLmodel, no input example
    assert registry(mlflow_server.uri).input_example("no-example", broken) is None


# --- creates go out once: a POST whose answer was lost is looked up, not resent ----------------


def test_an_experiment_whose_create_answer_was_lost_is_found_not_an_error(mlflow_server) -> None:
    faults = ProxyFaults(lost_rate=1.0, paths=("/experiments/create",), limit=1)
    with fault_proxy(mlflow_server.uri, faults) as proxy:
        experiment_id = registry(proxy.url).create_experiment("created-once", tags={"t": "1"})
        assert proxy.counters.faults() == {"lost": 1}
        assert proxy.counters.writes_by_route() == {"POST /api/2.0/mlflow/experiments/create": 1}
    assert registry(mlflow_server.uri).reader.experiment_id("created-once") == experiment_id
    # Another apply created it meanwhile: found as well.
    assert registry(mlflow_server.uri).create_experiment("created-once") == experiment_id


def test_a_run_whose_create_answer_was_lost_is_created_once(mlflow_server) -> None:
    experiment_id = registry(mlflow_server.uri).create_experiment("runs-created-once")
    faults = ProxyFaults(lost_rate=1.0, paths=("/runs/create",), limit=1)
    with fault_proxy(mlflow_server.uri, faults) as proxy:
        reg = registry(proxy.url)

        def mine() -> str | None:
            runs = reg.reader.runs(experiment_id, "tags.marker = 'm-1'")
            return runs[0].run_id if runs else None

        run_id = reg.create_run(experiment_id, start_time=1, tags={"marker": "m-1"}, run_name="once", lookup=mine)
        assert proxy.counters.faults() == {"lost": 1}
    runs = registry(mlflow_server.uri).reader.runs(experiment_id, "")
    assert [r.run_id for r in runs] == [run_id]


def test_a_tag_written_by_two_writers_at_once_is_retried_not_a_failure() -> None:
    """MLflow's SQL store inserts a tag after looking for it: two runs taking one lease at once
    make the second insert break the unique key, answered 400 with the database's words (seen
    in CI). Setting a value is safe to repeat, so it is written again; other 400s still fail, as
    MLflow refusing what we asked (exit 2)."""
    import responses

    uri = "http://mlflow.invalid"
    endpoint = f"{uri}/api/2.0/mlflow/registered-models/set-tag"
    clash = {"error_code": "BAD_REQUEST", "message": "(sqlite3.IntegrityError) UNIQUE constraint failed: "
             "registered_model_tags.workspace, registered_model_tags.key, registered_model_tags.name"}
    sleeps: list[float] = []

    def posts(mocked: responses.RequestsMock) -> int:
        return sum(call.request.method == "POST" for call in mocked.calls)

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.post(endpoint, json=clash, status=400)
        mocked.post(endpoint, json={}, status=200)
        MlflowRegistry(MlflowCredentials.from_env({}, tracking_uri=uri), sleep=sleeps.append).set_model_tag(
            "m", "domino_mlops.lease.PROD", "{}")
        assert posts(mocked) == 2 and len(sleeps) == 1
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.post(endpoint, json={"error_code": "BAD_REQUEST", "message": "tag key too long"}, status=400)
        with pytest.raises(ConfigError, match="MLflow refused tag 'k' of model 'm': tag key too long"):
            MlflowRegistry(MlflowCredentials.from_env({}, tracking_uri=uri), sleep=sleeps.append).set_model_tag(
                "m", "k", "v")
        assert posts(mocked) == 1


def test_a_write_answered_500_is_asked_again_twice_then_reported() -> None:
    """MLflow's SQL store answers 500 now and then under concurrent writers; setting a value is
    safe to repeat, so a 500 is retried twice (as MLflow's own client did), then reported."""
    import responses

    uri = "http://mlflow.invalid"
    endpoint = f"{uri}/api/2.0/mlflow/model-versions/set-tag"
    busy = {"error_code": "INTERNAL_ERROR", "message": "database is locked"}
    sleeps: list[float] = []
    reg = MlflowRegistry(MlflowCredentials.from_env({}, tracking_uri=uri), sleep=sleeps.append)
    version = {"model_version": {"name": "m", "version": "1", "tags": []}}
    with responses.RequestsMock() as mocked:
        mocked.get(f"{uri}/api/2.0/mlflow/model-versions/get", json=version)
        mocked.post(endpoint, json=busy, status=500)
        mocked.post(endpoint, json={}, status=200)
        assert reg.set_tags("m", "1", {"k": "v"}) == 1 and len(sleeps) == 1
    with responses.RequestsMock() as mocked:
        mocked.get(f"{uri}/api/2.0/mlflow/model-versions/get", json=version)
        mocked.post(endpoint, json=busy, status=500)
        with pytest.raises(RemoteError, match="answered 500.*database is locked"):
            reg.set_tags("m", "1", {"k": "v"})
        assert sum(call.request.method == "POST" for call in mocked.calls) == 3
