"""The rows the write path makes of a report, and the hash that keeps re-imports idempotent."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from incidentdb._records import EntityRecord, ReportRecord
from incidentdb._writer import ReportRows, _json_text, _sqlite_day


def test_a_known_report_keeps_its_hash() -> None:
    record = ReportRecord(
        report_number=7,
        url="https://news.example/é",
        title='A "bot"\tsaid\n\x01',
        authors=["Ana"],
        date_published=dt.date(2024, 2, 29),
        is_incident_report=True,
    )
    # Stores keep this hash: a change would make every report of a re-import "updated".
    assert record.content_hash() == "a6c93cdaf4a143f5263025c98ddda9e4"
    assert ReportRows(sqlite=True)(record)[-1] == record.content_hash()


def test_rows_are_in_each_drivers_form() -> None:
    record = ReportRecord(
        report_number=7,
        url="https://News.example/a?utm_source=x",
        text="**Bold** text",
        tags=["a", "b"],
        date_published=dt.date(2024, 2, 29),
    )
    sqlite_row = ReportRows(sqlite=True)(record)
    postgres_row = ReportRows(sqlite=False)(record)
    assert sqlite_row[7] == "Bold text"
    assert sqlite_row[10] == "2024-02-29"
    assert postgres_row[10] == dt.date(2024, 2, 29)
    assert sqlite_row[16] == postgres_row[16] == '["a","b"]'
    assert sqlite_row[8] == "[]"
    assert sqlite_row[-1] == postgres_row[-1] == record.content_hash()


def test_stubs_and_slug_entities_link_to_their_own_rows(db_url: str) -> None:
    # Report 2 and entity "acme" are stored first; reports 1 and 3 and the other slugs are not.
    from sqlalchemy import select

    from incidentdb import EntityRole, IncidentRecord, Store
    from incidentdb._models import Entity, IncidentEntity, IncidentReport, Report, table_of
    from incidentdb._writer import IngestWriter

    reports, links = table_of(Report), table_of(IncidentReport)
    entities, roles = table_of(Entity), table_of(IncidentEntity)
    with Store(db_url) as store, store.engine.begin() as conn:
        writer = IngestWriter(conn)
        make_row = ReportRows(sqlite=store.dialect == "sqlite")
        writer.report_rows([make_row(ReportRecord(report_number=2, title="Two", tags=["x"]))])
        writer.entities([EntityRecord(slug="acme", name="ACME Inc.")])
        incident = IncidentRecord(
            incident_id=10,
            title="Ten",
            date=dt.date(2024, 2, 29),
            report_numbers=[3, 2, 1, 3],
            entities={EntityRole.DEPLOYER: ["beta-corp", "acme"], EntityRole.HARMED: ["c"]},
        )
        writer.incidents([incident])
        linked = conn.execute(
            select(reports.c.report_number, reports.c.is_stub, reports.c.authors, reports.c.tags)
            .join(links, links.c.report_pk == reports.c.id)
            .order_by(reports.c.report_number)
        ).all()
        named = conn.execute(
            select(
                entities.c.slug,
                entities.c.name,
                roles.c.role,
                roles.c.position,
                roles.c.incident_date,
            )
            .join(roles, roles.c.entity_pk == entities.c.id)
            .order_by(roles.c.role, roles.c.position)
        ).all()
    assert [tuple(row) for row in linked] == [
        (1, True, [], []),
        (2, False, [], ["x"]),
        (3, True, [], []),
    ]
    assert [tuple(row) for row in named] == [
        ("beta-corp", "Beta Corp", "deployer", 0, dt.date(2024, 2, 29)),
        ("acme", "ACME Inc.", "deployer", 1, dt.date(2024, 2, 29)),
        ("c", "C", "harmed", 0, dt.date(2024, 2, 29)),
    ]
    assert writer.counts["reports"] == {"added": 1, "stubs": 2}
    assert writer.counts["entities"] == {"added": 1, "added_from_slug": 2}


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.lists(st.text()),
        st.lists(st.one_of(st.text(), st.integers(), st.none(), st.booleans())),
        st.lists(st.dictionaries(st.text(), st.text()), max_size=3),
    )
)
def test_list_columns_are_the_json_encoders_text(value: list[object]) -> None:
    # The hand-joined list of strings must be byte for byte what json.dumps writes: stored
    # hashes and exports compare this text.
    assert _json_text(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@given(st.one_of(st.none(), st.dates()))
def test_days_are_iso_text_on_sqlite(value: dt.date | None) -> None:
    assert _sqlite_day(value) == (None if value is None else value.isoformat())
    assert _sqlite_day(value) == (None if value is None else value.isoformat())  # remembered
