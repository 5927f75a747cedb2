"""ingest.avid.parse on small documents written here: pure functions, no store."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from incidentdb import EntityRole, Store
from ingest.avid.parse import document_kind, normalise, parse_document
from taxonomy import load_taxonomy

REPORT: dict[str, Any] = {
    "data_type": "AVID",
    "data_version": "0.2",
    "metadata": {"report_id": "AVID-2030-R0001"},
    "affects": {
        "developer": ["Acme"],
        "deployer": ["Acme Cloud", " "],
        "artifacts": [{"type": "Model", "name": "acme-7b"}],
    },
    "problemtype": {
        "classof": "LLM Evaluation",
        "type": "Detection",
        "description": {"lang": "eng", "value": "acme-7b follows injected instructions"},
    },
    "metrics": [
        {
            "name": "ASR",
            "detection_method": {"type": "Static Threshold", "name": "garak"},
            "results": {"asr": 0.4},
        }
    ],
    "references": [{"label": "write-up", "url": "https://example.org/acme"}],
    "description": {"lang": "eng", "value": "Indirect prompt injection via retrieved pages."},
    "impact": {
        "avid": {
            "risk_domain": ["Security"],
            "sep_view": ["S0403: Adversarial Example"],
            "lifecycle_view": ["L06: Deployment"],
            "taxonomy_version": "0.2",
        }
    },
    "reported_date": "2030-01-02",
}


def test_a_valid_report_becomes_a_record() -> None:
    parsed = parse_document(REPORT, taxonomy=load_taxonomy())
    assert parsed.problems == [] and parsed.notes == []
    rec = parsed.record
    assert rec is not None
    assert (rec.external_id, rec.kind, rec.source) == ("AVID-2030-R0001", "report", "avid")
    assert rec.title == "acme-7b follows injected instructions"
    assert str(rec.date) == "2030-01-02"
    assert rec.entities == {
        EntityRole.DEVELOPER: ["Acme"],
        EntityRole.DEPLOYER: ["Acme Cloud"],
        EntityRole.IMPLICATED_SYSTEM: ["acme-7b"],
    }
    assert [(r.url, r.title) for r in rec.references] == [("https://example.org/acme", "write-up")]
    assert [(label.attribute, label.value) for label in rec.labels] == [
        ("classof", "LLM Evaluation"),
        ("type", "Detection"),
        ("risk_domain", "Security"),
        ("sep_view", "S0403: Adversarial Example"),
        ("lifecycle_view", "L06: Deployment"),
        ("taxonomy_version", "0.2"),
        ("failure_mode", "adversarial"),
        ("failure_mode", "adversarial.jailbreak.adversarial_suffix"),
    ]
    assert rec.document == REPORT


def test_problems_name_fields_and_group_list_items() -> None:
    doc = copy.deepcopy(REPORT)
    doc["metrics"] = [{"scorer": "x"}, {"scorer": "y"}, {"scorer": "z"}]
    doc["impact"]["avid"]["sep_view"] = ["S0403: Adversarial Example", "X9999: Nonsense"]
    doc["affects"]["artifacts"][0]["type"] = "Robot"
    parsed = parse_document(doc)
    assert parsed.record is None
    assert parsed.problems == [
        ("affects.artifacts[0].type", "'Robot' is not one of avidtools' values"),
        ("metrics[0..2].name", "required field is missing"),
        ("metrics[0..2].detection_method", "required field is missing"),
        ("metrics[0..2].results", "required field is missing"),
        ("impact.avid.sep_view[1]", "'X9999: Nonsense' is not one of avidtools' values"),
    ]


def test_lenient_repairs_known_drift_and_says_so() -> None:
    doc = copy.deepcopy(REPORT)
    doc["problemtype"]["classof"] = ""
    doc["impact"]["avid"]["sep_view"] = ["s0403: adversarial examples"]
    doc["impact"]["avid"]["lifecycle_view"] = ["L06: deployment"]
    doc["metrics"].append({"scorer": "accuracy", "value": 0.5})
    assert parse_document(doc).record is None
    repaired, notes = normalise(doc)
    assert notes == [
        "impact.avid.sep_view: 's0403: adversarial examples' read as 'S0403: Adversarial Example'",
        "impact.avid.lifecycle_view: 'L06: deployment' read as 'L06: Deployment'",
        "problemtype.classof: '' read as 'Undefined'",
        "metrics: 1 of 2 not in avidtools' shape, kept in the stored document only",
    ]
    assert repaired["metrics"] == REPORT["metrics"]
    parsed = parse_document(doc, lenient=True)
    assert parsed.record is not None and parsed.notes == notes
    assert parsed.record.document == doc  # the stored document is the original


def test_kinds_and_shapes() -> None:
    assert document_kind(REPORT) == "report"
    assert document_kind({"metadata": {"vuln_id": "AVID-2030-V001"}}) == "vulnerability"
    assert document_kind({"reports": []}) == "vulnerability"
    assert parse_document([1, 2]).problems == [("(document)", "expected a JSON object")]
    other = {**REPORT, "data_type": "CVE"}
    assert parse_document(other).problems == [("data_type", "'CVE' is not 'AVID'")]


def test_garak_output_shape_imports(tmp_path: Path) -> None:
    """garak writes every optional field, null where unset, and no AVID id."""
    path = Path(__file__).parent / "fixtures" / "garak_run.avid.jsonl"
    with Store(f"sqlite:///{tmp_path / 's.sqlite'}") as store:
        result = store.ingest("avid.v1", str(path))
        assert result.counts["incidents"] == {"added": 2}
        rows = store.list_incidents()
        assert sorted(r["title"].split("`")[1] for r in rows) == [
            "dan.Dan_11_0",
            "latentinjection.LatentInjectionReport",
        ]
        assert store.ingest("avid.v1", str(path)).outcome == "unchanged"
