"""Unit tests of the AIID snapshot parsers, on small invented files in the real formats."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import bson
import pytest

from incidentdb._errors import SnapshotFormatError
from incidentdb._records import (
    ClassificationRecord,
    DuplicateRecord,
    EntityRecord,
    EntityRole,
    IncidentRecord,
    ReportRecord,
    SourceKind,
    SubmissionRecord,
    TaxonomyRecord,
    TranslationRecord,
)
from ingest.aiid.parse import (
    classification_from_document,
    classification_layout,
    classifications_from_csv,
    duplicate_from_document,
    duplicates_from_csv,
    entity_from_document,
    incident_from_document,
    incidents_from_csv,
    iter_bson_documents,
    iter_csv_rows,
    quickadd_from_csv,
    quickadd_from_document,
    report_from_document,
    reports_from_csv,
    submission_from_document,
    submissions_from_csv,
    taxonomy_from_document,
    translation_from_document,
)

FIXTURES = Path(__file__).parent / "fixtures"


def stream(text: str | bytes) -> io.BytesIO:
    return io.BytesIO(text.encode() if isinstance(text, str) else text)


def fixture(name: str) -> io.BytesIO:
    return io.BytesIO((FIXTURES / name).read_bytes())


def bson_stream(*docs: dict[str, Any]) -> io.BytesIO:
    return io.BytesIO(b"".join(bson.encode(doc) for doc in docs))


def classifications(name: str, taxa: dict[str, TaxonomyRecord] | None = None) -> list:
    return list(classifications_from_csv(fixture(name), name, taxa or {}))


# --- iter_csv_rows --------------------------------------------------------------------------


def test_csv_rows_are_numbered_with_the_header_as_row_1() -> None:
    rows = list(iter_csv_rows(stream('a,b\n1,"x\ny"\n2,z\n'), "t.csv"))
    assert rows == [(2, {"a": "1", "b": "x\ny"}), (3, {"a": "2", "b": "z"})]


def test_csv_rows_tolerate_bom_crlf_and_blank_lines() -> None:
    data = b'\xef\xbb\xbfa,b\r\n1,"two\r\nlines"\r\n\r\n3,4\r\n'
    rows = list(iter_csv_rows(stream(data), "t.csv"))
    assert rows == [(2, {"a": "1", "b": "two\r\nlines"}), (4, {"a": "3", "b": "4"})]


def test_csv_repeated_header_names_get_a_counter() -> None:
    rows = list(iter_csv_rows(stream("x,AI System,AI System,AI System\n1,a,b,c\n"), "t.csv"))
    assert rows == [(2, {"x": "1", "AI System": "a", "AI System (2)": "b", "AI System (3)": "c"})]


def test_csv_field_larger_than_the_csv_module_default() -> None:
    big = "é" * 300_000  # 600 kB, over csv's default 128 KiB limit and the 1 MiB chunking
    data = f'a,b\n1,"{big}"\n2,"{big}"\n'.encode()
    rows = list(iter_csv_rows(stream(data), "t.csv"))
    assert [number for number, _ in rows] == [2, 3]
    assert rows[1][1]["b"] == big


def test_csv_line_separators_inside_unquoted_fields_stay_in_the_field() -> None:
    rows = list(iter_csv_rows(stream("a,b\nx\u2028y,z\n"), "t.csv"))
    assert rows == [(2, {"a": "x\u2028y", "b": "z"})]


def test_csv_invalid_utf8_names_file_row_and_byte() -> None:
    data = b"incident_id,title\n1,fine\n2,bad \xff here\n"
    with pytest.raises(SnapshotFormatError) as caught:
        list(iter_csv_rows(stream(data), "incidents.csv"))
    assert str(caught.value) == "incidents.csv, row 3: invalid UTF-8 at byte 31"
    assert data[31:32] == b"\xff"
    assert (caught.value.file, caught.value.row) == ("incidents.csv", 3)


def test_csv_invalid_utf8_inside_a_multiline_field_names_its_row() -> None:
    data = b'a,b\n1,"one\ntwo"\n2,"three\nfour \xc3( five"\n'
    with pytest.raises(SnapshotFormatError, match=r"^t\.csv, row 3: invalid UTF-8 at byte 30$"):
        list(iter_csv_rows(stream(data), "t.csv"))


def test_csv_invalid_utf8_after_the_first_chunk() -> None:
    rows = "".join(f'{n},"line one\nline two {n}"\n' for n in range(40_000)).encode()
    data = b"a,b\n" + rows + b"40000,\xe9t\xe9\n"
    assert len(data) > 1 << 20
    with pytest.raises(SnapshotFormatError) as caught:
        list(iter_csv_rows(stream(data), "t.csv"))
    assert str(caught.value) == f"t.csv, row 40002: invalid UTF-8 at byte {len(data) - 4}"


def test_csv_invalid_utf8_in_the_header_is_row_1() -> None:
    with pytest.raises(SnapshotFormatError, match=r"^t\.csv, row 1: invalid UTF-8 at byte 2$"):
        list(iter_csv_rows(stream(b"ab\x80,c\n1,2\n"), "t.csv"))


def test_csv_invalid_utf8_offset_counts_the_bom() -> None:
    with pytest.raises(SnapshotFormatError, match=r"row 2: invalid UTF-8 at byte 5$"):
        list(iter_csv_rows(stream(b"\xef\xbb\xbfa\n\xfe\n"), "t.csv"))


def test_csv_unknown_column_is_named() -> None:
    data = "report_number,title,Foo\n1,x,y\n"
    with pytest.raises(SnapshotFormatError) as caught:
        list(iter_csv_rows(stream(data), "r.csv", known_columns={"report_number", "title"}))
    assert str(caught.value) == (
        "r.csv, row 1: unknown column 'Foo' (expected one of report_number, title)"
    )


def test_csv_wrong_field_count_names_the_row() -> None:
    data = 'a,b\n1,2\n3,"4\n5",6\n'
    with pytest.raises(SnapshotFormatError) as caught:
        list(iter_csv_rows(stream(data), "t.csv"))
    assert str(caught.value) == "t.csv, row 3: expected 2 fields as in the header, found 3"


def test_csv_unterminated_quote_is_an_error() -> None:
    with pytest.raises(SnapshotFormatError, match=r"^t\.csv, row 3: malformed CSV: "):
        list(iter_csv_rows(stream('a,b\n1,2\n3,"never closed\n'), "t.csv"))


def test_csv_empty_file_is_an_error() -> None:
    with pytest.raises(SnapshotFormatError, match=r"^t\.csv: empty file: expected a header row$"):
        list(iter_csv_rows(stream(b""), "t.csv"))


def test_csv_backslash_escapes_are_detected_per_file() -> None:
    doubled = 'a,b\n1,"say ""hi"" now"\n'
    escaped = 'a,b\n1,"say \\"hi\\" now"\n'
    expected = [(2, {"a": "1", "b": 'say "hi" now'})]
    assert list(iter_csv_rows(stream(doubled), "t.csv")) == expected
    assert list(iter_csv_rows(stream(escaped), "t.csv")) == expected


def test_csv_doubled_quotes_keep_backslashes_literal() -> None:
    data = 'a\n"C:\\temp\\ and ""quoted"" \\"\n'
    assert list(iter_csv_rows(stream(data), "t.csv")) == [(2, {"a": 'C:\\temp\\ and "quoted" \\'})]


# --- BSON -----------------------------------------------------------------------------------


def test_bson_documents_stream_in_order() -> None:
    docs = [{"report_number": n, "title": f"t{n}"} for n in (1, 2, 3)]
    assert list(iter_bson_documents(bson_stream(*docs), "x.bson")) == docs


def test_bson_empty_file_has_no_documents() -> None:
    assert list(iter_bson_documents(stream(b""), "x.bson")) == []


def test_bson_truncated_document_names_document_and_sizes() -> None:
    first, second = bson.encode({"a": 1}), bson.encode({"text": "x" * 100})
    data = first + second[:40]
    with pytest.raises(SnapshotFormatError) as caught:
        list(iter_bson_documents(stream(data), "aiidprod/reports.bson"))
    assert str(caught.value) == (
        f"aiidprod/reports.bson, document 2: truncated document "
        f"(declared {len(second)} bytes, 40 left)"
    )
    assert (caught.value.file, caught.value.row) == ("aiidprod/reports.bson", 2)


def test_bson_truncated_size_field() -> None:
    data = bson.encode({"a": 1}) + b"\x20\x00"
    with pytest.raises(SnapshotFormatError, match=r"document 2: truncated document \(size field"):
        list(iter_bson_documents(stream(data), "x.bson"))


def test_bson_corrupt_document_names_it() -> None:
    good = bson.encode({"a": 1})
    bad = bytearray(bson.encode({"b": "text"}))
    bad[-1] = 0x01  # the terminating NUL
    with pytest.raises(SnapshotFormatError, match=r"^x\.bson, document 2: corrupt document: "):
        list(iter_bson_documents(stream(good + bytes(bad) + good), "x.bson"))


def test_bson_impossible_size_is_corrupt_without_reading_it() -> None:
    data = (2**30).to_bytes(4, "little") + b"\x00" * 8
    with pytest.raises(SnapshotFormatError, match="document 1: corrupt document: impossible size"):
        list(iter_bson_documents(stream(data), "x.bson"))


# --- incidents ------------------------------------------------------------------------------


def test_incidents_csv() -> None:
    incidents = list(incidents_from_csv(fixture("gen2026/incidents.csv"), "incidents.csv"))
    assert [i.incident_id for i in incidents] == [1, 2, 4]
    first = incidents[0]
    assert first == IncidentRecord(
        incident_id=1,
        date=dt.date(2021, 3, 4),
        title="Delivery Robot Blocks Crosswalk",
        description='A delivery robot built by Example Labs "waited" on a crosswalk for ten '
        "minutes.",
        report_numbers=[10, 11, 12],
        entities={
            EntityRole.DEPLOYER: ["acme-corp"],
            EntityRole.DEVELOPER: ["acme-corp", "example-labs"],
            EntityRole.HARMED: ["pedestrians"],
        },
    )
    assert EntityRole.HARMED not in incidents[1].entities  # "[]" leaves the role out
    assert incidents[2].report_numbers == []


def test_incidents_csv_unparseable_date_names_row_and_column() -> None:
    data = "incident_id,date,title\n1,2020-01-01,a\n2,last spring,b\n"
    with pytest.raises(SnapshotFormatError) as caught:
        list(incidents_from_csv(stream(data), "incidents.csv"))
    assert str(caught.value) == "incidents.csv, row 3: date: unparseable date 'last spring'"


def test_incidents_csv_bad_report_list() -> None:
    data = 'incident_id,title,reports\n1,a,"[1,2"\n'
    with pytest.raises(SnapshotFormatError, match=r"row 2: reports: invalid JSON list '\[1,2'"):
        list(incidents_from_csv(stream(data), "incidents.csv"))


def test_incidents_csv_missing_column() -> None:
    with pytest.raises(SnapshotFormatError, match=r"row 1: missing column 'title'"):
        list(incidents_from_csv(stream("incident_id,date\n1,2020-01-01\n"), "incidents.csv"))


def test_incidents_csv_unknown_column() -> None:
    data = "incident_id,title,Alleged bystander\n1,a,b\n"
    with pytest.raises(SnapshotFormatError, match=r"row 1: unknown column 'Alleged bystander'"):
        list(incidents_from_csv(stream(data), "incidents.csv"))


def test_incident_document() -> None:
    doc = {
        "_id": bson.ObjectId(),
        "incident_id": 7,
        "date": "2024-02-03",
        "title": "Model Leaks Data",
        "description": "A model leaked data.",
        "editor_notes": "Merged from two submissions.",
        "reports": [70, 71],
        "Alleged deployer of AI system": ["acme-corp"],
        "Alleged developer of AI system": [],
        "Alleged harmed or nearly harmed parties": ["acme-users"],
        "implicated_systems": ["acme-chat"],
        "epoch_date_modified": 1706918400,
        "embedding": {"vector": [0.1, 0.2], "from_reports": [70]},
    }
    assert incident_from_document(doc, "aiidprod/incidents.bson", 1) == IncidentRecord(
        incident_id=7,
        date=dt.date(2024, 2, 3),
        title="Model Leaks Data",
        description="A model leaked data.",
        editor_notes="Merged from two submissions.",
        report_numbers=[70, 71],
        entities={
            EntityRole.DEPLOYER: ["acme-corp"],
            EntityRole.HARMED: ["acme-users"],
            EntityRole.IMPLICATED_SYSTEM: ["acme-chat"],
        },
    )


def test_incident_document_without_title() -> None:
    with pytest.raises(SnapshotFormatError) as caught:
        incident_from_document({"incident_id": 7}, "aiidprod/incidents.bson", 12)
    assert str(caught.value) == "aiidprod/incidents.bson, document 12: title: missing"


# --- reports --------------------------------------------------------------------------------


def test_reports_csv_doubled_and_backslash_quotes_give_the_same_records() -> None:
    doubled = list(reports_from_csv(fixture("reports_doubled.csv"), "reports.csv"))
    escaped = list(reports_from_csv(fixture("reports_backslash.csv"), "reports.csv"))
    assert doubled == escaped
    assert doubled[0] == ReportRecord(
        report_number=10,
        url="https://example.org/r10",
        source_domain="example.org",
        title='Robot Says "Wait"',
        description='The robot "waited".',
        text='The robot said "please wait", then stood still.\nA backslash \\ stays.',
        authors=["Jane Roe"],
        submitters=["Sam Poe"],
        date_published=dt.date(2021, 3, 4),
        date_downloaded=dt.date(2021, 3, 5),
        date_submitted=dt.date(2021, 3, 5),
        date_modified=dt.date(2021, 3, 5),
        language="en",
        image_url="https://example.org/r10.jpg",
        tags=["robots"],
    )


def test_reports_csv_empty_dates_fall_back_to_epoch_columns() -> None:
    second = list(reports_from_csv(fixture("reports_doubled.csv"), "reports.csv"))[1]
    assert (second.date_published, second.date_submitted) == (
        dt.date(2021, 3, 4),
        dt.date(2021, 3, 5),
    )
    assert (second.authors, second.tags, second.description) == ([], [], None)


def test_reports_csv_subset_with_newer_columns_and_a_variant() -> None:
    data = (
        "report_number,title,tags,inputs_outputs,is_incident_report,plain_text,editor_notes\n"
        '42,Variant #42,"[""variant:approved""]","[""prompt"",""reply""]",false,x,checked\n'
    )
    (report,) = reports_from_csv(stream(data), "reports.csv")
    assert report == ReportRecord(
        report_number=42,
        title="Variant #42",
        tags=["variant:approved"],
        inputs_outputs=["prompt", "reply"],
        is_incident_report=False,
        plain_text="x",
        editor_notes="checked",
    )


def test_reports_csv_list_items_are_stripped_and_json_escapes_decoded() -> None:
    data = 'report_number,authors\n1,"[""A"","" B "",""C \\""Q\\"" D""]"\n'
    (report,) = reports_from_csv(stream(data), "reports.csv")
    assert report.authors == ["A", "B", 'C "Q" D']


def test_reports_csv_accepts_iso_datetimes_and_epochs() -> None:
    data = "report_number,date_published,date_submitted\n1,2019-04-13T10:00:00.000Z,1555113600\n"
    (report,) = reports_from_csv(stream(data), "reports.csv")
    assert (report.date_published, report.date_submitted) == (
        dt.date(2019, 4, 13),
        dt.date(2019, 4, 13),
    )


def test_reports_csv_requires_report_number() -> None:
    with pytest.raises(SnapshotFormatError, match=r"row 1: missing column 'report_number'"):
        list(reports_from_csv(stream("title\nx\n"), "reports.csv"))
    with pytest.raises(SnapshotFormatError, match=r"row 3: report_number: empty"):
        list(reports_from_csv(stream("report_number,title\n1,x\n,y\n"), "reports.csv"))
    with pytest.raises(SnapshotFormatError, match=r"row 2: report_number: expected an integer"):
        list(reports_from_csv(stream("report_number\nten\n"), "reports.csv"))


def test_reports_csv_unknown_column() -> None:
    data = "report_number,embedding\n1,[]\n"
    with pytest.raises(SnapshotFormatError, match=r"unknown column 'embedding' \(expected one of"):
        list(reports_from_csv(stream(data), "reports.csv"))


def test_reports_csv_unparseable_date() -> None:
    data = "report_number,date_published\n1,2019-02-30\n"
    with pytest.raises(SnapshotFormatError) as caught:
        list(reports_from_csv(stream(data), "reports.csv"))
    assert str(caught.value) == (
        "reports.csv, row 2: date_published: unparseable date '2019-02-30'"
    )


def test_report_document_with_bson_dates_and_variant_fields() -> None:
    doc = {
        "_id": bson.ObjectId(),
        "report_number": 99,
        "url": "https://example.org/99",
        "title": "Variant #99",
        "text": "**Input** _md_",
        "plain_text": "Input md",
        "authors": "Single Author",
        "submitters": ["Ed Itor", ""],
        "date_published": dt.datetime(2023, 6, 7, 0, 0),
        "date_downloaded": "2023-06-08",
        "date_submitted": None,
        "epoch_date_submitted": 1686268800,
        "date_modified": dt.datetime(2023, 6, 10, 23, 59),
        "language": "en",
        "tags": ["variant:unreviewed"],
        "inputs_outputs": ["in", "out"],
        "is_incident_report": True,
        "editor_notes": "",
        "cloudinary_id": "reports/x",
    }
    assert report_from_document(doc, "aiidprod/reports.bson", 1) == ReportRecord(
        report_number=99,
        url="https://example.org/99",
        title="Variant #99",
        text="**Input** _md_",
        plain_text="Input md",
        authors=["Single Author"],
        submitters=["Ed Itor"],
        date_published=dt.date(2023, 6, 7),
        date_downloaded=dt.date(2023, 6, 8),
        date_submitted=dt.date(2023, 6, 9),
        date_modified=dt.date(2023, 6, 10),
        language="en",
        tags=["variant:unreviewed"],
        inputs_outputs=["in", "out"],
        is_incident_report=True,
    )


def test_report_document_with_null_lists() -> None:
    doc = {"report_number": 5, "inputs_outputs": None, "tags": None, "authors": None}
    report = report_from_document(doc, "aiidprod/reports.bson", 1)
    assert (report.inputs_outputs, report.tags, report.authors) == ([], [], [])


def test_report_document_bad_date() -> None:
    doc = {"report_number": 5, "date_published": "someday"}
    with pytest.raises(SnapshotFormatError) as caught:
        report_from_document(doc, "aiidprod/reports.bson", 3)
    assert str(caught.value) == (
        "aiidprod/reports.bson, document 3: date_published: unparseable date 'someday'"
    )


def test_report_document_date_out_of_python_range() -> None:
    data = bson.encode({"report_number": 5, "date_published": bson.DatetimeMS(-(10**14))})
    (doc,) = iter_bson_documents(stream(data), "aiidprod/reports.bson")
    with pytest.raises(SnapshotFormatError, match="document 1: date_published: unparseable"):
        report_from_document(doc, "aiidprod/reports.bson", 1)


# --- duplicates, entities, translations, submissions -----------------------------------------


def test_duplicates_csv_and_document() -> None:
    records = list(duplicates_from_csv(fixture("gen2026/duplicates.csv"), "duplicates.csv"))
    assert records == [DuplicateRecord(duplicate_incident_id=3, true_incident_id=4)]
    doc = {"_id": bson.ObjectId(), "duplicate_incident_number": 3, "true_incident_number": 4}
    assert duplicate_from_document(doc, "aiidprod/duplicates.bson", 1) == records[0]


def test_entity_document() -> None:
    doc = {"_id": bson.ObjectId(), "entity_id": "acme-corp", "name": "Acme Corp"}
    assert entity_from_document(doc, "e.bson", 1) == EntityRecord(
        slug="acme-corp", name="Acme Corp"
    )
    assert entity_from_document({"entity_id": "x-y"}, "e.bson", 2) == EntityRecord(
        slug="x-y", name="x-y"
    )


def test_entity_document_blank_placeholder_is_none() -> None:
    assert entity_from_document({"entity_id": "", "name": ""}, "e.bson", 1) is None


def test_entity_document_with_a_non_text_slug() -> None:
    with pytest.raises(SnapshotFormatError, match=r"^e\.bson, document 4: entity_id: expected"):
        entity_from_document({"entity_id": 12, "name": "x"}, "e.bson", 4)


def test_translation_language_comes_from_the_file_name_or_the_document() -> None:
    doc = {"report_number": 2001, "title": "T", "text": "Body", "plain_text": "Body"}
    assert translation_from_document(doc, "translations/reports_en.bson", 1) == TranslationRecord(
        report_number=2001, language="en", title="T", text="Body", plain_text="Body"
    )
    in_doc = translation_from_document({**doc, "language": "fr"}, "translations/reports.bson", 1)
    assert in_doc.language == "fr"
    with pytest.raises(SnapshotFormatError, match="document 1: language: missing"):
        translation_from_document(doc, "translations/reports.bson", 1)


def test_submissions_csv() -> None:
    records = list(submissions_from_csv(fixture("gen2026/submissions.csv"), "submissions.csv"))
    assert records[0] == SubmissionRecord(
        kind="submission",
        url="https://example.org/robots-again",
        source_domain="example.org",
        title="Robots Again",
        text="A robot story.\n\nSecond paragraph.",
        authors=["Jane Roe", "John Doe"],
        submitters=["Anonymous"],
        date_published=dt.date(2026, 1, 2),
        date_downloaded=dt.date(2026, 1, 5),
        date_submitted=dt.date(2026, 1, 5),
        date_modified=dt.date(2026, 1, 5),
        language="en",
        image_url="https://example.org/robot.jpg",
    )
    assert (records[1].incident_id, records[1].date_published, records[1].incident_date) == (
        4,
        dt.date(2026, 1, 6),
        dt.date(2025, 12, 31),
    )


def test_submissions_csv_with_a_list_of_proposed_incidents() -> None:
    data = 'url,incident_id,incident_ids\nhttps://example.org/x,,"[7,8]"\n'
    (record,) = submissions_from_csv(stream(data), "submissions.csv")
    assert record.incident_id == 7


def test_quickadd_csv_zero_means_no_incident() -> None:
    records = list(quickadd_from_csv(fixture("gen2026/quickadd.csv"), "quickadd.csv"))
    assert records == [
        SubmissionRecord(
            kind="quickadd",
            url="https://example.net/story-1",
            source_domain="example.net",
            date_submitted=dt.date(2026, 1, 7),
        ),
        SubmissionRecord(
            kind="quickadd",
            incident_id=4,
            url="https://example.net/story-2",
            source_domain="example.net",
            date_submitted=dt.date(2026, 1, 8),
        ),
    ]


def test_submission_and_quickadd_documents() -> None:
    doc = {
        "incident_ids": [9, 10],
        "url": "https://example.org/s",
        "authors": ["A "],
        "date_submitted": dt.datetime(2025, 1, 2, 3, 4),
        "incident_date": "2024-12-24",
    }
    record = submission_from_document(doc, "aiidprod/submissions.bson", 1)
    assert (record.kind, record.incident_id, record.authors) == ("submission", 9, ["A"])
    assert (record.date_submitted, record.incident_date) == (
        dt.date(2025, 1, 2),
        dt.date(2024, 12, 24),
    )
    quick = quickadd_from_document(
        {"incident_id": 0, "url": "https://example.net/q", "date_submitted": "2025-01-02"},
        "aiidprod/quickadd.bson",
        1,
    )
    assert (quick.kind, quick.incident_id, quick.date_submitted) == (
        "quickadd",
        None,
        dt.date(2025, 1, 2),
    )


# --- taxonomies -----------------------------------------------------------------------------


def taxonomy_document() -> dict[str, Any]:
    return {
        "_id": bson.ObjectId("65f460ebde11139cd2ba0000"),
        "namespace": "CSETv1",
        "weight": 70,
        "description": "An invented cut of CSETv1.",
        "complete_entities": True,
        "dummy_fields": [{"field_number": "1", "short_name": "Metadata"}],
        "field_list": [
            {
                "field_number": "3.2",
                "short_name": "AI System",
                "display_type": "enum",
                "mongo_type": "string",
                "permitted_values": ["yes", "no", "maybe"],
            },
            {
                "field_number": "4.6",
                "short_name": "Harm Distribution Basis",
                "display_type": "multi",
                "mongo_type": "string",
                "permitted_values": ["race", "nation of origin, citizenship, immigrant status"],
            },
            {
                "field_number": "5.2",
                "short_name": "AI System",
                "display_type": "enum",
                "mongo_type": "string",
                "permitted_values": ["yes", "no", "maybe"],
            },
            {
                "field_number": "9.3",
                "short_name": "Sector of Deployment",
                "display_type": "multi",
                "mongo_type": "array",
                "permitted_values": ["Arts, entertainment and recreation", "transportation"],
            },
            {"short_name": "Data Inputs", "display_type": "list", "mongo_type": "array"},
            {"short_name": "Entities", "display_type": "object-list", "mongo_type": "array"},
            {"short_name": "Lives Lost", "display_type": "int", "mongo_type": "int"},
            {"short_name": "Quality Control", "display_type": "bool", "mongo_type": "bool"},
            {"short_name": "Incident Number", "display_type": "int", "mongo_type": "int"},
            {
                "short_name": "Location City",
                "display_type": "multi",
                "mongo_type": "array",
                "permitted_values": ["Springfield"],
                "created": dt.datetime(2023, 1, 2, 3, 4, 5),
            },
        ],
    }


def test_taxonomy_document_keeps_field_list_json_safe_and_in_order() -> None:
    record = taxonomy_from_document(taxonomy_document(), "aiidprod/taxa.bson", 1)
    assert (record.namespace, record.weight, record.description) == (
        "CSETv1",
        70,
        "An invented cut of CSETv1.",
    )
    assert [f["short_name"] for f in record.fields][:3] == [
        "AI System",
        "Harm Distribution Basis",
        "AI System",
    ]
    assert record.fields[-1]["created"] == "2023-01-02T03:04:05.000Z"


def test_taxonomy_document_legacy_namespace_and_errors() -> None:
    legacy = taxonomy_from_document({"namespace": "CSET", "field_list": []}, "t.bson", 1)
    assert legacy.namespace == "CSETv0"
    with pytest.raises(SnapshotFormatError, match="document 2: field_list: expected a list"):
        taxonomy_from_document({"namespace": "X", "field_list": "nope"}, "t.bson", 2)


# --- classifications: the three CSV layouts --------------------------------------------------


def test_classification_layouts() -> None:
    assert classification_layout(["Namespace", "Incident ID", "Published", "Risk Domain"]) == "2026"
    assert classification_layout(["_id", "incident_id", "namespace", "publish", "A"]) == "2023"
    assert classification_layout(["incident_id", "namespace", "classifications.A"]) == "2021"
    assert classification_layout(["incident_id", "title"]) is None


def test_2026_mit_keeps_a_single_value_that_contains_a_comma() -> None:
    first, second = classifications("gen2026/classifications_MIT.csv")
    assert first == ClassificationRecord(
        namespace="MIT",
        incident_ids=[1],
        attributes={
            "Risk Domain": "7. AI system safety, failures, and limitations",
            "Risk Subdomain": "7.3. Lack of capability or robustness",
            "Entity": "AI",
            "Timing": "Post-deployment",
            "Intent": "Unintentional",
        },
        published=True,
        source_kind=SourceKind.IMPORTED_MACHINE,
    )
    assert second.incident_ids == [4]


def test_2026_csetv1_without_taxa_uses_the_builtin_field_table() -> None:
    first, second = classifications("gen2026/classifications_CSETv1.csv")
    assert first.attributes == {
        "Incident Number": 1,
        "Quality Control": False,
        "AI System": "yes",  # the repeated "AI System" column agrees, so it collapses
        "Harm Distribution Basis": ["race", "nation of origin, citizenship, immigrant status"],
        "Sector of Deployment": [
            "Arts, entertainment and recreation",
            "transportation and storage",
        ],
        "Data Inputs": ["camera images", "lidar"],
        "Entities": "Example Labs, Acme Corp",  # object lists arrive flattened; kept as text
        "Lives Lost": 0,
        "Location City": "Springfield",
    }
    assert first.source_kind is SourceKind.IMPORTED_HUMAN
    # A repeat that disagrees with the first column is kept, not lost.
    assert second.attributes == {
        "Incident Number": 2,
        "Quality Control": True,
        "AI System": "no",
        "AI System (2)": "maybe",
        "Lives Lost": 3,
    }
    assert second.published is False


def test_2026_csetv1_with_taxa_types_and_splits_by_the_definitions() -> None:
    taxonomy = taxonomy_from_document(taxonomy_document(), "aiidprod/taxa.bson", 1)
    first, _ = classifications("gen2026/classifications_CSETv1.csv", {"CSETv1": taxonomy})
    assert first.attributes == {
        "Incident Number": 1,
        "Quality Control": False,
        "AI System": "yes",
        "Harm Distribution Basis": ["race", "nation of origin, citizenship, immigrant status"],
        "Sector of Deployment": [
            "Arts, entertainment and recreation",
            "transportation and storage",
        ],
        "Data Inputs": ["camera images", "lidar"],
        "Entities": "Example Labs, Acme Corp",
        "Lives Lost": 0,
        "Location City": ["Springfield"],  # a multi field in this taxonomy
    }


def test_2026_greedy_split_takes_the_longest_permitted_value() -> None:
    taxonomy = TaxonomyRecord(
        namespace="TEST",
        fields=[
            {
                "short_name": "Tags",
                "display_type": "multi",
                "permitted_values": ["a, b", "a, b, c", "d"],
            }
        ],
    )
    data = 'Namespace,Incident ID,Published,Tags\nTEST,1,True,"a, b, c, d, a, b, e"\n'
    (record,) = classifications_from_csv(stream(data), "c.csv", {"TEST": taxonomy})
    assert record.attributes == {"Tags": ["a, b, c", "d", "a, b", "e"]}


def test_2026_unknown_namespace_without_taxa_stays_text() -> None:
    data = 'Namespace,Incident ID,Published,Tags,Flag\nNEW,3,,"x, y",True\n'
    (record,) = classifications_from_csv(stream(data), "c.csv", {})
    assert record.attributes == {"Tags": "x, y", "Flag": "True"}
    assert record.published is None


def test_2026_gmf_lists_split_and_snippets_stay_text() -> None:
    (record,) = classifications("gen2026/classifications_GMF.csv")
    assert record.attributes == {
        "Known AI Goal": ["Autonomous Driving", "Path Planning"],
        "Known AI Goal Snippets": (
            "Snippet Text: The robot stopped in the middle of the crossing.\n"
            "Related Classifications: Path Planning\n"
        ),
    }


def test_2023_layout_decodes_value_json() -> None:
    first, second = classifications("gen2023/classifications_cset.csv")
    assert first == ClassificationRecord(
        namespace="CSETv0",
        incident_ids=[1],
        attributes={
            "Annotator": "3",
            "Quality Control": False,
            "Full Description": 'A robot blocked a "crosswalk".',
            "Beginning Date": "2021-03-04T00:00:00.000Z",
            "Named Entities": ["Example Labs", "Acme Corp"],
            "Harm Type": ["Harm to physical health/safety"],
            "Lives Lost": False,
            "Sector of Deployment": ["Arts, entertainment and recreation"],
        },
        published=True,
    )
    # Empty cells, "", [] and [""] all mean "no value" and are left out.
    assert second.attributes == {
        "Annotator": "5",
        "Full Description": "A chatbot invented a refund policy.",
        "Lives Lost": False,
    }
    assert second.published is False


def test_2023_layout_rejects_a_value_that_is_not_json() -> None:
    data = "_id,incident_id,namespace,publish,Intent\nObjectId(1),1,CSET,true,Accident\n"
    with pytest.raises(SnapshotFormatError) as caught:
        list(classifications_from_csv(stream(data), "classifications_cset.csv", {}))
    assert str(caught.value) == (
        "classifications_cset.csv, row 2: Intent: invalid value_json 'Accident'"
    )


def test_2021_layout_reads_raw_values_and_splits_old_text_lists() -> None:
    first, second = classifications("gen2021/classifications_cset.csv")
    assert first == ClassificationRecord(
        namespace="CSETv0",
        incident_ids=[1],
        attributes={
            "Annotator": "3",
            "Quality Control": False,
            "Full Description": "A robot blocked a crosswalk.",
            "Named Entities": ["Example Labs"],
            "Laws Implicated": ["Traffic code", "Accessibility rules"],
            "Data Inputs": ["camera images", "lidar"],
            "Sector of Deployment": ["Arts, entertainment and recreation"],
            "Lives Lost": False,
        },
        published=True,
    )
    assert second.attributes["Full Description"] == "[citation needed] a model misrouted buses"
    assert "Named Entities" not in second.attributes
    assert second.published is False


def test_classification_csv_unrecognised_header() -> None:
    with pytest.raises(SnapshotFormatError, match=r"^c\.csv, row 1: unrecognised classification"):
        list(classifications_from_csv(stream("incident_id,label\n1,x\n"), "c.csv", {}))


def test_classification_csv_bad_incident_id_and_published() -> None:
    head = "Namespace,Incident ID,Published,X\n"
    with pytest.raises(SnapshotFormatError, match=r"row 2: incident_id: expected an integer"):
        list(classifications_from_csv(stream(head + "MIT,one,True,x\n"), "c.csv", {}))
    with pytest.raises(SnapshotFormatError, match=r"row 2: Published: expected true or false"):
        list(classifications_from_csv(stream(head + "MIT,1,yes,x\n"), "c.csv", {}))


# --- classifications: BSON ------------------------------------------------------------------


def test_classification_document_native_form() -> None:
    doc = {
        "_id": bson.ObjectId(),
        "namespace": "GMF",
        "notes": "",
        "publish": True,
        "incidents": [{"incident_id": 12}],
        "reports": [],
        "attributes": [
            {"short_name": "Known AI Goal", "value_json": '["Chatbot"]'},
            {"short_name": "Known AI Goal Classification Discussion", "value_json": None},
            {
                "short_name": "Known AI Goal Snippets",
                "value_json": '[{"attributes":[{"short_name":"Snippet Text",'
                '"value_json":"\\"It answered.\\""},{"short_name":"Related Classifications",'
                '"value_json":"[\\"Chatbot\\"]"}]}]',
            },
            {"short_name": "Potential AI Goal", "value_json": "[]"},
        ],
    }
    record = classification_from_document(doc, "aiidprod/classifications.bson", 1)
    assert record == ClassificationRecord(
        namespace="GMF",
        incident_ids=[12],
        attributes={
            "Known AI Goal": ["Chatbot"],
            "Known AI Goal Snippets": [
                {"Snippet Text": "It answered.", "Related Classifications": ["Chatbot"]}
            ],
        },
        published=True,
    )


def test_classification_document_mit_scalar_incident_and_repeated_attribute() -> None:
    doc = {
        "namespace": "MIT",
        "incident_id": 5,
        "publish": False,
        "notes": "checked",
        "attributes": [
            {"short_name": "AI System", "value_json": '"yes"'},
            {"short_name": "AI System", "value_json": '"yes"'},
        ],
    }
    record = classification_from_document(doc, "c.bson", 1)
    assert (record.incident_ids, record.attributes, record.notes, record.source_kind) == (
        [5],
        {"AI System": "yes"},
        "checked",
        SourceKind.IMPORTED_MACHINE,
    )


def test_classification_document_legacy_form() -> None:
    doc = {
        "namespace": "CSET",
        "incident_id": 3,
        "classifications": {
            "Harm Type": ["Financial harm"],
            "Beginning Date": dt.datetime(2019, 1, 1),
            "Location": "",
            "Publish": True,
        },
    }
    record = classification_from_document(doc, "c.bson", 1)
    assert record == ClassificationRecord(
        namespace="CSETv0",
        incident_ids=[3],
        attributes={
            "Harm Type": ["Financial harm"],
            "Beginning Date": "2019-01-01T00:00:00.000Z",
        },
        published=True,
    )


def test_classification_document_bad_value_json() -> None:
    doc = {"namespace": "X", "attributes": [{"short_name": "A", "value_json": "{oops"}]}
    with pytest.raises(SnapshotFormatError) as caught:
        classification_from_document(doc, "aiidprod/classifications.bson", 8)
    assert str(caught.value) == (
        "aiidprod/classifications.bson, document 8: A: invalid value_json '{oops'"
    )
