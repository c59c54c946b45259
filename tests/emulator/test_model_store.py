"""The emulator's model store: each model version is fetched once, and one version's fetch does
not hold up another's (Domino builds each Model API version on its own). Events, not timing."""

from __future__ import annotations

import threading

from domino_emulator.predictor import ModelStore


def test_a_slow_fetch_does_not_hold_up_another_versions_and_each_is_fetched_once() -> None:
    store = ModelStore("http://127.0.0.1:1")  # never reached: _fetch is replaced below
    slow_started, other_loaded = threading.Event(), threading.Event()
    fetched: list[tuple[str, str]] = []

    def fetch(name: str, version: str) -> object:
        fetched.append((name, version))
        if name == "slow":
            slow_started.set()
            assert other_loaded.wait(60), "the other version's load waited for this one"
        return f"{name}/{version}"

    store._fetch = fetch  # type: ignore[method-assign]
    results: dict[str, object] = {}
    slow = [threading.Thread(target=lambda: results.setdefault("slow", store.load("slow", "1"))) for _ in range(2)]
    for thread in slow:
        thread.start()
    assert slow_started.wait(60)
    assert store.load("fast", "1") == "fast/1"  # while "slow" is still fetching
    other_loaded.set()
    for thread in slow:
        thread.join(60)

    assert results["slow"] == "slow/1"
    assert sorted(fetched) == [("fast", "1"), ("slow", "1")]  # two callers of "slow", one fetch


def test_a_build_loads_the_real_model_without_checking_this_process_against_its_requirements(
        mlflow_server, diabetes_model, monkeypatch) -> None:
    """The requirements check reads every installed package's metadata (CPU a build need not
    spend: a Domino build installs the model's own environment); the model still loads whole."""
    import mlflow.pyfunc

    checked: list[object] = []
    monkeypatch.setattr(mlflow.pyfunc, "warn_dependency_requirement_mismatches", checked.append)
    name, version = diabetes_model
    store = ModelStore(mlflow_server.uri)
    try:
        model = store.load(name, version)
    finally:
        store.close()

    assert checked == []
    assert "sklearn" in model.metadata.flavors  # fetched from MLflow and loaded, as before
