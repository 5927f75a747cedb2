"""Tests of Snapshot: finding collections in snapshot folders of every generation."""

from __future__ import annotations

import collections
import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import bson
import pytest

from incidentdb._errors import SnapshotFormatError, SourceError
from incidentdb._records import (
    ClassificationRecord,
    DuplicateRecord,
    EntityRecord,
    EntityRole,
    ReportRecord,
    SourceKind,
    TranslationRecord,
)
from ingest.aiid.parse import iter_bson_documents
from ingest.aiid.snapshot import Snapshot

FIXTURES = Path(__file__).parent / "fixtures"


def write_bson(path: Path, *docs: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(bson.encode(doc) for doc in docs))


def taxonomy(namespace: str, *fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "_id": bson.ObjectId(),
        "namespace": namespace,
        "weight": 50,
        "field_list": list(fields),
    }


@pytest.fixture
def dump_2025(tmp_path: Path) -> Path:
    """A mongodump snapshot shaped like the 2025 one: BSON plus a few CSV exports."""
    root = tmp_path / "mongodump_full_snapshot"
    prod = root / "aiidprod"
    write_bson(
        prod / "taxa.bson",
        taxonomy(
            "TEST",
            {
                "short_name": "Sectors",
                "display_type": "multi",
                "mongo_type": "array",
                "permitted_values": ["farming, forestry", "retail"],
            },
        ),
        taxonomy("CSET", {"short_name": "Harm Type", "display_type": "multi"}),
    )
    write_bson(
        prod / "entities.bson",
        {"_id": bson.ObjectId(), "entity_id": "acme-corp", "name": "Acme Corp"},
        {"_id": bson.ObjectId(), "entity_id": "", "name": ""},
        {"_id": bson.ObjectId(), "entity_id": "example-labs", "name": "Example Labs"},
    )
    write_bson(
        prod / "incidents.bson",
        {
            "_id": bson.ObjectId(),
            "incident_id": 1,
            "date": "2024-05-06",
            "title": "Robot Blocks Crosswalk",
            "reports": [10, 11],
            "Alleged deployer of AI system": ["acme-corp"],
            "Alleged developer of AI system": ["example-labs"],
            "Alleged harmed or nearly harmed parties": [],
            "implicated_systems": ["crosswalk-bot"],
            "editor_notes": "",
        },
    )
    write_bson(
        prod / "reports.bson",
        {
            "_id": bson.ObjectId(),
            "report_number": 10,
            "title": "Robot Waits",
            "date_published": dt.datetime(2024, 5, 6),
            "authors": ["Jane Roe"],
            "tags": [],
        },
        {
            "_id": bson.ObjectId(),
            "report_number": 11,
            "title": "Variant #11",
            "tags": ["variant:approved"],
            "inputs_outputs": ["go", "stopped"],
            "date_published": "2024-05-07",
        },
    )
    write_bson(
        prod / "classifications.bson",
        {
            "_id": bson.ObjectId(),
            "namespace": "MIT",
            "publish": True,
            "notes": "",
            "incidents": [{"incident_id": 1}],
            "attributes": [{"short_name": "Entity", "value_json": '"AI"'}],
        },
    )
    write_bson(
        prod / "duplicates.bson", {"duplicate_incident_number": 2, "true_incident_number": 1}
    )
    write_bson(prod / "checklists.bson", {"id": "x", "name": "A checklist", "risks": []})
    write_bson(prod / "migrations.bson", {"migrationName": "2024.01.01.something.js"})
    (prod / "entities.metadata.json").write_text('{"indexes":[]}')
    (prod / "taxa.decoded.json").write_text("[]")
    write_bson(
        root / "translations" / "reports_en.bson",
        {"_id": bson.ObjectId(), "report_number": 10, "title": "T", "text": "B", "plain_text": "B"},
    )
    write_bson(root / "translations" / "incidents.bson", {"incident_id": 1, "title": "Titre"})
    (root / "incidents.csv").write_text("_id,incident_id,date,reports,description,title\n")
    (root / "duplicates.csv").write_text("duplicate_incident_number,true_incident_number\n2,1\n")
    (root / "license.txt").write_text("Invented licence line.\n")
    return root


def test_bson_snapshot_layout(dump_2025: Path) -> None:
    snapshot = Snapshot(dump_2025)
    assert snapshot.generation == "2025"
    assert snapshot.files == {
        "classifications": dump_2025 / "aiidprod/classifications.bson",
        "duplicates": dump_2025 / "aiidprod/duplicates.bson",
        "entities": dump_2025 / "aiidprod/entities.bson",
        "incidents": dump_2025 / "aiidprod/incidents.bson",
        "reports": dump_2025 / "aiidprod/reports.bson",
        "taxa": dump_2025 / "aiidprod/taxa.bson",
        "translations:reports_en": dump_2025 / "translations/reports_en.bson",
    }
    assert snapshot.ignored == [
        "aiidprod/checklists.bson",
        "aiidprod/entities.metadata.json",
        "aiidprod/migrations.bson",
        "aiidprod/taxa.decoded.json",
        "duplicates.csv",  # superseded by aiidprod/duplicates.bson
        "incidents.csv",
        "license.txt",
        "translations/incidents.bson",
    ]
    assert snapshot.has("classifications") and snapshot.has("translations")
    assert not snapshot.has("submissions")


def test_bson_snapshot_records(dump_2025: Path) -> None:
    snapshot = Snapshot(dump_2025)
    assert list(snapshot.entities()) == [
        EntityRecord(slug="acme-corp", name="Acme Corp"),
        EntityRecord(slug="example-labs", name="Example Labs"),
    ]
    assert [t.namespace for t in snapshot.taxa()] == ["TEST", "CSETv0"]
    (incident,) = snapshot.incidents()
    assert incident.entities == {
        EntityRole.DEPLOYER: ["acme-corp"],
        EntityRole.DEVELOPER: ["example-labs"],
        EntityRole.IMPLICATED_SYSTEM: ["crosswalk-bot"],
    }
    assert (incident.report_numbers, incident.editor_notes) == ([10, 11], None)
    assert list(snapshot.reports()) == [
        ReportRecord(
            report_number=10,
            title="Robot Waits",
            date_published=dt.date(2024, 5, 6),
            authors=["Jane Roe"],
        ),
        ReportRecord(
            report_number=11,
            title="Variant #11",
            tags=["variant:approved"],
            inputs_outputs=["go", "stopped"],
            date_published=dt.date(2024, 5, 7),
        ),
    ]
    assert list(snapshot.classifications()) == [
        ClassificationRecord(
            namespace="MIT",
            incident_ids=[1],
            attributes={"Entity": "AI"},
            published=True,
            source_kind=SourceKind.IMPORTED_MACHINE,
        )
    ]
    assert list(snapshot.duplicates()) == [
        DuplicateRecord(duplicate_incident_id=2, true_incident_id=1)
    ]
    assert list(snapshot.translations()) == [
        TranslationRecord(report_number=10, language="en", title="T", text="B", plain_text="B")
    ]
    assert list(snapshot.submissions()) == []


def test_bson_errors_name_the_file_relative_to_the_root(dump_2025: Path) -> None:
    path = dump_2025 / "aiidprod/reports.bson"
    path.write_bytes(path.read_bytes()[:-3])
    with pytest.raises(SnapshotFormatError, match=r"^aiidprod/reports\.bson, document 2: trunc"):
        list(Snapshot(dump_2025).reports())


def test_folder_holding_the_extracted_folder_is_accepted(dump_2025: Path) -> None:
    snapshot = Snapshot(dump_2025.parent)
    assert snapshot.root == dump_2025
    assert snapshot.has("incidents")


def test_own_taxa_split_classification_csvs(tmp_path: Path) -> None:
    write_bson(
        tmp_path / "aiidprod" / "taxa.bson",
        taxonomy(
            "TEST",
            {
                "short_name": "Sectors",
                "display_type": "multi",
                "permitted_values": ["farming, forestry", "retail"],
            },
        ),
    )
    (tmp_path / "classifications_TEST.csv").write_text(
        'Namespace,Incident ID,Published,Sectors\nTEST,1,True,"farming, forestry, retail"\n'
    )
    snapshot = Snapshot(tmp_path)
    (record,) = snapshot.classifications()
    assert record.attributes == {"Sectors": ["farming, forestry", "retail"]}
    # Given taxa win over the snapshot's own; without a definition nothing is split.
    (plain,) = snapshot.classifications({})
    assert plain.attributes == {"Sectors": "farming, forestry, retail"}


def test_classification_bson_supersedes_the_csvs_and_generation_follows_the_csvs(
    tmp_path: Path,
) -> None:
    write_bson(
        tmp_path / "aiidprod" / "classifications.bson",
        {"namespace": "MIT", "incident_id": 1, "attributes": []},
    )
    shutil.copy(FIXTURES / "gen2026/classifications_MIT.csv", tmp_path)
    snapshot = Snapshot(tmp_path)
    assert snapshot.generation == "2026"
    assert list(snapshot.files) == ["classifications"]
    assert snapshot.ignored == ["classifications_MIT.csv"]
    assert [c.incident_ids for c in snapshot.classifications()] == [[1]]


def test_translations_database_of_2024_onwards(tmp_path: Path) -> None:
    write_bson(
        tmp_path / "translations" / "reports.bson",
        {"report_number": 3, "language": "es", "title": "Título"},
        {"report_number": 3, "language": "fr", "title": "Titre"},
    )
    snapshot = Snapshot(tmp_path)
    assert snapshot.generation == "unknown"
    assert [(t.language, t.title) for t in snapshot.translations()] == [
        ("es", "Título"),
        ("fr", "Titre"),
    ]


def test_folder_without_snapshot_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("nothing here")
    with pytest.raises(SnapshotFormatError, match="no AIID snapshot file found"):
        Snapshot(tmp_path)
    with pytest.raises(SourceError, match="is not a folder"):
        Snapshot(tmp_path / "notes.txt")


def test_fixture_2026_csv_snapshot() -> None:
    snapshot = Snapshot(FIXTURES / "gen2026")
    assert snapshot.generation == "2026"
    assert list(snapshot.files) == [
        "classifications:CSETv1",
        "classifications:GMF",
        "classifications:MIT",
        "duplicates",
        "incidents",
        "quickadd",
        "submissions",
    ]
    assert snapshot.ignored == ["aiidprod/reports.metadata.json", "license.txt"]
    assert [i.incident_id for i in snapshot.incidents()] == [1, 2, 4]
    assert [(s.kind, s.incident_id) for s in snapshot.submissions()] == [
        ("submission", None),
        ("submission", 4),
        ("quickadd", None),
        ("quickadd", 4),
    ]
    assert [(c.namespace, c.incident_ids) for c in snapshot.classifications()] == [
        ("CSETv1", [1]),
        ("CSETv1", [2]),
        ("GMF", [1]),
        ("MIT", [1]),
        ("MIT", [4]),
    ]
    assert list(snapshot.entities()) == list(snapshot.taxa()) == list(snapshot.reports()) == []
    assert not snapshot.has("reports")


@pytest.mark.parametrize(
    ("folder", "generation", "classified", "submissions"),
    [("gen2023", "2023", [1, 4], 2), ("gen2021", "2021", [1, 2], 2)],
)
def test_fixture_older_snapshots(
    folder: str, generation: str, classified: list[int], submissions: int
) -> None:
    snapshot = Snapshot(FIXTURES / folder)
    assert snapshot.generation == generation
    assert snapshot.ignored == []
    records = list(snapshot.classifications())
    assert [c.incident_ids[0] for c in records] == classified
    assert {c.namespace for c in records} == {"CSETv0"}
    assert sum(1 for _ in snapshot.submissions()) == submissions


# --- real data (tier 3) ---------------------------------------------------------------------

SNAPSHOT_2026 = "aiid_data/TanviPatel9722+AI-incident-snapshot/data"
SNAPSHOT_2025 = (
    "aiid_data/SylvesterDuah+The_Guardian_of_AI_Alignment/data/raw/mongodump_full_snapshot"
)
SNAPSHOT_2023 = "aiid_data/SkotBotCambo+aiid_demos/notebooks"
SNAPSHOT_2021 = "aiid_data/LKchemposer+aiid-visualization/data"


@pytest.mark.shared
def test_real_2026_incidents(shared_dir: Path) -> None:
    snapshot = Snapshot(shared_dir / SNAPSHOT_2026)
    assert snapshot.generation == "2026"
    incidents = list(snapshot.incidents())
    assert len(incidents) == 919
    incidents_per_report = collections.Counter(
        number for incident in incidents for number in set(incident.report_numbers)
    )
    # The shipped file lacks 448 withheld incidents, so fewer reports are shared than in the
    # full export: 23 report numbers appear in more than one of the 919 incidents.
    assert sum(1 for count in incidents_per_report.values() if count > 1) == 23
    assert sum(len(incident.report_numbers) for incident in incidents) == 4118
    assert sum(1 for _ in snapshot.duplicates()) == 13
    assert collections.Counter(s.kind for s in snapshot.submissions()) == {
        "submission": 45,
        "quickadd": 45,
    }


@pytest.mark.shared
def test_real_2026_classifications_with_and_without_taxa(shared_dir: Path) -> None:
    taxa = {t.namespace: t for t in Snapshot(shared_dir / SNAPSHOT_2025).taxa()}
    snapshot = Snapshot(shared_dir / SNAPSHOT_2026)
    with_taxa = list(snapshot.classifications(taxa))
    assert collections.Counter(c.namespace for c in with_taxa) == {
        "MIT": 868,
        "GMF": 259,
        "CSETv1": 179,
        "CSETv1_Annotator-1": 245,
        "CSETv1_Annotator-2": 93,
        "CSETv1_Annotator-3": 71,
        "CSETv0": 99,
    }
    # The built-in field table agrees with the real taxa on every value.
    assert list(snapshot.classifications()) == with_taxa
    # The two "AI System" columns of CSETv1 always agree, so no "(2)" attribute appears.
    assert not any("AI System (2)" in c.attributes for c in with_taxa)
    mit = [c for c in with_taxa if c.namespace == "MIT"]
    assert {c.source_kind for c in mit} == {SourceKind.IMPORTED_MACHINE}
    assert "7. AI system safety, failures, and limitations" in {
        c.attributes.get("Risk Domain") for c in mit
    }


@pytest.mark.shared
def test_real_2025_bson(shared_dir: Path) -> None:
    snapshot = Snapshot(shared_dir / SNAPSHOT_2025)
    assert snapshot.generation == "2025"
    with (shared_dir / SNAPSHOT_2025 / "aiidprod/entities.bson").open("rb") as stream:
        assert sum(1 for _ in iter_bson_documents(stream, "entities.bson")) == 3087
    # One of the 3,087 documents (number 1204) is a blank {entity_id: "", name: ""}.
    assert sum(1 for _ in snapshot.entities()) == 3086
    assert [t.namespace for t in snapshot.taxa()] == [
        "CSETv1",
        "CSETv1_Annotator-1",
        "CSETv1_Annotator-2",
        "CSETv0",
        "GMF",
        "CSETv1_Annotator-3",
    ]
    assert sum(1 for _ in snapshot.translations()) == 60
    assert sum(1 for _ in snapshot.duplicates()) == 12
    assert sum(1 for _ in snapshot.incidents()) == 705
    assert "aiidprod/checklists.bson" in snapshot.ignored
    assert "duplicates.csv" in snapshot.ignored


@pytest.mark.shared
def test_real_2023_snapshot(shared_dir: Path) -> None:
    snapshot = Snapshot(shared_dir / SNAPSHOT_2023)
    assert snapshot.generation == "2023"
    records = list(snapshot.classifications())
    assert len(records) == 99
    assert {c.namespace for c in records} == {"CSETv0"}
    assert sum(1 for _ in snapshot.translations()) == 40
    assert sum(1 for _ in snapshot.incidents()) == 438
    assert sum(1 for _ in snapshot.duplicates()) == 11
    assert collections.Counter(s.kind for s in snapshot.submissions()) == {
        "submission": 46,
        "quickadd": 4,
    }


@pytest.mark.shared
def test_real_2021_snapshot(shared_dir: Path) -> None:
    snapshot = Snapshot(shared_dir / SNAPSHOT_2021)
    assert snapshot.generation == "2021"
    records = list(snapshot.classifications())
    assert len(records) == 96
    assert collections.Counter(c.published for c in records) == {True: 63, False: 33}
    assert sum(1 for _ in snapshot.duplicates()) == 1
    assert collections.Counter(s.kind for s in snapshot.submissions()) == {
        "submission": 40,
        "quickadd": 80,
    }
