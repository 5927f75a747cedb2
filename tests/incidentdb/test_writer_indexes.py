"""A first import writes classification values, report links and entity roles without their
secondary indexes, then builds them."""

from __future__ import annotations

from pathlib import Path

import pytest

from incidentdb import IngestError, IngestWriter, Store
from incidentdb._data import bundled_data
from incidentdb._models import Classification, table_of

SAMPLE = str(bundled_data("sample", "mongodump_full_snapshot"))


def _schema(store: Store, table: str = "classifications") -> list[tuple[object, ...]]:
    with store.engine.connect() as conn:
        return list(
            conn.exec_driver_sql(
                "SELECT type, name, tbl_name, sql FROM sqlite_master "
                "WHERE tbl_name = ? ORDER BY name",
                (table,),
            ).all()
        )


def _count(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT count(*) FROM classifications").scalar_one())


def test_the_indexes_come_back_as_the_migrations_made_them(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'a.sqlite'}") as store:
        before = _schema(store)
        assert [row[1] for row in before if row[0] == "index"] == [
            "ix_classifications_incident_ns",
            "ix_classifications_kind_ns_incident",
            "ix_classifications_ns_attr_value_date",
            "ix_trend_classifications",  # raw DDL of migration 0008, kept through the import
        ]
        result = store.ingest("aiid.v1", SAMPLE)
        assert result.counts["classifications"]["added"] > 0
        assert _schema(store) == before
        with store.engine.connect() as conn:
            plan = " ".join(
                str(row[-1])
                for row in conn.exec_driver_sql(
                    "EXPLAIN QUERY PLAN SELECT incident_pk FROM classifications "
                    "WHERE namespace = 'MIT' AND attribute = 'Risk Domain' AND value = 'x'"
                )
            )
        # Either index that starts (namespace, attribute, value) serves the lookup.
        assert "ix_classifications_ns_attr_value" in plan or "ix_trend_classifications" in plan
        assert store.ingest("aiid.v1", SAMPLE).outcome == "unchanged"


def test_links_and_roles_get_their_indexes_back_after_a_first_import(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'a.sqlite'}") as store:
        before = {t: _schema(store, t) for t in ("incident_reports", "incident_entities")}
        assert [row[1] for row in before["incident_reports"] if row[0] == "index"] == [
            "ix_incident_reports_report_pk",
            "sqlite_autoindex_incident_reports_1",  # the primary key: never dropped
        ]
        assert [row[1] for row in before["incident_entities"] if row[0] == "index"] == [
            "ix_incident_entities_role_entity_date",
            "ix_incident_entities_role_incident_date",
            "ix_trend_roles",  # raw DDL of migration 0008
            "sqlite_autoindex_incident_entities_1",
        ]
        result = store.ingest("aiid.v1", SAMPLE)
        assert result.counts["incidents"]["added"] > 0
        assert {t: _schema(store, t) for t in before} == before
        with store.engine.connect() as conn:
            plan = " ".join(
                str(row[-1])
                for row in conn.exec_driver_sql(
                    "EXPLAIN QUERY PLAN SELECT incident_pk FROM incident_reports WHERE report_pk = 1"
                )
            )
            assert "ix_incident_reports_report_pk" in plan
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar_one() == "ok"


def test_a_failed_first_import_leaves_the_indexes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_args: object) -> None:
        raise RuntimeError("disk on fire")

    with Store(f"sqlite:///{tmp_path / 'a.sqlite'}") as store:
        before = _schema(store)
        monkeypatch.setattr("incidentdb._writer._classification_rows", fail)
        links_before = _schema(store, "incident_reports")
        roles_before = _schema(store, "incident_entities")
        with pytest.raises(IngestError, match="disk on fire"):
            store.ingest("aiid.v1", SAMPLE)
        assert _schema(store) == before
        assert _schema(store, "incident_reports") == links_before
        assert _schema(store, "incident_entities") == roles_before
        assert _count(store) == 0


def test_a_table_with_rows_keeps_its_indexes(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'a.sqlite'}") as store:
        store.ingest("aiid.v1", SAMPLE)
        assert _count(store) > 0
        with store.engine.begin() as conn:
            dropped = IngestWriter(conn)._drop_indexes_of_empty(table_of(Classification))
        assert dropped == []
        with store.engine.begin() as conn:
            conn.exec_driver_sql("DELETE FROM classifications")
            dropped = IngestWriter(conn)._drop_indexes_of_empty(table_of(Classification))
            assert len(dropped) == 4  # the models' three and migration 0008's trend index
            conn.rollback()


def test_imported_classification_rows_carry_their_incidents_date(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'a.sqlite'}") as store:
        store.ingest("aiid.v1", SAMPLE)
        with store.engine.connect() as conn:
            rows, same = conn.exec_driver_sql(
                "SELECT count(*), sum(c.incident_date IS i.date) FROM classifications c "
                "JOIN incidents i ON i.id = c.incident_pk"
            ).one()
    assert rows > 0
    assert same == rows


def test_imported_entity_roles_carry_their_incidents_date(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'a.sqlite'}") as store:
        store.ingest("aiid.v1", SAMPLE)
        with store.engine.connect() as conn:
            rows, same = conn.exec_driver_sql(
                "SELECT count(*), sum(r.incident_date IS i.date) FROM incident_entities r "
                "JOIN incidents i ON i.id = r.incident_pk"
            ).one()
    assert rows > 0
    assert same == rows


def test_imported_entity_roles_carry_their_entitys_name(tmp_path: Path) -> None:
    """The importer writes the name itself (migration 0008's copy trigger stays idle)."""
    with Store(f"sqlite:///{tmp_path / 'a.sqlite'}") as store:
        with store.engine.begin() as conn:
            conn.exec_driver_sql("DROP TRIGGER incident_entities_name_ai")
        store.ingest("aiid.v1", SAMPLE)
        with store.engine.connect() as conn:
            rows, same = conn.exec_driver_sql(
                "SELECT count(*), sum(r.entity_name IS e.name) FROM incident_entities r "
                "JOIN entities e ON e.id = r.entity_pk"
            ).one()
    assert rows > 0
    assert same == rows
