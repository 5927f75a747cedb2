"""The store on SQLite and PostgreSQL: idempotent upserts, duplicates, queries, transactions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import pytest

from incidentdb import (
    ClassificationRecord,
    DuplicateRecord,
    EntityRecord,
    EntityRole,
    IncidentRecord,
    IngestWriter,
    NotFoundError,
    Progress,
    ReportRecord,
    SnapshotFormatError,
    SourceKind,
    Store,
    StoreError,
    ingesters,
)


@ingesters.register("memory.v1")
class MemoryIngester:
    """Feeds records given as options straight to the writer, as a plug-in would."""

    name = "memory.v1"

    def __init__(
        self, fail_after_reports: bool = False, interrupt: bool = False, **records: list[Any]
    ) -> None:
        self.records = records
        self.fail_after_reports = fail_after_reports
        self.interrupt = interrupt

    @contextmanager
    def open(self, source: str, progress: Progress) -> Iterator[dict[str, list[Any]]]:
        yield self.records

    def load(self, records: dict[str, list[Any]], writer: IngestWriter, progress: Progress) -> None:
        writer.entities(records.get("entities", []))
        writer.duplicates(records.get("duplicates", []))
        writer.reports(records.get("reports", []))
        if self.fail_after_reports:
            raise SnapshotFormatError("incidents.csv", 3, "bad date '2020-13-45'")
        if self.interrupt:
            raise KeyboardInterrupt
        writer.incidents(records.get("incidents", []))
        writer.classifications(records.get("classifications", []))


def report(n: int, title: str, text: str = "", url: str | None = None) -> ReportRecord:
    return ReportRecord(
        report_number=n,
        title=title,
        text=text or f"Text of report {n}: {title}.",
        url=url or f"https://news.example.com/story-{n}?utm_source=feed",
        source_domain="news.example.com",
        date_published=dt.date(2024, 1, n % 28 + 1),
    )


def incident(
    iid: int, title: str, reports: list[int], deployer: str = "acme-air", **kw: Any
) -> IncidentRecord:
    return IncidentRecord(
        incident_id=iid,
        title=title,
        date=kw.pop("date", dt.date(2024, 2, 1)),
        description=kw.pop("description", f"Description of {title}."),
        report_numbers=reports,
        entities={
            EntityRole.DEPLOYER: [deployer],
            EntityRole.DEVELOPER: ["openbrain"],
            EntityRole.HARMED: ["travellers"],
        },
        **kw,
    )


BASE: dict[str, list[Any]] = {
    "entities": [
        EntityRecord(slug="acme-air", name="Acme Air"),
        EntityRecord(slug="openbrain", name="OpenBrain"),
    ],
    "reports": [
        report(
            1, "Airline chatbot invents refund policy", "The chatbot promised a bereavement refund."
        ),
        report(2, "Tribunal orders airline to honour chatbot promise"),
        report(3, "Agent deletes production database", "A coding agent ran a destructive command."),
        report(4, "Shared analysis of chatbot failures"),
    ],
    "incidents": [
        incident(
            1, "Airline chatbot invented a refund policy", [1, 2, 4], date=dt.date(2022, 11, 1)
        ),
        incident(2, "Coding agent deleted a production database", [3, 4], deployer="devco"),
    ],
    "classifications": [
        ClassificationRecord(
            namespace="MIT",
            incident_ids=[1],
            attributes={"Risk Domain": "3. Misinformation", "Entity": "AI"},
            published=True,
            source_kind=SourceKind.IMPORTED_MACHINE,
        ),
        ClassificationRecord(
            namespace="GMF",
            incident_ids=[2],
            attributes={"Known AI Goal": ["Code Generation", "Autonomous Agents"]},
            published=False,
        ),
    ],
}


def test_first_import_counts_and_second_import_writes_nothing(db_url: str) -> None:
    with Store(db_url) as store:
        first = store.ingest("memory.v1", "mem", **BASE)
        assert first.outcome == "succeeded"
        assert first.counts["incidents"] == {"added": 2}
        assert first.counts["reports"] == {"added": 4}
        assert first.counts["entities"] == {"added": 2, "added_from_slug": 2}
        assert first.counts["classifications"] == {"added": 2}

        second = store.ingest("memory.v1", "mem", **BASE)
        assert second.outcome == "unchanged"
        assert second.counts["incidents"] == {"unchanged": 2}
        assert second.counts["reports"] == {"unchanged": 4}
        assert second.counts["classifications"] == {"unchanged": 2}
        assert store.schema_status()["tables"]["incidents"] == 2
        runs = store.ingest_runs()
        assert [r["outcome"] for r in runs] == ["unchanged", "succeeded"]


def test_incremental_import_updates_only_what_changed(db_url: str) -> None:
    with Store(db_url) as store:
        store.ingest("memory.v1", "mem", **BASE)
        changed = {
            **BASE,
            "reports": [
                *BASE["reports"][:3],
                report(4, "Renamed analysis"),
                report(5, "New report"),
            ],
            "incidents": [
                BASE["incidents"][0],
                incident(2, "Coding agent wiped a database", [3, 5], deployer="devco"),
                incident(3, "Voice clone scam", [], deployer="scammers"),
            ],
        }
        result = store.ingest("memory.v1", "mem", **changed)
        assert result.counts["incidents"] == {"added": 1, "updated": 1, "unchanged": 1}
        assert result.counts["reports"] == {"added": 1, "updated": 1, "unchanged": 3}
        shown = store.get_incident(2)
        assert shown["title"] == "Coding agent wiped a database"
        assert [r["report_number"] for r in shown["reports"]] == [3, 5]
        assert store.schema_status()["tables"]["incidents"] == 3


def test_a_report_can_belong_to_several_incidents(db_url: str) -> None:
    with Store(db_url) as store:
        store.ingest("memory.v1", "mem", **BASE)
        assert [r["report_number"] for r in store.get_incident(1)["reports"]] == [1, 2, 4]
        assert [r["report_number"] for r in store.get_incident(2)["reports"]] == [3, 4]


def test_missing_reports_become_stubs_that_a_later_import_fills(db_url: str) -> None:
    with Store(db_url) as store:
        only_incidents = {**BASE, "reports": []}
        result = store.ingest("memory.v1", "mem", **only_incidents)
        assert result.counts["reports"] == {"stubs": 4}
        assert all(r["is_stub"] for r in store.get_incident(1)["reports"])
        filled = store.ingest("memory.v1", "mem", **BASE)
        assert filled.counts["reports"] == {"updated": 4}
        assert not any(r["is_stub"] for r in store.get_incident(1)["reports"])
        assert store.stats()["totals"]["report_stubs"] == 0
        # The filled-in text is searchable (the stub was indexed empty, then updated).
        assert [h["best_report"] for h in store.search("bereavement")] == [1]


def test_duplicates_never_appear_and_chains_resolve(db_url: str) -> None:
    with Store(db_url) as store:
        data = {
            **BASE,
            "incidents": [*BASE["incidents"], incident(7, "Same chatbot story", [2])],
        }
        store.ingest("memory.v1", "mem", **data)
        assert store.schema_status()["tables"]["incidents"] == 3
        # 7 turns out to duplicate 9, which itself duplicates 1: 7 folds into 1.
        merged = {
            **data,
            "duplicates": [
                DuplicateRecord(duplicate_incident_id=7, true_incident_id=9),
                DuplicateRecord(duplicate_incident_id=9, true_incident_id=1),
            ],
        }
        result = store.ingest("memory.v1", "mem", **merged)
        assert result.counts["duplicates"] == {"added": 2}
        assert result.counts["incidents"]["merged"] == 1
        assert result.counts["incidents"]["skipped_duplicate"] == 1
        ids = [row["incident_id"] for row in store.list_incidents()]
        assert sorted(ids) == [1, 2]
        shown = store.get_incident(7)
        assert shown["incident_id"] == 1
        assert shown["merged_duplicates"] == [7, 9]
        again = store.ingest("memory.v1", "mem", **merged)
        assert again.outcome == "unchanged"


def test_failed_import_leaves_the_store_as_it_was(db_url: str) -> None:
    with Store(db_url) as store:
        store.ingest("memory.v1", "mem", **BASE)
        before = store.schema_status()["tables"]
        more = {**BASE, "reports": [*BASE["reports"], report(9, "Would be new")]}
        with pytest.raises(SnapshotFormatError, match=r"incidents.csv, row 3: bad date"):
            store.ingest("memory.v1", "mem", fail_after_reports=True, **more)
        after = store.schema_status()["tables"]
        assert {k: v for k, v in after.items() if k != "ingest_runs"} == {
            k: v for k, v in before.items() if k != "ingest_runs"
        }
        failed = store.ingest_runs(limit=1)[0]
        assert failed["outcome"] == "failed"
        assert "row 3" in failed["error"]


def test_list_filters(db_url: str) -> None:
    with Store(db_url) as store:
        store.ingest("memory.v1", "mem", **BASE)
        assert [r["incident_id"] for r in store.list_incidents()] == [2, 1]
        assert [r["incident_id"] for r in store.list_incidents(deployer="Acme Air")] == [1]
        assert [r["incident_id"] for r in store.list_incidents(deployer="devco")] == [2]
        assert [r["incident_id"] for r in store.list_incidents(since=dt.date(2023, 1, 1))] == [2]
        assert [r["incident_id"] for r in store.list_incidents(until=dt.date(2023, 1, 1))] == [1]
        assert [
            r["incident_id"]
            for r in store.list_incidents(taxonomy=["GMF:Known AI Goal=Autonomous Agents"])
        ] == [2]
        assert [r["incident_id"] for r in store.list_incidents(taxonomy=["MIT:Entity"])] == [1]
        assert store.list_incidents(limit=1)[0]["incident_id"] == 2
        row = store.list_incidents(deployer="acme-air")[0]
        assert row == {
            "incident_id": 1,
            "date": dt.date(2022, 11, 1),
            "title": "Airline chatbot invented a refund policy",
            "reports": 3,
            "deployers": ["Acme Air"],
            "developers": ["OpenBrain"],
        }
        with pytest.raises(StoreError, match="NAMESPACE:ATTRIBUTE"):
            store.list_incidents(taxonomy=["MIT"])


def test_search_ranks_incidents_by_their_text_and_reports(db_url: str) -> None:
    with Store(db_url) as store:
        store.ingest("memory.v1", "mem", **BASE)
        hits = store.search("refund chatbot")
        assert hits[0]["incident_id"] == 1
        hits = store.search("destructive command")
        assert [h["incident_id"] for h in hits] == [2]
        assert hits[0]["best_report"] == 3
        assert store.search("zeppelin") == []
        # No text holds every word: texts holding any of them are ranked instead.
        assert [h["incident_id"] for h in store.search("refund zeppelin")] == [1]
        assert store.search('"; DROP TABLE incidents; --') == []


def test_stats(db_url: str) -> None:
    with Store(db_url) as store:
        store.ingest("memory.v1", "mem", **BASE)
        stats = store.stats()
        assert stats["totals"] == {
            "incidents": 2,
            "reports": 4,
            "report_stubs": 0,
            "entities": 4,
            "duplicates": 0,
        }
        assert stats["by_year"] == [{"year": 2022, "incidents": 1}, {"year": 2024, "incidents": 1}]
        assert stats["top_developers"] == [
            {"slug": "openbrain", "name": "OpenBrain", "incidents": 2}
        ]
        assert stats["classification_coverage"] == [
            {"namespace": "GMF", "source_kind": "imported_human", "incidents": 1, "share": 0.5},
            {"namespace": "MIT", "source_kind": "imported_machine", "incidents": 1, "share": 0.5},
        ]


def test_stats_counts_by_year_with_undated_incidents_where_the_database_puts_null(
    db_url: str,
) -> None:
    dates = [dt.date(2023, 12, 31), dt.date(2021, 1, 1), None, dt.date(2023, 1, 1), None]
    with Store(db_url) as store:
        store.ingest(
            "memory.v1",
            "mem",
            entities=BASE["entities"],
            reports=[report(1, "A report")],
            incidents=[
                incident(n, f"Incident {n}", [1], date=day) for n, day in enumerate(dates, 1)
            ],
        )
        by_year = store.stats()["by_year"]
    dated = [{"year": 2021, "incidents": 1}, {"year": 2023, "incidents": 2}]
    undated = [{"year": None, "incidents": 2}]
    # As each database orders NULL in ORDER BY: first on SQLite, last on PostgreSQL.
    assert by_year == (undated + dated if db_url.startswith("sqlite") else dated + undated)


def test_unknown_incident_is_a_clear_error(db_url: str) -> None:
    with Store(db_url) as store, pytest.raises(NotFoundError, match="no incident 404"):
        store.get_incident(404)


def test_changed_classification_replaces_the_old_rows(db_url: str) -> None:
    with Store(db_url) as store:
        store.ingest("memory.v1", "mem", **BASE)
        changed = {
            **BASE,
            "classifications": [
                ClassificationRecord(
                    namespace="MIT",
                    incident_ids=[1],
                    attributes={"Risk Domain": "7. AI system safety, failures, and limitations"},
                    published=True,
                    source_kind=SourceKind.IMPORTED_MACHINE,
                ),
                BASE["classifications"][1],
            ],
        }
        result = store.ingest("memory.v1", "mem", **changed)
        assert result.counts["classifications"] == {"updated": 1, "unchanged": 1}
        values = [(c["attribute"], c["value"]) for c in store.get_incident(1)["classifications"]]
        assert values == [("Risk Domain", "7. AI system safety, failures, and limitations")]


def test_interrupted_import_writes_nothing_and_is_recorded(db_url: str) -> None:
    with Store(db_url) as store:
        with pytest.raises(KeyboardInterrupt):
            store.ingest("memory.v1", "mem", interrupt=True, **BASE)
        assert store.schema_status()["tables"]["reports"] == 0
        run = store.ingest_runs(limit=1)[0]
        assert (run["outcome"], run["error"]) == ("interrupted", "interrupted by the user")


def test_a_large_postgres_import_is_vacuumed(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import incidentdb._store

    monkeypatch.setattr(incidentdb._store, "VACUUM_AFTER_ROWS", 5)
    with Store(postgres_url) as store:
        store.ingest("memory.v1", "mem", **BASE)
        with store.engine.connect() as conn:
            vacuumed = conn.exec_driver_sql(
                "SELECT last_vacuum IS NOT NULL, last_analyze IS NOT NULL FROM pg_stat_user_tables "
                "WHERE relname = 'reports' AND schemaname = current_schema()"
            ).one()
        assert tuple(vacuumed) == (True, True)


def test_an_entity_named_twice_keeps_the_last_name(db_url: str) -> None:
    entities = [EntityRecord(slug=f"e{i}", name=f"E{i}") for i in range(2500)]
    entities.append(EntityRecord(slug="e1", name="Renamed in a later batch"))
    with Store(db_url) as store:
        result = store.ingest("memory.v1", "mem", entities=entities)
        assert result.counts["entities"] == {"added": 2500, "updated": 1}
        with store.engine.connect() as conn:
            name = conn.exec_driver_sql("SELECT name FROM entities WHERE slug = 'e1'").scalar()
        assert name == "Renamed in a later batch"


@ingesters.register("journal-probe.v1")
class JournalProbe(MemoryIngester):
    """Records the SQLite journal mode its load runs in."""

    name = "journal-probe.v1"
    modes: ClassVar[list[str]] = []

    def __init__(self, peek: str | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.peek = peek

    def load(self, records: dict[str, list[Any]], writer: IngestWriter, progress: Progress) -> None:
        self.modes.append(writer.conn.exec_driver_sql("PRAGMA journal_mode").scalar_one())
        writer.reports(records.get("reports", []))
        if self.peek:  # another connection opens the store and reads it meanwhile
            with Store(self.peek) as other:
                self.modes.append(f"other sees {other.schema_status()['tables']['reports']}")
        super().load(records, writer, progress)


def test_a_new_sqlite_stores_first_import_skips_the_wal(sqlite_url: str) -> None:
    JournalProbe.modes.clear()
    with Store(sqlite_url) as store:
        with pytest.raises(SnapshotFormatError):
            store.ingest(
                "journal-probe.v1", "mem", fail_after_reports=True, peek=sqlite_url, **BASE
            )
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert store.schema_status()["tables"]["incidents"] == 0
        assert store.schema_status()["tables"]["reports"] == 0
        store.ingest("journal-probe.v1", "mem", **BASE)
    with Store(sqlite_url) as store:
        store.ingest("journal-probe.v1", "mem", **BASE)
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert [r["incident_id"] for r in store.list_incidents()] == [2, 1]
    # Only the first ingest into the store this process created runs without the WAL; the
    # failed one rolled back through the rollback journal.
    # A reader that opens the store meanwhile sees it as it was (no reports yet).
    assert JournalProbe.modes == ["delete", "other sees 0", "wal", "wal"]
