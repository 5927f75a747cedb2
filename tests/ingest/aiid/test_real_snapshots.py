"""Tier 3: every real snapshot generation in ../shared/aiid_data imports, with real counts.

Expected figures are computed here independently from the files with the csv module, not
taken from the importer.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import bson
import pytest

from incidentdb import IngestError, Store

pytestmark = pytest.mark.shared

GEN_2026 = "TanviPatel9722+AI-incident-snapshot/data"
GEN_2025 = "SylvesterDuah+The_Guardian_of_AI_Alignment/data/raw/mongodump_full_snapshot"
GEN_2023 = "SkotBotCambo+aiid_demos/notebooks"
GEN_2021 = "LKchemposer+aiid-visualization/data"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _duplicates(folder: Path) -> dict[int, int]:
    return {
        int(r["duplicate_incident_number"]): int(r["true_incident_number"])
        for r in _rows(folder / "duplicates.csv")
    }


def _canonical(dups: dict[int, int], iid: int) -> int:
    seen = set()
    while iid in dups and iid not in seen:
        seen.add(iid)
        iid = dups[iid]
    return iid


@pytest.fixture
def aiid(shared_dir: Path) -> Path:
    return shared_dir / "aiid_data"


def test_2026_snapshot(db_url: str, aiid: Path) -> None:
    folder = aiid / GEN_2026
    rows = _rows(folder / "incidents.csv")
    dups = _duplicates(folder)
    assert len(rows) == 919
    kept = [r for r in rows if int(r["incident_id"]) not in dups]
    report_refs: dict[int, set[int]] = {}
    for r in kept:
        for n in json.loads(r["reports"]):
            report_refs.setdefault(n, set()).add(int(r["incident_id"]))
    shared_reports = sum(1 for ids in report_refs.values() if len(ids) > 1)

    with Store(db_url) as store:
        result = store.ingest("aiid.v1", str(folder))
        assert result.counts["incidents"] == {
            "added": len(kept),
            "skipped_duplicate": len(rows) - len(kept),
        }
        assert result.counts["duplicates"] == {"added": 13}
        assert result.counts["reports"] == {"stubs": len(report_refs)}
        status = store.schema_status()["tables"]
        assert status["incidents"] == len(kept) == 917
        assert status["duplicates"] == 13
        # Duplicate of a duplicate: 342 -> 88 -> 1057.
        assert _canonical(dups, 342) == 1057
        assert store.resolve_incident_id(342) == 1057
        assert store.resolve_incident_id(88) == 1057
        listed = {r["incident_id"] for r in store.list_incidents()}
        assert listed.isdisjoint(dups)
        # Reports linked to more than one incident, as the incidents' report lists say.
        with store.engine.connect() as conn:
            multi = conn.exec_driver_sql(
                "SELECT COUNT(*) FROM (SELECT report_pk FROM incident_reports "
                "GROUP BY report_pk HAVING COUNT(*) > 1) AS t"
            ).scalar()
        assert multi == shared_reports

        # Classification documents per namespace, counted from the CSV files: one per row whose
        # (canonical) incident is in the store, identical rows of one incident counted once.
        with store.engine.connect() as conn:
            per_ns = dict(
                conn.exec_driver_sql(
                    "SELECT namespace, COUNT(*) FROM imported_classifications GROUP BY namespace"
                ).all()
            )
        file_counts = {
            "MIT": 868,
            "GMF": 259,
            "CSETv1": 179,
            "CSETv0": 99,
            "CSETv1_Annotator-1": 245,
        }
        for ns, n_rows in file_counts.items():
            file_rows = _rows(folder / f"classifications_{ns}.csv")
            assert len(file_rows) == n_rows, ns
            expected = {
                (_canonical(dups, int(r["Incident ID"])), tuple(sorted(r.items())[1:]))
                for r in file_rows
                if _canonical(dups, int(r["Incident ID"])) in listed
            }
            assert per_ns[ns] == len(expected), ns

        again = store.ingest("aiid.v1", str(folder))
        assert again.outcome == "unchanged"


def test_2023_then_2026_is_incremental(sqlite_url: str, aiid: Path) -> None:
    old = {int(r["incident_id"]): r for r in _rows(aiid / GEN_2023 / "incidents.csv")}
    new = {int(r["incident_id"]): r for r in _rows(aiid / GEN_2026 / "incidents.csv")}
    dups = _duplicates(aiid / GEN_2026)
    fields = [k for k in next(iter(new.values())) if k != "_id"]
    live_new = {i for i in new if i not in dups}
    changed = {i for i in set(old) & live_new if any(old[i][f] != new[i][f] for f in fields)}
    merged = {i for i in old if i in dups}

    with Store(sqlite_url) as store:
        first = store.ingest("aiid.v1", str(aiid / GEN_2023))
        assert first.counts["incidents"] == {"added": len(old)}
        second = store.ingest("aiid.v1", str(aiid / GEN_2026))
        counts = second.counts["incidents"]
        assert counts["added"] == len(live_new - set(old))
        assert counts["updated"] == len(changed)
        assert counts["unchanged"] == len((set(old) & live_new) - changed)
        assert counts["merged"] == len(merged)
        # A stored incident that turns out to be a duplicate of one absent from the store (88 ->
        # 1057 here) lives on under the canonical id, so no data is lost and 88 never shows.
        expected = live_new | {_canonical(dups, i) for i in old}
        assert store.schema_status()["tables"]["incidents"] == len(expected)
        assert store.get_incident(88)["incident_id"] == 1057
        with store.engine.connect() as conn:
            ids = [i for (i,) in conn.exec_driver_sql("SELECT incident_id FROM incidents")]
        assert len(ids) == len(set(ids))


def test_2025_bson_entities_and_taxa(sqlite_url: str, aiid: Path) -> None:
    folder = aiid / GEN_2025
    entities = bson.decode_all((folder / "aiidprod" / "entities.bson").read_bytes())
    assert len(entities) == 3087
    with Store(sqlite_url) as store:
        result = store.ingest("aiid.v1", str(folder))
        # One document is a blank placeholder (empty entity_id) that nothing refers to.
        named = [e for e in entities if e.get("entity_id")]
        assert len(named) == 3086
        assert result.counts["entities"]["added"] == len(named)
        assert result.counts["taxonomies"] == {"added": 6}
        assert result.counts["translations"] == {"added": 60}
        names = {e["entity_id"]: e["name"] for e in entities}
        shown = store.get_incident(1)
        deployers = shown["entities"]["deployer"]
        assert deployers and all(d["name"] == names[d["slug"]] for d in deployers)


def test_2021_classifications_attach_to_imported_incidents(sqlite_url: str, aiid: Path) -> None:
    rows = _rows(aiid / GEN_2021 / "classifications_cset.csv")
    with Store(sqlite_url) as store:
        store.ingest("aiid.v1", str(aiid / GEN_2026))
        result = store.ingest("aiid.v1", str(aiid / GEN_2021))
        counts = result.counts["classifications"]
        assert sum(counts.values()) == len(rows) - 2  # two incidents carry two documents each
        assert counts.get("skipped_missing_incident", 0) > 0
        assert result.counts["submissions"]["added"] > 0


def test_2025_after_2026_is_refused(sqlite_url: str, aiid: Path) -> None:
    with Store(sqlite_url) as store:
        store.ingest("aiid.v1", str(aiid / GEN_2026))
        with pytest.raises(IngestError, match=r"\(2025-02-10\) is older than .* \(2026-02-21\)"):
            store.ingest("aiid.v1", str(aiid / GEN_2025))
