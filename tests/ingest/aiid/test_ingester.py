"""`aiid.v1` end to end: folders, archives and URLs into a real store; bad input loses nothing."""

from __future__ import annotations

import http.server
import tarfile
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import bson
import pytest

from incidentdb import ArchiveError, IngestError, SnapshotFormatError, SourceError, Store
from incidentdb._data import bundled_data
from ingest.aiid import _ingester as aiid_ingester

INCIDENTS_CSV = (
    "_id,incident_id,date,reports,Alleged deployer of AI system,"
    "Alleged developer of AI system,Alleged harmed or nearly harmed parties,description,title\n"
    'ObjectId(000000000000000000000001),1,2023-04-02,"[1,2]","[""acme-air""]",'
    '"[""openbrain""]","[""travellers""]","A support chatbot invented a refund policy.",'
    "Airline chatbot invents refund policy\n"
    'ObjectId(000000000000000000000002),2,2024-06-30,"[2,3]","[""devco""]",'
    '"[""openbrain""]","[""devco""]","A coding agent deleted a database, then denied it.",'
    "Coding agent deletes production database\n"
)
DUPLICATES_CSV = "duplicate_incident_number,true_incident_number\n4,2\n"


def write_snapshot(root: Path, *, incidents: str = INCIDENTS_CSV) -> Path:
    folder = root / "mongodump_full_snapshot"
    (folder / "aiidprod").mkdir(parents=True)
    (folder / "incidents.csv").write_text(incidents, encoding="utf-8")
    (folder / "duplicates.csv").write_text(DUPLICATES_CSV, encoding="utf-8")
    entities = [
        {"entity_id": "acme-air", "name": "Acme Air"},
        {"entity_id": "openbrain", "name": "OpenBrain"},
        {"entity_id": "devco", "name": "DevCo"},
    ]
    (folder / "aiidprod" / "entities.bson").write_bytes(b"".join(bson.encode(e) for e in entities))
    return folder


def make_archive(folder: Path, archive: Path) -> Path:
    with tarfile.open(archive, "w:bz2") as tar:
        tar.add(folder, arcname=folder.name)
    return archive


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    return write_snapshot(tmp_path / "src")


def test_folder_import_and_reimport(db_url: str, snapshot: Path) -> None:
    with Store(db_url) as store:
        result = store.ingest("aiid.v1", str(snapshot))
        assert result.outcome == "succeeded"
        assert result.counts["incidents"] == {"added": 2}
        assert result.counts["entities"] == {"added": 3, "added_from_slug": 1}
        assert result.counts["reports"] == {"stubs": 3}
        assert result.counts["duplicates"] == {"added": 1}
        shown = store.get_incident(1)
        assert shown["entities"]["deployer"] == [{"slug": "acme-air", "name": "Acme Air"}]
        assert shown["entities"]["harmed"] == [{"slug": "travellers", "name": "Travellers"}]
        assert store.get_incident(4)["incident_id"] == 2
        again = store.ingest("aiid.v1", str(snapshot))
        assert again.outcome == "unchanged"


def test_archive_import(sqlite_url: str, snapshot: Path, tmp_path: Path) -> None:
    archive = make_archive(snapshot, tmp_path / "backup-20260222103000.tar.bz2")
    with Store(sqlite_url) as store:
        result = store.ingest("aiid.v1", str(archive))
        assert result.counts["incidents"] == {"added": 2}
        assert store.ingest("aiid.v1", str(archive)).outcome == "unchanged"


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A real HTTP server on 127.0.0.1 serving a folder."""
    root = tmp_path / "www"
    root.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.RequestHandlerClass.log_message = lambda *a, **k: None  # type: ignore[method-assign]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


def test_url_import(sqlite_url: str, snapshot: Path, http_root: tuple[str, Path]) -> None:
    base, root = http_root
    make_archive(snapshot, root / "backup-20260222103000.tar.bz2")
    with Store(sqlite_url) as store:
        result = store.ingest("aiid.v1", f"{base}/backup-20260222103000.tar.bz2")
        assert result.counts["incidents"] == {"added": 2}
        with pytest.raises(SourceError, match="answered 404"):
            store.ingest("aiid.v1", f"{base}/missing.tar.bz2")


def test_truncated_archive_leaves_the_store_unchanged(
    sqlite_url: str, snapshot: Path, tmp_path: Path
) -> None:
    archive = make_archive(snapshot, tmp_path / "backup.tar.bz2")
    cut = tmp_path / "cut.tar.bz2"
    cut.write_bytes(archive.read_bytes()[:200])
    with Store(sqlite_url) as store:
        with pytest.raises(ArchiveError, match="truncated or corrupt"):
            store.ingest("aiid.v1", str(cut))
        assert store.schema_status()["tables"]["incidents"] == 0
        assert store.ingest_runs()[0]["outcome"] == "failed"


def test_bad_row_rolls_back_everything(db_url: str, snapshot: Path, tmp_path: Path) -> None:
    with Store(db_url) as store:
        store.ingest("aiid.v1", str(snapshot))
        before = store.schema_status()["tables"]
        bad = write_snapshot(
            tmp_path / "bad",
            incidents=INCIDENTS_CSV
            + 'ObjectId(000000000000000000000003),3,2024-13-45,"[]","[]","[]","[]",x,Bad date\n',
        )
        with pytest.raises(SnapshotFormatError, match=r"incidents\.csv, row 4"):
            store.ingest("aiid.v1", str(bad))
        after = store.schema_status()["tables"]
        assert after["incidents"] == before["incidents"] == 2
        assert after["entities"] == before["entities"]


def test_missing_source_is_a_clear_error(sqlite_url: str, tmp_path: Path) -> None:
    with Store(sqlite_url) as store, pytest.raises(SourceError, match="no such file or folder"):
        store.ingest("aiid.v1", str(tmp_path / "nope.tar.bz2"))


def _dated(incidents_csv: str, hex_time: str) -> str:
    # The first 8 hex digits of an ObjectId are its creation time in seconds.
    return incidents_csv.replace("ObjectId(00000000", f"ObjectId({hex_time}")


def test_an_older_snapshot_is_refused_unless_allowed(db_url: str, tmp_path: Path) -> None:
    newer = write_snapshot(tmp_path / "new", incidents=_dated(INCIDENTS_CSV, "69990000"))
    older_csv = _dated(INCIDENTS_CSV, "60000000").replace("Airline chatbot invents", "Old title:")
    older = write_snapshot(tmp_path / "old", incidents=older_csv)
    with Store(db_url) as store:
        store.ingest("aiid.v1", str(newer))
        assert store.ingest_runs(limit=1)[0]["source_date"].year == 2026
        with pytest.raises(
            IngestError, match=r"\(2021-01-14\) is older than one already imported \(2026-02-21\)"
        ):
            store.ingest("aiid.v1", str(older))
        assert store.get_incident(1)["title"] == "Airline chatbot invents refund policy"
        result = store.ingest("aiid.v1", str(older), allow_older=True)
        assert result.counts["incidents"] == {"updated": 1, "unchanged": 1}


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("bad_utf8", r"incidents\.csv, row 3: invalid UTF-8"),
        ("unknown_header", r"incidents\.csv.*unknown column 'Severity'"),
        ("corrupt_bson", r"aiidprod/entities\.bson, document 2"),
        ("truncated_bson", r"aiidprod/entities\.bson, document 3"),
    ],
)
def test_bad_input_names_the_place_and_writes_nothing(
    db_url: str, tmp_path: Path, damage: str, message: str
) -> None:
    good = write_snapshot(tmp_path / "good")
    bad = write_snapshot(tmp_path / "bad")
    if damage == "bad_utf8":
        data = (bad / "incidents.csv").read_bytes().replace(b"Coding agent", b"Coding \xff agent")
        (bad / "incidents.csv").write_bytes(data)
    elif damage == "unknown_header":
        text = (bad / "incidents.csv").read_text(encoding="utf-8")
        (bad / "incidents.csv").write_text(
            text.replace(",title\n", ",Severity\n", 1), encoding="utf-8"
        )
    else:
        path = bad / "aiidprod" / "entities.bson"
        docs = [bson.encode({"entity_id": f"e{i}", "name": f"E {i}"}) for i in range(3)]
        if damage == "corrupt_bson":
            broken = bytearray(docs[1])
            broken[4] = 0x19  # an element type BSON does not define
            path.write_bytes(docs[0] + bytes(broken) + docs[2])
        else:
            path.write_bytes(docs[0] + docs[1] + docs[2][:-4])
    with Store(db_url) as store:
        store.ingest("aiid.v1", str(good))
        before = store.schema_status()["tables"]
        with pytest.raises(SnapshotFormatError, match=message):
            store.ingest("aiid.v1", str(bad))
        after = store.schema_status()["tables"]
        assert {k: v for k, v in after.items() if k != "ingest_runs"} == {
            k: v for k, v in before.items() if k != "ingest_runs"
        }


def test_python_dash_m_runs_the_cli(tmp_path: Path) -> None:
    import subprocess
    import sys

    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "incidentdb",
            "--db",
            str(tmp_path / "m.sqlite"),
            "db",
            "status",
            "--format",
            "csv",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "revision,(empty database)" in out


def _store_content(store: Store) -> dict[str, object]:
    return {
        "incidents": [store.get_incident(i["incident_id"]) for i in store.list_incidents()],
        # Ranks differ between SQLite and PostgreSQL; what matches does not.
        "found": sorted(hit["incident_id"] for hit in store.search("chatbot", limit=None)),
        "stats": store.stats(),
    }


def test_reports_parsed_in_a_process_import_the_same(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sample = bundled_data("sample", "mongodump_full_snapshot")
    with Store(f"sqlite:///{tmp_path / 'thread.sqlite'}") as store:
        threaded = store.ingest("aiid.v1", str(sample))
        expected = _store_content(store)
    monkeypatch.setattr(aiid_ingester, "PROCESS_PARSE_BYTES", 0)
    with Store(db_url) as store:
        result = store.ingest("aiid.v1", str(sample))
        assert result.counts == threaded.counts
        assert result.counts["reports"]["added"] > 0
        assert _store_content(store) == expected
        assert store.ingest("aiid.v1", str(sample)).outcome == "unchanged"


def test_a_bad_report_parsed_in_a_process_names_its_row(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = write_snapshot(tmp_path / "src")
    (folder / "reports.csv").write_text(
        "report_number,title,text,url\n1,One,First text,https://a.example/1\n"
        "x,Two,Second text,https://a.example/2\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(aiid_ingester, "PROCESS_PARSE_BYTES", 0)
    with Store(sqlite_url) as store:
        with pytest.raises(SnapshotFormatError, match=r"^reports\.csv, row 3: ") as caught:
            store.ingest("aiid.v1", str(folder))
        assert (caught.value.file, caught.value.row) == ("reports.csv", 3)
        assert store.schema_status()["tables"]["reports"] == 0
