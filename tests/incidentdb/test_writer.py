"""The write path's own helpers: the fast report hash must be the one stored before it."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from incidentdb._records import ReportRecord
from incidentdb._writer import ReportRows, report_hash

texts = st.none() | st.text()
dates = st.none() | st.dates(min_value=dt.date(1, 1, 1))
lists = st.lists(st.text(), max_size=3)
reports = st.builds(
    ReportRecord,
    report_number=st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1),
    url=texts,
    source_domain=texts,
    title=texts,
    description=texts,
    text=texts,
    plain_text=texts,
    authors=lists,
    submitters=lists,
    date_published=dates,
    date_downloaded=dates,
    date_submitted=dates,
    date_modified=dates,
    language=texts,
    image_url=texts,
    tags=lists,
    is_incident_report=st.none() | st.booleans(),
    inputs_outputs=lists,
    editor_notes=texts,
)


@settings(max_examples=300)
@given(reports)
def test_report_hash_is_the_pydantic_content_hash(record: ReportRecord) -> None:
    assert report_hash(record) == record.content_hash()


def test_report_hash_names_every_field_of_the_record() -> None:
    # report_hash lists the fields by hand: a new field must be added there (and here).
    assert list(ReportRecord.model_fields) == [
        "report_number",
        "url",
        "source_domain",
        "title",
        "description",
        "text",
        "plain_text",
        "authors",
        "submitters",
        "date_published",
        "date_downloaded",
        "date_submitted",
        "date_modified",
        "language",
        "image_url",
        "tags",
        "is_incident_report",
        "inputs_outputs",
        "editor_notes",
    ]


def test_a_known_report_keeps_its_hash() -> None:
    record = ReportRecord(
        report_number=7,
        url="https://news.example/é",
        title='A "bot"\tsaid\n\x01',
        authors=["Ana"],
        date_published=dt.date(2024, 2, 29),
        is_incident_report=True,
    )
    assert report_hash(record) == record.content_hash() == "a6c93cdaf4a143f5263025c98ddda9e4"


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
