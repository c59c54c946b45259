"""Fill an MLflow SQLite registry with many models fast, before its server starts.

Registering 10,000 models through the REST API costs two requests each (minutes on a busy
machine); this writes the rows through MLflow's own store and ORM classes (its schema and
migrations) in one transaction. The server then reads them like any other models.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

SOURCE = "s3://bench-bucket/model"  # never loaded: a plan reads the registry, not the artifacts


def fill(db: Path, models: Iterable[tuple[str, int, dict[str, int]]], *, source: str = SOURCE,
         storage_location: str | None = None, run_id: str | None = None) -> float:
    """Create (name, number of versions, {alias: version}) models in the SQLite file ``db``;
    return the seconds it took. ``source``/``storage_location``/``run_id``: where every version's
    files are (another version's, to share one real model's artifacts)."""
    from mlflow.store.model_registry.dbmodels.models import (
        SqlModelVersion,
        SqlRegisteredModel,
        SqlRegisteredModelAlias,
    )
    from mlflow.store.model_registry.sqlalchemy_store import SqlAlchemyStore
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as TrackingStore

    started = time.perf_counter()
    uri = f"sqlite:///{db}"
    TrackingStore(uri, str(db.parent / "artifacts"))  # creates every table at the newest schema
    store = SqlAlchemyStore(uri)
    now = int(time.time() * 1000)
    # A write: MLflow refuses writes in its default read-only session under pytest (PYTEST_CURRENT_TEST).
    with store.ManagedSessionMaker(read_only=False) as session:
        for name, versions, aliases in models:
            session.add(SqlRegisteredModel(name=name, creation_time=now, last_updated_time=now))
            session.add_all(SqlModelVersion(name=name, version=v, creation_time=now, last_updated_time=now,
                                            source=source, storage_location=storage_location, run_id=run_id,
                                            status="READY", current_stage="None")
                            for v in range(1, versions + 1))
            session.add_all(SqlRegisteredModelAlias(name=name, alias=alias, version=version)
                            for alias, version in aliases.items())
    return time.perf_counter() - started


def stored_location(db: Path, name: str, version: int | str) -> str | None:
    """Where MLflow stored a version's files (its ``storage_location`` column: what
    `model-versions/get-download-uri` answers), which MlflowClient's ModelVersion does not show.
    Copied into filled versions, they read their files the way a registered version does."""
    import sqlite3

    with sqlite3.connect(db) as connection:
        row = connection.execute("SELECT storage_location FROM model_versions WHERE name = ? AND version = ?",
                                 (name, int(version))).fetchone()
    return row[0] if row and row[0] else None
