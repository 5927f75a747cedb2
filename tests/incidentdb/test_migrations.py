"""Models and migrations agree, and every migration runs both ways on both databases."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

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
