"""avid.v1 on the 18 real AVID files: valid ones import, invalid ones fail cleanly, round trip."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from incidentdb import DocumentFormatError, Store
from incidentdb._models import COUNTED_TABLES, Classification, Incident
from incidentdb._models_compliance import ExternalIncident
from incidentdb.cli import cli
from ingest.avid.export import avid_document
from ingest.avid.parse import parse_document

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def fixtures(shared_dir: Path) -> Path:
    folder = shared_dir / "avid-fixtures"
    if not folder.is_dir():
        pytest.skip(f"AVID fixtures not found at {folder}")
    return folder


@pytest.fixture(scope="module")
def manifest(fixtures: Path) -> list[dict[str, Any]]:
    return json.loads((fixtures / "MANIFEST.json").read_text(encoding="utf-8"))


def _valid(manifest: list[dict[str, Any]]) -> list[str]:
    return [m["file"] for m in manifest if m["avidtools_0.3.2_validation"] == "valid"]


def _invalid(manifest: list[dict[str, Any]]) -> dict[str, set[str]]:
    """file -> {"field:kind"} as the manifest writes them ("metrics.results:missing")."""
    out = {}
    for m in manifest:
        verdict = m["avidtools_0.3.2_validation"]
        if verdict.startswith("INVALID: "):
            out[m["file"]] = set(verdict.removeprefix("INVALID: ").split("; "))
    return out


def _counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        counts = {
            name: conn.execute(select(func.count()).select_from(model.__table__)).scalar_one()
            for name, model in COUNTED_TABLES.items()
            if name != "ingest_runs"
        }
        counts["external_incidents"] = conn.execute(
            select(func.count()).select_from(ExternalIncident.__table__)
        ).scalar_one()
    return counts


def _copy(fixtures: Path, names: list[str], target: Path) -> Path:
    target.mkdir()
    for name in names:
        shutil.copy(fixtures / name, target / name)
    return target


def test_manifest_has_the_expected_mix(manifest: list[dict[str, Any]]) -> None:
    assert len(manifest) == 18
    assert len(_valid(manifest)) == 13
    assert len(_invalid(manifest)) == 5


def test_every_valid_fixture_imports(
    db_url: str, fixtures: Path, manifest: list[dict[str, Any]], tmp_path: Path
) -> None:
    folder = _copy(fixtures, _valid(manifest), tmp_path / "valid")
    with Store(db_url) as store:
        result = store.ingest("avid.v1", str(folder))
        assert result.outcome == "succeeded"
        assert result.counts["incidents"] == {"added": 13}
        again = store.ingest("avid.v1", str(folder))
        assert again.outcome == "unchanged"
        assert again.counts["incidents"] == {"unchanged": 13}
        with store.engine.connect() as conn:
            sources = conn.execute(select(Incident.source, Incident.incident_id)).all()
        assert set(sources) == {("avid", None)}
        for name in _valid(manifest):
            external_id = re.search(r"AVID-\d{4}-[RV]\d+", name)
            assert external_id is not None
            assert store.external_incident(external_id[0])["locator"] == name


@pytest.mark.parametrize(
    "name",
    [
        "reports__2022__AVID-2022-R0001.json",
        "reports__2025__AVID-2025-R0001.json",
        "reports__2025__AVID-2025-R0002.json",
        "reports__2025__AVID-2025-R0003.json",
        "reports__2025__AVID-2025-R0004.json",
    ],
)
def test_every_invalid_fixture_fails_naming_file_and_field(
    name: str, fixtures: Path, manifest: list[dict[str, Any]], sqlite_url: str
) -> None:
    expected = _invalid(manifest)[name]
    with Store(sqlite_url) as store:
        before = _counts(store)
        with pytest.raises(DocumentFormatError) as caught:
            store.ingest("avid.v1", str(fixtures / name))
        assert _counts(store) == before
        assert store.ingest_runs()[0]["outcome"] == "failed"
    problems = caught.value.problems
    assert {file for file, _, _ in problems} == {name}
    kinds = {
        re.sub(r"\[[\d.,]+\]", "", field)
        + (":missing" if message == "required field is missing" else ":enum")
        for _, field, message in problems
    }
    assert kinds == expected
    assert f"  {name}: " in str(caught.value)


def test_a_folder_with_invalid_files_writes_nothing(
    db_url: str, fixtures: Path, manifest: list[dict[str, Any]]
) -> None:
    with Store(db_url) as store:
        before = _counts(store)
        with pytest.raises(DocumentFormatError) as caught:
            store.ingest("avid.v1", str(fixtures))
        assert _counts(store) == before
    assert {file for file, _, _ in caught.value.problems} == set(_invalid(manifest))
    assert str(caught.value).startswith("5 invalid document(s):\n")


def test_lenient_imports_all_and_maps_sep_codes(db_url: str, fixtures: Path) -> None:
    with Store(db_url) as store:
        result = store.ingest("avid.v1", str(fixtures), lenient=True)
        assert result.counts["incidents"] == {"added": 18}
        assert "skipped 1 non-AVID JSON file(s): MANIFEST.json" in result.notes
        assert (
            "reports__2025__AVID-2025-R0002.json: impact.avid.sep_view: "
            "'E0100: Bias/Discrimination' read as 'E0100: Bias/ Discrimination'"
        ) in result.notes
        assert store.ingest("avid.v1", str(fixtures), lenient=True).outcome == "unchanged"
        with store.engine.connect() as conn:
            pk = conn.execute(
                select(ExternalIncident.incident_pk).where(
                    ExternalIncident.external_id == "AVID-2026-R0131"
                )
            ).scalar_one()
            labels = conn.execute(
                select(Classification.attribute, Classification.value)
                .where(Classification.incident_pk == pk, Classification.namespace == "AVID")
                .order_by(Classification.id)
            ).all()
        assert ("sep_view", "S0403: Adversarial Example") in labels
        assert [v for a, v in labels if a == "failure_mode"] == [
            "adversarial",
            "adversarial.jailbreak.adversarial_suffix",
        ]
        inc = store.external_incident("AVID-2026-R0131")
        assert inc["kind"] == "report"


def test_round_trip_validates_with_avidtools(sqlite_url: str, fixtures: Path) -> None:
    report_model = pytest.importorskip("avidtools.datamodels.report").Report
    vuln_model = pytest.importorskip("avidtools.datamodels.vulnerability").Vulnerability
    originals = {
        json.loads(p.read_text(encoding="utf-8")).get("metadata", {}).get("report_id")
        or json.loads(p.read_text(encoding="utf-8"))["metadata"]["vuln_id"]: p
        for p in sorted(fixtures.glob("*__AVID-*.json"))
    }
    with Store(sqlite_url) as store:
        store.ingest("avid.v1", str(fixtures), lenient=True)
        for external_id, path in originals.items():
            exported = avid_document(store, external_id)
            model = vuln_model if "-V" in external_id else report_model
            model.model_validate(exported)  # raises if avidtools refuses it
            original = json.loads(path.read_text(encoding="utf-8"))
            if not parse_document(original).problems:
                assert exported == original, external_id  # valid documents come back as is
        store.add_company_incident(_company())
        store.ingest("aiid.v1", _sample())
        for ref in ("C-1", "1"):
            report_model.model_validate(avid_document(store, ref))


def _company() -> Any:
    from incidentdb._company import load_company_incident

    return load_company_incident(
        Path(__file__).parents[2] / "incidentdb" / "reports" / "company_incident.yaml"
    )


def _sample() -> str:
    from incidentdb._data import bundled_data

    return str(bundled_data("sample", "mongodump_full_snapshot"))


def test_garak_jsonl(sqlite_url: str, fixtures: Path, tmp_path: Path) -> None:
    doc = json.loads((fixtures / "reports__2026__AVID-2026-R0131.json").read_text("utf-8"))
    doc.pop("metadata")  # garak's reports carry no AVID id
    other = {**doc, "reported_date": "2026-01-02"}
    path = tmp_path / "run.avid.jsonl"
    path.write_text(json.dumps(doc) + "\n\n" + json.dumps(other) + "\n", encoding="utf-8")
    with Store(sqlite_url) as store:
        result = store.ingest("avid.v1", str(path))
        assert result.counts["incidents"] == {"added": 2}
        with store.engine.connect() as conn:
            ids = sorted(conn.execute(select(ExternalIncident.external_id)).scalars())
        assert len(ids) == 2 and all(re.fullmatch(r"AVID-LOCAL-[0-9A-F]{10}", i) for i in ids)
        assert store.external_incident(ids[0].lower())["locator"].startswith("run.avid.jsonl:")
        exported = avid_document(store, ids[0])
        assert "metadata" not in exported and exported["affects"] == doc["affects"]
        assert store.ingest("avid.v1", str(path)).outcome == "unchanged"
        path.write_text(json.dumps(doc) + "\n{broken\n", encoding="utf-8")
        with pytest.raises(DocumentFormatError, match=r"run.avid.jsonl:2: \(file\): not valid"):
            store.ingest("avid.v1", str(path))


def test_cli_ingest_and_export(tmp_path: Path, fixtures: Path) -> None:
    db = str(tmp_path / "s.sqlite")
    one = str(fixtures / "reports__2026__AVID-2026-R0062.json")
    result = CliRunner().invoke(cli, ["--db", db, "-q", "ingest", "avid", one, "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "kind,added,updated,unchanged,other\n"
        "classifications,2,0,0,\n"
        "entities,12,0,0,\n"  # Mistral, OpenAI and ten artifacts
        "incidents,1,0,0,\n"
        "reports,1,0,0,\n"
    )
    out = tmp_path / "r.json"
    result = CliRunner().invoke(
        cli, ["--db", db, "-q", "export", "avid", "AVID-2026-R0062", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text("utf-8")) == json.loads(Path(one).read_text("utf-8"))
    bad = str(fixtures / "reports__2025__AVID-2025-R0002.json")
    result = CliRunner().invoke(cli, ["--db", db, "-q", "ingest", "avid", bad])
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: 1 invalid document(s):\n"
        "  reports__2025__AVID-2025-R0002.json: impact.avid.sep_view[0]: "
        "'E0100: Bias/Discrimination' is not one of avidtools' values\n"
        "Hint: Nothing was imported. Fix or remove the named files (or pass --lenient).\n"
    )
