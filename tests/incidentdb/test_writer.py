"""The rows the write path makes of a report, and the hash that keeps re-imports idempotent."""

from __future__ import annotations

import datetime as dt

from incidentdb._records import ReportRecord
from incidentdb._writer import ReportRows


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
