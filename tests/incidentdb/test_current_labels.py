"""`current_labels` is kept in step with every write of failure-mode labels."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, insert, select, update

from incidentdb import Store
from incidentdb._labelling import HumanDecision, ModelTag
from incidentdb._labels import _computed_labels, refresh_current_labels
from incidentdb._models import Classification, Entity, Incident, IncidentEntity, table_of
from incidentdb._models_curlabels import CurrentLabel

_current = table_of(CurrentLabel)
T0 = dt.datetime(2026, 1, 1)


def _rows(store: Store) -> list[tuple[object, ...]]:
    with store.engine.connect() as conn:
        return sorted(
            (
                tuple(r)
                for r in conn.execute(
                    select(
                        _current.c.incident_pk,
                        _current.c.attribute,
                        _current.c.value,
                        _current.c.source_kind,
                        _current.c.confidence,
                    )
                )
            ),
            key=repr,
        )


def test_writers_keep_current_labels_in_step(db_url: str) -> None:
    store = Store(db_url)
    with store.engine.begin() as conn:
        conn.execute(
            insert(table_of(Incident)),
            [{"id": i, "incident_id": 100 + i, "title": f"t{i}"} for i in (1, 2, 3)],
        )
    store.write_model_tags(
        "fm",
        "1",
        {
            1: [ModelTag("mode", "agentic", 0.8, None), ModelTag("technique", "a.b", 0.7, None)],
            2: [],
        },
    )
    assert _rows(store) == sorted(
        [
            (1, "mode", "agentic", "model", 0.8),
            (1, "technique", "a.b", "model", 0.7),
            (2, "mode", None, "model", None),
            (2, "technique", None, "model", None),
        ],
        key=repr,
    )
    # A newer run replaces the older one's tags; a person overrides both ways.
    store.write_model_tags("fm", "2", {1: [ModelTag("mode", "misuse", 0.9, None)]})
    store.record_label_decisions(
        [
            HumanDecision(101, "mode", "misuse", False),
            HumanDecision(102, "mode", "adversarial", True),
            HumanDecision(103, "mode", "agentic", False),
        ],
        "ed",
    )
    assert _rows(store) == sorted(
        [
            (1, "mode", None, "model", None),
            (1, "technique", None, "model", None),
            (2, "mode", "adversarial", "human", 1.0),
            (2, "technique", None, "model", None),
            (3, "mode", None, "human", None),
        ],
        key=repr,
    )
    # What is stored equals what the classification rows give when recomputed from scratch.
    with store.engine.begin() as conn:
        computed = {
            attribute: sorted(map(tuple, conn.execute(select(_computed_labels(attribute, None)))))
            for attribute in ("mode", "technique")
        }
        before = _rows(store)
        refresh_current_labels(conn)
    assert _rows(store) == before
    assert computed["mode"] == [(2, "adversarial", "human", 1.0)]
    # Deleting an incident deletes its labels (ON DELETE CASCADE).
    with store.engine.begin() as conn:
        conn.execute(delete(table_of(Incident)).where(table_of(Incident).c.id == 2))
    assert [r[0] for r in _rows(store)] == [1, 1, 3]
    store.close()


def test_unchanged_decisions_write_nothing(db_url: str) -> None:
    store = Store(db_url)
    with store.engine.begin() as conn:
        conn.execute(insert(table_of(Incident)), [{"id": 1, "incident_id": 1, "title": "t"}])
    decision = [HumanDecision(1, "mode", "misuse", True)]
    assert store.record_label_decisions(decision, "ed")["recorded"] == 1
    assert store.record_label_decisions(decision, "ed")["recorded"] == 0
    assert _rows(store) == [(1, "mode", "misuse", "human", 1.0)]
    store.close()


def test_migration_backfills_from_existing_rows(db_url: str) -> None:
    import importlib

    first = importlib.import_module("incidentdb.migrations.versions.0006_current_labels")
    dates = importlib.import_module("incidentdb.migrations.versions.0007_trend_dates")
    store = Store(db_url, migrate=False)
    try:
        store.upgrade(first.down_revision)
        with store.engine.begin() as conn:
            conn.execute(
                insert(table_of(Incident)),
                [
                    {"id": 1, "incident_id": 1, "title": "t1", "date": dt.date(2024, 5, 6)},
                    {"id": 2, "incident_id": 2, "title": "t2", "date": None},
                ],
            )
            base = {"namespace": "failure_modes", "value_index": 0, "author": None}
            conn.execute(
                insert(table_of(Classification)),
                [
                    base
                    | {
                        "incident_pk": 1,
                        "attribute": "mode",
                        "value": "misuse",
                        "source_kind": "model",
                        "model_name": "fm",
                        "model_version": "1",
                        "confidence": 0.9,
                        "created_at": T0,
                    },
                    base
                    | {
                        "incident_pk": 1,
                        "attribute": "mode",
                        "value": "agentic",
                        "source_kind": "model",
                        "model_name": "fm",
                        "model_version": "2",
                        "confidence": 0.6,
                        "created_at": T0 + dt.timedelta(days=1),
                    },
                    base
                    | {
                        "incident_pk": 2,
                        "attribute": "technique",
                        "value": "a.b",
                        "source_kind": "human",
                        "model_name": None,
                        "model_version": None,
                        "confidence": 1.0,
                        "created_at": T0,
                    },
                ],
            )
        store.upgrade(dates.revision)
        assert _rows(store) == sorted(
            [(1, "mode", "agentic", "model", 0.6), (2, "technique", "a.b", "human", 1.0)],
            key=repr,
        )
        with store.engine.connect() as conn:
            copied = {
                table: sorted(
                    {tuple(r) for r in conn.execute(select(t.c.incident_pk, t.c.incident_date))}
                )
                for table, t in (("labels", _current), ("classes", table_of(Classification)))
            }
        assert copied == {
            "labels": [(1, dt.date(2024, 5, 6)), (2, None)],
            "classes": [(1, dt.date(2024, 5, 6)), (2, None)],
        }
    finally:
        store.close()


def _dates(store: Store) -> dict[str, list[tuple[object, ...]]]:
    """(incident_pk, incident_date) of every row that copies the incident's date."""
    tables = {
        "roles": table_of(IncidentEntity),
        "classes": table_of(Classification),
        "labels": _current,
    }
    with store.engine.connect() as conn:
        return {
            name: sorted(
                {tuple(r) for r in conn.execute(select(t.c.incident_pk, t.c.incident_date))}
            )
            for name, t in tables.items()
        }


def test_every_writer_keeps_the_incident_date_copies(db_url: str) -> None:
    may, june = dt.date(2024, 5, 1), dt.date(2024, 6, 1)
    store = Store(db_url)
    incidents, roles, classes = (
        table_of(Incident),
        table_of(IncidentEntity),
        table_of(Classification),
    )
    with store.engine.begin() as conn:
        conn.execute(
            insert(incidents),
            [
                {"id": 1, "incident_id": 1, "title": "t1", "date": may},
                {"id": 2, "incident_id": 2, "title": "t2", "date": None},
            ],
        )
        conn.execute(insert(table_of(Entity)), [{"id": 1, "slug": "acme", "name": "Acme"}])
        # Raw inserts that never mention the copy: the database fills it.
        conn.execute(
            insert(roles),
            [
                {"incident_pk": 1, "entity_pk": 1, "role": "developer"},
                {"incident_pk": 2, "entity_pk": 1, "role": "deployer"},
            ],
        )
        conn.execute(
            insert(classes),
            [
                {
                    "incident_pk": pk,
                    "namespace": "MIT",
                    "attribute": "Entity",
                    "value": "AI",
                    "source_kind": "imported_machine",
                }
                for pk in (1, 2)
            ],
        )
    store.write_model_tags("fm", "1", {1: [ModelTag("mode", "agentic", 0.8, None)], 2: []})
    assert _dates(store) == {
        "roles": [(1, may), (2, None)],
        "classes": [(1, may), (2, None)],
        "labels": [(1, may), (2, None)],
    }
    # A corrected date reaches every copy; a row moved to another incident takes its date.
    with store.engine.begin() as conn:
        conn.execute(update(incidents).where(incidents.c.id == 2).values(date=june))
        conn.execute(update(incidents).where(incidents.c.id == 1).values(date=None))
        conn.execute(
            update(classes)
            .where(classes.c.incident_pk == 1, classes.c.namespace == "MIT")
            .values(incident_pk=2, value="Human")
        )
        conn.execute(update(roles).where(roles.c.incident_pk == 1).values(incident_pk=2))
    assert _dates(store) == {
        "roles": [(2, june)],
        "classes": [(1, None), (2, june)],
        "labels": [(1, None), (2, june)],
    }
    store.close()
