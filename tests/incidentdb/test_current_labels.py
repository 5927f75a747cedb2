"""`current_labels` is kept in step with every write of failure-mode labels."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, insert, select

from incidentdb import Store
from incidentdb._labelling import HumanDecision, ModelTag
from incidentdb._labels import _computed_labels, refresh_current_labels
from incidentdb._models import Classification, Incident, table_of
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

    revision = importlib.import_module("incidentdb.migrations.versions.0006_current_labels")
    store = Store(db_url, migrate=False)
    try:
        store.upgrade(revision.down_revision)
        with store.engine.begin() as conn:
            conn.execute(
                insert(table_of(Incident)),
                [{"id": i, "incident_id": i, "title": f"t{i}"} for i in (1, 2)],
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
        store.upgrade(revision.revision)
        assert _rows(store) == sorted(
            [(1, "mode", "agentic", "model", 0.6), (2, "technique", "a.b", "human", 1.0)],
            key=repr,
        )
    finally:
        store.close()
