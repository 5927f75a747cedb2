"""generate_suite on a labelled store (SQLite and PostgreSQL): selection, idempotence, errors."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, select

from generators import generate_suite
from incidentdb import NotFoundError, Store, StoreError
from incidentdb._labels import refresh_current_labels
from incidentdb._models import Classification, Incident, table_of


def test_generate_is_deterministic_and_idempotent(labelled_store: Store) -> None:
    first = generate_suite(labelled_store, "nightly", variants=1, seed=5)
    assert first.incidents == 6
    assert first.by_kind == {
        "agentic": 4,
        "distribution_shift": 4,
        "multi_turn": 4,
        "single_turn": 8,
    }
    assert (first.suite.created, first.suite.added, first.skipped) == (True, 20, [])
    stored = [c.to_json() for c in labelled_store.suite_cases("nightly")]

    again = generate_suite(labelled_store, "nightly", variants=1, seed=5)
    assert (again.suite.created, again.suite.added, again.suite.unchanged) == (False, 0, 20)
    assert [c.to_json() for c in labelled_store.suite_cases("nightly")] == stored

    fewer = generate_suite(labelled_store, "nightly", variants=0, seed=5)
    assert (fewer.suite.added, fewer.suite.unchanged, fewer.suite.removed) == (0, 14, 6)
    assert labelled_store.get_suite("nightly")["params"]["variants"] == 0


def test_selection_by_mode_incident_and_where(labelled_store: Store) -> None:
    agentic = generate_suite(labelled_store, "a", modes=["agentic"])
    assert agentic.by_kind == {"agentic": 4}
    assert {i for c in labelled_store.suite_cases("a") for i in c.provenance.incident_ids} == {17}

    explicit = generate_suite(labelled_store, "b", incident_ids=[3, 12])
    assert explicit.by_kind == {"single_turn": 1}
    assert explicit.skipped == ["incident 3: no failure-mode label (classify it first)"]

    searched = generate_suite(labelled_store, "c", where=["search=prompt injection"])
    assert searched.incidents == 2
    dated = generate_suite(labelled_store, "d", where=["since=2024-01-01", "deployer=Kindred AI"])
    assert dated.by_kind == {"multi_turn": 1}


def test_labels_come_from_the_effective_label_query(labelled_store: Store) -> None:
    # A person removes the model's "adversarial" label from incident 17: no single-turn case.
    incidents = table_of(Incident)
    with labelled_store.engine.begin() as conn:
        pk = conn.execute(select(incidents.c.id).where(incidents.c.incident_id == 17)).scalar()
        conn.execute(
            insert(table_of(Classification)),
            [
                {
                    "incident_pk": pk,
                    "namespace": "failure_modes",
                    "attribute": "mode",
                    "value": "adversarial",
                    "value_index": 0,
                    "source_kind": "human",
                    "confidence": 0.0,
                    "author": "ed",
                }
            ],
        )
        # Raw SQL writers refresh the materialised labels themselves.
        refresh_current_labels(conn, [pk])
    assert generate_suite(labelled_store, "x", incident_ids=[17]).by_kind == {"agentic": 4}


def test_bad_requests_name_the_problem(labelled_sqlite: Store) -> None:
    with pytest.raises(StoreError, match=r"--where 'colour=red' is not KEY=VALUE"):
        generate_suite(labelled_sqlite, "x", where=["colour=red"])
    with pytest.raises(StoreError, match=r"'yesterday' is not a YYYY-MM-DD date"):
        generate_suite(labelled_sqlite, "x", where=["since=yesterday"])
    with pytest.raises(StoreError, match="unknown failure mode 'chaos'"):
        generate_suite(labelled_sqlite, "x", modes=["chaos"])
    with pytest.raises(StoreError, match="either incident ids or --where filters, not both"):
        generate_suite(labelled_sqlite, "x", incident_ids=[12], where=["since=2020-01-01"])
    with pytest.raises(NotFoundError, match="no incident 4242"):
        generate_suite(labelled_sqlite, "x", incident_ids=[4242])
    assert labelled_sqlite.list_suites() == []
