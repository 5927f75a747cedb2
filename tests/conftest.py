"""Fixtures shared by every test tier."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError
from tests_support import SHARED


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """`../shared/`, the real data beside the project; skips the test when it is absent."""
    if not (SHARED / "aiid_data").is_dir():
        pytest.skip(f"real data not found at {SHARED} (tier-3 tests need ../shared/)")
    return SHARED


# -- databases -------------------------------------------------------------------------------

POSTGRES_ENV = "INCIDENTDB_TEST_POSTGRES_URL"
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_base_url() -> str:
    return os.environ.get(POSTGRES_ENV, DEFAULT_POSTGRES)


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The PostgreSQL base URL; skips when no server answers (fails instead under CI)."""
    url = _postgres_base_url()
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except OperationalError as exc:
        if os.environ.get("INCIDENTDB_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL required but not reachable at {url}: {exc}")
        pytest.skip(f"no PostgreSQL server answers at {url} (set {POSTGRES_ENV})")
    return url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A URL whose search_path is a fresh schema, dropped after the test."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in postgres_server else "?"
    yield f"{postgres_server}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'store.sqlite'}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_url"))
