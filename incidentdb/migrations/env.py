"""Alembic environment: runs on the connection the Store hands over, or on the configured URL."""

from __future__ import annotations

import warnings
from typing import Any

from alembic import context
from sqlalchemy import Connection, create_engine

from incidentdb._models import Base
from incidentdb._search import is_search_object

config = context.config
target_metadata = Base.metadata


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    # Full-text search tables, columns and indexes come from raw DDL in a migration, not models;
    # so do the trends' expression indexes (migration 0008), which differ per dialect.
    if type_ == "index" and name is not None and name.startswith("ix_trend_"):
        return False
    return not is_search_object(name, type_)


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
        compare_type=True,
    )


def _run() -> None:
    with warnings.catch_warnings():
        # SQLite's reflection cannot read expression indexes and says so; `include_object`
        # leaves the trend indexes out of the comparison anyway.
        warnings.filterwarnings(
            "ignore", message="Skipped unsupported reflection of expression-based index ix_trend_"
        )
        with context.begin_transaction():
            context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        _run()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        _configure(conn)
        _run()


if context.is_offline_mode():
    raise SystemExit("incidentdb migrations run online only: use `incidentdb db upgrade`.")
run_migrations_online()
