"""AVID documents built from store facts validate against avidtools' own schema."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from incidentdb import Store
from incidentdb._models_compliance import ExternalIncident
from ingest.avid.export import _from_facts, avid_document
from ingest.avid.parse import parse_document

report_model = pytest.importorskip(
    "avidtools.datamodels.report", reason="avidtools is not installed (pip install .[avid])"
).Report

names = st.lists(st.text(min_size=1, max_size=20), max_size=3)


@settings(max_examples=40, deadline=None)
@given(
    source=st.sampled_from(["aiid", "company", "feed"]),
    title=st.text(min_size=1, max_size=60),
    description=st.none() | st.text(max_size=80),
    date=st.none() | st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2040, 1, 1)),
    developers=names,
    deployers=names,
    systems=names,
    urls=st.lists(st.from_regex(r"https://[a-z]{1,10}\.org/[a-z0-9]{0,8}", fullmatch=True)),
)
def test_built_documents_validate_and_parse_back(
    source: str,
    title: str,
    description: str | None,
    date: dt.date | None,
    developers: list[str],
    deployers: list[str],
    systems: list[str],
    urls: list[str],
) -> None:
    facts: dict[str, Any] = {
        "source": source,
        "title": title,
        "description": description,
        "occurrence.date": date.isoformat() if date else None,
        "references": urls,
        "entities": {
            "developer": developers,
            "deployer": deployers,
            "implicated_system": systems,
        },
    }
    document = _from_facts(facts)
    report = report_model.model_validate(document)
    assert report.problemtype.description.value == title
    assert report.reported_date == date
    parsed = parse_document(document)
    assert parsed.problems == []
    assert parsed.record is not None and parsed.record.title == title
    assert [r.url for r in parsed.record.references] == urls


def test_garak_output_round_trips(tmp_path: Path) -> None:
    path = Path(__file__).parent / "fixtures" / "garak_run.avid.jsonl"
    originals = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    with Store(f"sqlite:///{tmp_path / 's.sqlite'}") as store:
        store.ingest("avid.v1", str(path))
        with store.engine.connect() as conn:
            ids = list(conn.execute(select(ExternalIncident.external_id)).scalars())
        exported = [avid_document(store, i) for i in ids]
    for document in exported:
        report_model.model_validate(document)
    key = json.dumps
    assert sorted(map(key, exported)) == sorted(map(key, originals))
