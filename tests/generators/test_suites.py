"""Suites in the store: saved idempotently, read back in order, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import func, insert, select

from incidentdb import Message, NotFoundError, Provenance, Store, TestCase
from incidentdb._models import Incident, table_of
from incidentdb._models_generators import CaseIncident


def _case(n: int, incidents: list[int]) -> TestCase:
    return TestCase(
        kind="single_turn",
        title=f"case {n}",
        messages=[Message(role="user", content=f"prompt {n}")],
        expected_behavior="refuses",
        provenance=Provenance(incident_ids=incidents, generator="single_turn.v1", seed=n),
    )


def test_save_suite_is_idempotent_and_syncs(db_url: str) -> None:
    with Store(db_url) as store:
        with store.engine.begin() as conn:
            conn.execute(
                insert(table_of(Incident)), [{"incident_id": i, "title": f"t{i}"} for i in (1, 2)]
            )
        cases = [_case(1, [1]), _case(2, [1, 2]), _case(3, [99])]
        first = store.save_suite("nightly", cases, params={"seed": 0})
        assert (first.created, first.added, first.unchanged, first.removed) == (True, 3, 0, 0)
        again = store.save_suite("nightly", list(reversed(cases)), params={"seed": 0})
        assert (again.created, again.added, again.unchanged, again.removed) == (False, 0, 3, 0)
        changed = store.save_suite("nightly", [cases[0], _case(4, [2])], params={"seed": 1})
        assert (changed.added, changed.unchanged, changed.removed) == (1, 1, 2)

        got = list(store.suite_cases("nightly"))
        assert got == sorted([cases[0], _case(4, [2])], key=lambda c: c.id)
        info = store.get_suite("nightly")
        assert (info["cases"], info["params"]) == (2, {"seed": 1})
        assert [s["name"] for s in store.list_suites()] == ["nightly"]
        with store.engine.connect() as conn:
            links = conn.execute(select(func.count()).select_from(table_of(CaseIncident)))
            assert links.scalar_one() == 2  # case 1 -> incident 1, case 4 -> incident 2


def test_unknown_suite(sqlite_url: str) -> None:
    with Store(sqlite_url) as store:
        store.save_suite("a", [_case(1, [])])
        with pytest.raises(NotFoundError, match=r"no suite named 'b' \(suites: a\)"):
            list(store.suite_cases("b"))
