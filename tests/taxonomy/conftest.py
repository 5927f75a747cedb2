"""Fixtures of the classifier tests: a small labelled incident set written for them."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from incidentdb import Store
from incidentdb._models import Incident, table_of
from taxonomy import FailureModeClassifier

FIXTURES = Path(__file__).parent / "fixtures"


def _incidents() -> list[dict[str, Any]]:
    lines = (FIXTURES / "incidents.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _text(incident: dict[str, Any]) -> str:
    return f"{incident['title']}. {incident['description']}"


@pytest.fixture(scope="session")
def incidents_data() -> list[dict[str, Any]]:
    """The fixture incidents: incident_id, date, title, description, labels."""
    return _incidents()


@pytest.fixture(scope="session")
def texts_and_labels() -> tuple[list[str], list[list[str]]]:
    incidents = _incidents()
    return [_text(i) for i in incidents], [i["labels"] for i in incidents]


@pytest.fixture(scope="session")
def small_classifier() -> FailureModeClassifier:
    """A classifier fitted on the fixture incidents (two folds: they are few)."""
    incidents = _incidents()
    return FailureModeClassifier(name="test.small", calibration_folds=2).fit(
        [_text(i) for i in incidents], [i["labels"] for i in incidents]
    )


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A store (SQLite and PostgreSQL) holding the fixture incidents."""
    yield from _store(db_url)


@pytest.fixture
def sqlite_store_url(sqlite_url: str) -> str:
    """A SQLite store holding the fixture incidents, by URL (for CLI tests)."""
    for opened in _store(sqlite_url):
        opened.close()
    return sqlite_url


def _store(url: str) -> Iterator[Store]:
    store = Store(url)
    rows = [
        {
            "incident_id": i["incident_id"],
            "title": i["title"],
            "description": i["description"],
            "date": dt.date.fromisoformat(i["date"]),
        }
        for i in _incidents()
    ]
    with store.engine.begin() as conn:
        conn.execute(insert(table_of(Incident)), rows)
    yield store
    store.close()


@pytest.fixture
def labels_file(tmp_path: Path) -> Path:
    path = tmp_path / "labels.jsonl"
    path.write_text(
        "".join(
            json.dumps({"incident_id": i["incident_id"], "labels": i["labels"]}) + "\n"
            for i in _incidents()
        ),
        encoding="utf-8",
    )
    return path
