"""Models and migrations agree, and every migration runs both ways on both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

import incidentdb
from incidentdb import MigrationError, Store
from incidentdb._engine import check_models, make_engine


def test_models_and_migrations_agree(db_url: str) -> None:
    with Store(db_url) as store:
        check_models(store.engine)  # `alembic check`: raises if autogenerate finds a difference


def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    store = Store(db_url, migrate=False)
    try:
        assert store.schema_status()["revision"] is None
        store.upgrade()
        tables = set(inspect(store.engine).get_table_names())
        assert {"incidents", "reports", "incident_reports", "classifications"} <= tables
        store.downgrade("base")
        left = set(inspect(store.engine).get_table_names()) - {"alembic_version"}
        assert left == set()
        store.upgrade()
        status = store.schema_status()
        assert status["up_to_date"] is True
        assert status["tables"]["incidents"] == 0
        check_models(store.engine)
    finally:
        store.close()


def test_search_index_exists_after_upgrade(db_url: str) -> None:
    with Store(db_url) as store:
        insp = inspect(store.engine)
        if store.dialect == "sqlite":
            assert {"incidents_fts", "reports_fts"} <= set(insp.get_table_names())
        else:
            columns = {c["name"] for c in insp.get_columns("reports")}
            assert "search_vector" in columns


def test_a_foreign_database_is_refused(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE customers (id INTEGER PRIMARY KEY)")
    engine.dispose()
    with pytest.raises(MigrationError, match="no incidentdb schema version"):
        Store(sqlite_url)


def test_a_newer_schema_is_refused(sqlite_url: str) -> None:
    Store(sqlite_url).close()
    engine = make_engine(sqlite_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    engine.dispose()
    with pytest.raises(MigrationError, match="9999"):
        Store(sqlite_url)


def test_sqlite_store_uses_wal(sqlite_url: str) -> None:
    with Store(sqlite_url) as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_schema_head_constant_matches_the_migrations() -> None:
    from incidentdb._engine import SCHEMA_HEAD, head_revision

    assert head_revision() == SCHEMA_HEAD


def _sqlite_objects(url: str) -> list[tuple[object, ...]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return [
                *conn.exec_driver_sql(
                    "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY rowid"
                ).all(),
                *conn.exec_driver_sql("SELECT * FROM alembic_version").all(),
            ]
    finally:
        engine.dispose()


def test_a_new_sqlite_store_is_what_the_migrations_make(tmp_path: Path) -> None:
    # A new SQLite store is created from the recorded script, not by running the migrations.
    migrated = f"sqlite:///{tmp_path / 'migrated.sqlite'}"
    store = Store(migrated, migrate=False)
    store.upgrade()
    store.close()
    created = f"sqlite:///{tmp_path / 'created.sqlite'}"
    Store(created).close()
    objects = _sqlite_objects(created)
    assert ("table", "incidents_fts", "incidents_fts") in [row[:3] for row in objects]
    assert objects == _sqlite_objects(migrated)


def test_the_recorded_sqlite_schema_is_at_the_newest_revision() -> None:
    from incidentdb._engine import SCHEMA_HEAD, SQLITE_SCHEMA

    script = (Path(incidentdb.__file__).parent / "migrations" / SQLITE_SCHEMA).read_text()
    assert f"-- revision: {SCHEMA_HEAD}\n" in script, (
        "a migration was added: run `python -m incidentdb._engine` to record the new schema"
    )


def test_a_store_behind_the_recorded_schema_is_migrated_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A script recorded at an older revision (a migration added, the script not yet rewritten)
    # still gives the newest schema: alembic migrates on from the script's revision.
    from incidentdb import _engine

    old = tmp_path / "old.sqlite"
    store = Store(f"sqlite:///{old}", migrate=False)
    store.upgrade("0005")
    script = _engine.sqlite_schema_script(store.engine)
    store.close()
    monkeypatch.setattr(_engine, "recorded_sqlite_schema", lambda: script)
    url = f"sqlite:///{tmp_path / 'new.sqlite'}"
    with Store(url) as store:
        assert store.schema_status()["revision"] == _engine.SCHEMA_HEAD
        check_models(store.engine)
