"""The full-text index of a first import, built apart (ReportIndexBuilder) and copied in."""

from __future__ import annotations

import datetime as dt
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection

from incidentdb import IncidentRecord, Store
from incidentdb import _writer as writer_module
from incidentdb._records import ReportRecord
from incidentdb._search import ReportIndexBuilder
from incidentdb._writer import IngestWriter, ReportRows

WORDS = [
    "facial",
    "recognition",
    "chatbot",
    "crash",
    "bias",
    "deepfake",
    "résumé",
    "quokka",
    "model",
    "harm",
]


def _records(numbers: range, *, edition: int = 0) -> list[ReportRecord]:
    """Reports with different words each, plus one of each kind of empty text."""
    out = []
    for n in numbers:
        words = [WORDS[(n * 3 + k + edition) % len(WORDS)] for k in range(n % 4 + 2)]
        out.append(
            ReportRecord(
                report_number=n,
                title=None if n % 5 == 0 else f"{WORDS[n % len(WORDS)]} report {n}",
                text="" if n % 7 == 0 else " ".join(words) + f" **number** {n}.",
            )
        )
    return out


def _index(conn: Connection) -> dict[str, Any]:
    """Everything the index holds, term by term, and what FTS5 itself checks of it."""
    conn.exec_driver_sql(
        "INSERT INTO reports_fts (reports_fts, rank) VALUES ('integrity-check', 1)"
    )
    conn.exec_driver_sql(
        "CREATE VIRTUAL TABLE IF NOT EXISTS temp.vocab USING fts5vocab(main, reports_fts, instance)"
    )
    return {
        "instances": conn.exec_driver_sql(
            "SELECT term, doc, col, offset FROM temp.vocab ORDER BY term, doc, col, offset"
        ).all(),
        "sizes": conn.exec_driver_sql("SELECT id, sz FROM reports_fts_docsize ORDER BY id").all(),
        "ranked": conn.exec_driver_sql(
            "SELECT rowid, round(bm25(reports_fts), 9) FROM reports_fts "
            "WHERE reports_fts MATCH 'report' ORDER BY rowid"
        ).all(),
        "reports": conn.exec_driver_sql(
            "SELECT id, report_number, title, plain_text, content_hash FROM reports ORDER BY id"
        ).all(),
    }


def _import(url: str, batches: list[list[ReportRecord]], *, apart: bool) -> dict[str, Any]:
    with Store(url) as store, store.engine.begin() as conn, IngestWriter(conn) as writer:
        make_row = ReportRows(sqlite=True)
        for records in batches:
            writer.report_rows(map(make_row, records), index_apart=apart)
        writer.complete()
        return {"counts": writer.summary(), **_index(conn)}


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    # Several batches out of a few rows, as a million reports make of 2,000-row batches.
    monkeypatch.setattr(writer_module, "BATCH", 4)


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The folder the builder's temporary files go to."""
    folder = tmp_path / "scratch"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _builder_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "incidentdb-fts"]


@pytest.mark.usefixtures("small_batches")
def test_an_index_built_apart_is_the_index_built_inline(tmp_path: Path, scratch: Path) -> None:
    records = _records(range(1, 31))
    inline = _import(f"sqlite:///{tmp_path / 'inline.sqlite'}", [records], apart=False)
    apart = _import(f"sqlite:///{tmp_path / 'apart.sqlite'}", [records], apart=True)
    assert apart == inline
    assert len(apart["reports"]) == 30
    assert len(apart["sizes"]) == 30
    assert apart["counts"] == {"reports": {"added": 30}}
    assert list(scratch.iterdir()) == []
    assert _builder_threads() == []


@pytest.mark.usefixtures("small_batches")
def test_a_number_seen_again_in_a_later_batch_completes_the_index_first(
    tmp_path: Path, scratch: Path
) -> None:
    # Report 2 comes back in the third batch with other words: the update trigger edits the
    # index, which must hold every earlier row by then; later rows are indexed inline.
    records = [*_records(range(1, 10)), *_records(range(2, 3), edition=5), *_records(range(10, 20))]
    inline = _import(f"sqlite:///{tmp_path / 'inline.sqlite'}", [records], apart=False)
    apart = _import(f"sqlite:///{tmp_path / 'apart.sqlite'}", [records], apart=True)
    assert apart == inline
    assert apart["counts"] == {"reports": {"added": 19, "updated": 1}}
    assert list(scratch.iterdir()) == []


@pytest.mark.usefixtures("small_batches")
def test_writes_after_the_copy_see_it_though_the_connection_had_read_the_index(
    tmp_path: Path,
) -> None:
    # FTS5 caches an index's structure per connection: a search before the import caches the
    # empty one, and an insert after the copy must not write over what was copied.
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    with Store(url) as store, store.engine.begin() as conn:
        assert (
            conn.exec_driver_sql(
                "SELECT rowid FROM reports_fts WHERE reports_fts MATCH 'chatbot'"
            ).all()
            == []
        )
        writer = IngestWriter(conn)
        make_row = ReportRows(sqlite=True)
        writer.report_rows(map(make_row, _records(range(1, 11))), index_apart=True)
        writer.complete()
        # The store holds reports now: these are indexed inline, into the copied index.
        writer.report_rows(map(make_row, _records(range(11, 21))), index_apart=True)
        together = _index(conn)
    inline = _import(
        f"sqlite:///{tmp_path / 'inline.sqlite'}", [_records(range(1, 21))], apart=False
    )
    assert together["instances"] == inline["instances"]
    assert together["ranked"] == inline["ranked"]
    assert len(together["sizes"]) == 20


@pytest.mark.usefixtures("small_batches")
def test_a_failed_import_leaves_no_rows_no_thread_and_no_file(
    tmp_path: Path, scratch: Path
) -> None:
    def failing() -> Iterator[tuple[Any, ...]]:
        make_row = ReportRows(sqlite=True)
        yield from map(make_row, _records(range(1, 11)))
        raise ValueError("the snapshot ends here")

    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    with Store(url) as store:
        with (
            pytest.raises(ValueError, match="the snapshot ends here"),
            store.engine.begin() as conn,
            IngestWriter(conn) as writer,
        ):
            writer.report_rows(failing(), index_apart=True)
        assert store.schema_status()["tables"]["reports"] == 0
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM reports_fts_docsize").scalar() == 0
    assert list(scratch.iterdir()) == []
    assert _builder_threads() == []


def test_a_store_that_holds_reports_indexes_inline(tmp_path: Path, scratch: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    _import(url, [_records(range(1, 4))], apart=False)
    seen: list[Path] = []
    original = tempfile.mkdtemp

    def watched(*args: Any, **kwargs: Any) -> str:
        seen.append(Path(original(*args, **kwargs)))
        return str(seen[-1])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tempfile, "mkdtemp", watched)
        later = _import(url, [_records(range(4, 8))], apart=True)
    assert seen == []
    inline = _import(
        f"sqlite:///{tmp_path / 'inline.sqlite'}", [_records(range(1, 8))], apart=False
    )
    assert later["instances"] == inline["instances"]


@pytest.mark.usefixtures("small_batches")
def test_stub_reports_of_incidents_join_the_index_built_apart(
    tmp_path: Path, scratch: Path
) -> None:
    # The index is still being built when the incidents come; their stub reports go into
    # reports_fts inline, so the built part is copied in first.
    incident = IncidentRecord(
        incident_id=1, title="One", date=dt.date(2024, 1, 1), report_numbers=[3, 40, 41]
    )
    url = f"sqlite:///{tmp_path / 'apart.sqlite'}"
    with Store(url) as store, store.engine.begin() as conn, IngestWriter(conn) as writer:
        writer.report_rows(map(ReportRows(sqlite=True), _records(range(1, 11))), index_apart=True)
        writer.incidents([incident])
        writer.complete()
        apart = _index(conn)
        assert writer.summary()["reports"] == {"added": 10, "stubs": 2}
    with Store(f"sqlite:///{tmp_path / 'inline.sqlite'}") as store, store.engine.begin() as conn:
        writer = IngestWriter(conn)
        writer.report_rows(map(ReportRows(sqlite=True), _records(range(1, 11))))
        writer.incidents([incident])
        assert _index(conn) == apart
    assert len(apart["sizes"]) == 12
    assert list(scratch.iterdir()) == []


@pytest.mark.usefixtures("small_batches")
def test_a_scratch_file_that_fills_up_falls_back_to_the_index_in_the_store(
    tmp_path: Path, scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A scratch file of at most 6 pages stands for a temporary folder whose disk is full.
    monkeypatch.setattr(
        ReportIndexBuilder, "PRAGMAS", ReportIndexBuilder.PRAGMAS + " PRAGMA max_page_count = 6;"
    )
    records = _records(range(1, 200))
    inline = _import(f"sqlite:///{tmp_path / 'inline.sqlite'}", [records], apart=False)
    with (
        Store(f"sqlite:///{tmp_path / 'apart.sqlite'}") as store,
        store.engine.begin() as conn,
        IngestWriter(conn) as writer,
    ):
        writer.report_rows(map(ReportRows(sqlite=True), records), index_apart=True)
        writer.complete()
        apart = {"counts": writer.summary(), **_index(conn)}
        assert writer.notes == [
            "the full-text index of reports was built in the store instead "
            "(database or disk is full)"
        ]
    assert apart == inline
    assert list(scratch.iterdir()) == []


def test_no_room_for_a_scratch_file_means_the_index_in_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    records = _records(range(1, 20))
    inline = _import(f"sqlite:///{tmp_path / 'inline.sqlite'}", [records], apart=False)
    assert _import(f"sqlite:///{tmp_path / 'apart.sqlite'}", [records], apart=True) == inline


@pytest.mark.usefixtures("small_batches")
@pytest.mark.parametrize("order", ["ascending", "shuffled"])
def test_incidents_find_the_reports_of_a_first_import(tmp_path: Path, order: str) -> None:
    # Ascending numbers are found by bisection; any other order by a query. Either way each
    # link reaches the report with its number, and a number never stored becomes a stub.
    numbers = list(range(2, 40, 3))
    if order == "shuffled":
        numbers = numbers[5:] + numbers[:5]
    records = [r for n in numbers for r in _records(range(n, n + 1))]
    incidents = [
        IncidentRecord(incident_id=1, title="One", report_numbers=[38, 2, 3, 20]),
        IncidentRecord(incident_id=2, title="Two", report_numbers=[5, 99, 11]),
    ]

    def linked(apart: bool) -> list[tuple[Any, ...]]:
        url = f"sqlite:///{tmp_path / f'{order}-{apart}.sqlite'}"
        with Store(url) as store, store.engine.begin() as conn, IngestWriter(conn) as writer:
            writer.report_rows(map(ReportRows(sqlite=True), records), index_apart=apart)
            writer.incidents(incidents)
            writer.complete()
            return conn.exec_driver_sql(
                "SELECT i.incident_id, r.report_number, r.is_stub FROM incident_reports l "
                "JOIN incidents i ON i.id = l.incident_pk JOIN reports r ON r.id = l.report_pk "
                "ORDER BY 1, 2"
            ).all()

    expected = [(1, 2, 0), (1, 3, 1), (1, 20, 0), (1, 38, 0), (2, 5, 0), (2, 11, 0), (2, 99, 1)]
    assert linked(apart=True) == linked(apart=False) == expected
