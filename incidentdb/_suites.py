"""Suites of test cases in the store: save (idempotently), read back, list.

Saving a suite makes its stored cases exactly the given ones: cases already stored under the
same content-hash id are left untouched, new ones are added and ones no longer generated are
removed, all in one transaction. Generating the same suite twice therefore writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from incidentdb._cases import TestCase
from incidentdb._errors import NotFoundError
from incidentdb._models import Incident, table_of, utc_now
from incidentdb._models_generators import Case, CaseIncident, Suite

__all__ = ["SuiteResult", "iter_suite_cases", "list_suites", "save_suite", "suite_row"]

suites_t = table_of(Suite)
cases_t = table_of(Case)
case_incidents_t = table_of(CaseIncident)
incidents_t = table_of(Incident)

_BATCH = 500


@dataclass(frozen=True)
class SuiteResult:
    """What saving a suite did."""

    suite: str
    created: bool
    added: int
    unchanged: int
    removed: int

    @property
    def total(self) -> int:
        return self.added + self.unchanged


def save_suite(
    engine: Engine,
    name: str,
    cases: Iterable[TestCase],
    *,
    params: dict[str, Any] | None = None,
    description: str | None = None,
) -> SuiteResult:
    """Make suite `name` hold exactly `cases` (created when missing), in one transaction."""
    wanted: dict[str, TestCase] = {}
    for case in cases:
        wanted.setdefault(case.id, case)
    with engine.begin() as conn:
        suite_pk, created = _suite_pk(conn, name, params or {}, description)
        existing = dict(
            conn.execute(
                select(cases_t.c.case_id, cases_t.c.id).where(cases_t.c.suite_pk == suite_pk)
            ).all()
        )
        stale = [pk for case_id, pk in existing.items() if case_id not in wanted]
        for start in range(0, len(stale), _BATCH):
            conn.execute(delete(cases_t).where(cases_t.c.id.in_(stale[start : start + _BATCH])))
        new = [case for case_id, case in sorted(wanted.items()) if case_id not in existing]
        _insert_cases(conn, suite_pk, new)
        if new or stale:
            conn.execute(
                update(suites_t).where(suites_t.c.id == suite_pk).values(updated_at=utc_now())
            )
    return SuiteResult(
        suite=name,
        created=created,
        added=len(new),
        unchanged=len(wanted) - len(new),
        removed=len(stale),
    )


def _suite_pk(
    conn: Connection, name: str, params: dict[str, Any], description: str | None
) -> tuple[int, bool]:
    row = conn.execute(
        select(suites_t.c.id, suites_t.c.params).where(suites_t.c.name == name)
    ).first()
    if row is None:
        now = utc_now()
        pk = conn.execute(
            insert(suites_t)
            .values(
                name=name, params=params, description=description, created_at=now, updated_at=now
            )
            .returning(suites_t.c.id)
        ).scalar_one()
        return int(pk), True
    if row.params != params:
        conn.execute(update(suites_t).where(suites_t.c.id == row.id).values(params=params))
    return int(row.id), False


def _insert_cases(conn: Connection, suite_pk: int, cases: Sequence[TestCase]) -> None:
    if not cases:
        return
    wanted_ids = sorted({i for case in cases for i in case.provenance.incident_ids})
    incident_pks: dict[int, int] = {}
    for start in range(0, len(wanted_ids), _BATCH):
        chunk = wanted_ids[start : start + _BATCH]
        incident_pks.update(
            conn.execute(
                select(incidents_t.c.incident_id, incidents_t.c.id).where(
                    incidents_t.c.incident_id.in_(chunk)
                )
            ).all()
        )
    now = utc_now()
    for start in range(0, len(cases), _BATCH):
        chunk_cases = cases[start : start + _BATCH]
        conn.execute(
            insert(cases_t),
            [
                {
                    "suite_pk": suite_pk,
                    "case_id": case.id,
                    "kind": case.kind,
                    "generator": case.provenance.generator,
                    "schema_version": case.schema_version,
                    "body": case.model_dump(mode="json"),
                    "created_at": now,
                }
                for case in chunk_cases
            ],
        )
        pks = dict(
            conn.execute(
                select(cases_t.c.case_id, cases_t.c.id).where(
                    cases_t.c.suite_pk == suite_pk,
                    cases_t.c.case_id.in_([c.id for c in chunk_cases]),
                )
            ).all()
        )
        links = {
            (pks[case.id], incident_pks[i])
            for case in chunk_cases
            for i in case.provenance.incident_ids
            if i in incident_pks
        }
        if links:
            conn.execute(
                insert(case_incidents_t),
                [{"case_pk": c, "incident_pk": i} for c, i in sorted(links)],
            )


def suite_row(conn: Connection, name: str) -> dict[str, Any]:
    """The suite's row with its case count.

    Raises:
        NotFoundError: no suite of that name.
    """
    row = conn.execute(select(suites_t).where(suites_t.c.name == name)).first()
    if row is None:
        known = conn.execute(select(suites_t.c.name).order_by(suites_t.c.name).limit(10))
        names = ", ".join(known.scalars()) or "none yet"
        raise NotFoundError(
            f"no suite named {name!r} (suites: {names})",
            hint="Build one with `incidentdb generate --suite NAME`.",
        )
    count = conn.execute(
        select(func.count()).select_from(cases_t).where(cases_t.c.suite_pk == row.id)
    ).scalar_one()
    return {
        "name": row.name,
        "description": row.description,
        "params": row.params,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "cases": int(count),
    }


def iter_suite_cases(engine: Engine, name: str) -> Iterator[TestCase]:
    """The cases of suite `name`, ordered by case id, read in batches.

    Raises:
        NotFoundError: no suite of that name.
    """
    with engine.connect() as conn:
        suite_row(conn, name)
        suite_pk = conn.execute(select(suites_t.c.id).where(suites_t.c.name == name)).scalar_one()
        after = ""
        while True:
            rows = conn.execute(
                select(cases_t.c.case_id, cases_t.c.body)
                .where(cases_t.c.suite_pk == suite_pk, cases_t.c.case_id > after)
                .order_by(cases_t.c.case_id)
                .limit(_BATCH)
            ).all()
            if not rows:
                return
            for _case_id, body in rows:
                yield TestCase.model_validate(body)
            after = rows[-1].case_id


def list_suites(engine: Engine) -> list[dict[str, Any]]:
    """Every suite with its case count, by name."""
    counts = (
        select(cases_t.c.suite_pk, func.count().label("n")).group_by(cases_t.c.suite_pk).subquery()
    )
    with engine.connect() as conn:
        return [
            {"name": name, "cases": int(n or 0), "created_at": created, "updated_at": updated}
            for name, n, created, updated in conn.execute(
                select(suites_t.c.name, counts.c.n, suites_t.c.created_at, suites_t.c.updated_at)
                .outerjoin(counts, counts.c.suite_pk == suites_t.c.id)
                .order_by(suites_t.c.name)
            )
        ]
