"""Fixtures of the generator tests: a store with failure-mode labels."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from generators_support import make_labelled_store

from incidentdb import Store


@pytest.fixture
def labelled_store(db_url: str) -> Iterator[Store]:
    """The sample snapshot with failure-mode labels on six incidents, SQLite and PostgreSQL."""
    store = make_labelled_store(db_url)
    yield store
    store.close()


@pytest.fixture
def labelled_sqlite(sqlite_url: str) -> Iterator[Store]:
    store = make_labelled_store(sqlite_url)
    yield store
    store.close()
