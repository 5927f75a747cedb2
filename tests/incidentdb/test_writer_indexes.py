"""A first import writes classification values without their indexes, then builds them."""

from __future__ import annotations

from pathlib import Path

import pytest

from incidentdb import IngestError, IngestWriter, Store
from incidentdb._data import bundled_data
from incidentdb._models import Classification, table_of

SAMPLE = str(bundled_data("sample", "mongodump_full_snapshot"))


def _schema(store: Store) -> list[tuple[object, ...]]:
    with store.engine.connect() as conn:
        return list(
            conn.exec_driver_sql(
                "SELECT type, name, tbl_name, sql FROM sqlite_master "
                "WHERE tbl_name = 'classifications' ORDER BY name"
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


def test_a_failed_first_import_leaves_the_indexes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_args: object) -> None:
        raise RuntimeError("disk on fire")

    with Store(f"sqlite:///{tmp_path / 'a.sqlite'}") as store:
        before = _schema(store)
        monkeypatch.setattr("incidentdb._writer._classification_rows", fail)
        with pytest.raises(IngestError, match="disk on fire"):
            store.ingest("aiid.v1", SAMPLE)
        assert _schema(store) == before
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
