"""Which failure-mode labels queries believe: human decisions over the newest classifier run."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import insert, select

from incidentdb import Store
from incidentdb._labels import (
    LABEL_NAMESPACE,
    MODE_ATTRIBUTE,
    classified_incidents,
    effective_labels,
    refresh_current_labels,
)
from incidentdb._models import Classification, Incident, table_of

T0 = dt.datetime(2026, 1, 1)


def _row(pk: int, value: str | None, kind: str, minutes: int, **extra: object) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(("model_name", "model_version", "confidence", "author"))
    return row | {
        "incident_pk": pk,
        "namespace": LABEL_NAMESPACE,
        "attribute": MODE_ATTRIBUTE,
        "value": value,
        "value_index": 0,
        "source_kind": kind,
        "created_at": T0 + dt.timedelta(minutes=minutes),
        **extra,
    }


def test_effective_labels_prefer_human_decisions_and_the_newest_model(db_url: str) -> None:
    store = Store(db_url)
    incidents = table_of(Incident)
    with store.engine.begin() as conn:
        conn.execute(
            insert(incidents), [{"id": i, "incident_id": i, "title": f"t{i}"} for i in range(1, 6)]
        )
        old = {"model_name": "fm", "model_version": "1"}
        new = {"model_name": "fm", "model_version": "2"}
        conn.execute(
            insert(table_of(Classification)),
            [
                # 1: v1 said misuse, v2 says agentic + multi_turn; a person removed multi_turn.
                _row(1, "misuse", "model", 0, confidence=0.9, **old),
                _row(1, "agentic", "model", 10, confidence=0.8, **new),
                _row(1, "multi_turn", "model", 10, confidence=0.6, **new),
                _row(1, "multi_turn", "human", 20, confidence=0.0, author="ed"),
                # 2: a person added adversarial, then removed it, then added it again.
                _row(2, "adversarial", "human", 1, confidence=1.0, author="ed"),
                _row(2, "adversarial", "human", 2, confidence=0.0, author="ed"),
                _row(2, "adversarial", "human", 3, confidence=1.0, author="ed"),
                # 3: classified, nothing found.
                _row(3, None, "model", 0, **new),
                # 4: only an imported classification in another namespace.
                {**_row(4, "x", "imported_human", 0), "namespace": "MIT"},
                # 5: a person removed a label the model never gave.
                _row(5, "misuse", "human", 0, confidence=0.0, author="ed"),
            ],
        )
        # Raw SQL writers must refresh the materialised labels themselves.
        refresh_current_labels(conn)
    labels = effective_labels()
    with store.engine.connect() as conn:
        got = sorted(
            tuple(r)
            for r in conn.execute(
                select(labels.c.incident_pk, labels.c.value, labels.c.source_kind)
            )
        )
        classified = sorted(conn.execute(select(classified_incidents().c.incident_pk)).scalars())
    store.close()
    assert got == [(1, "agentic", "model"), (2, "adversarial", "human")]
    assert classified == [1, 2, 3, 5]
