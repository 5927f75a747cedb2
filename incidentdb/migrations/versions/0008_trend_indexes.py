"""Trend indexes: the entity's name beside each role row, and indexes in grouping order

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

A trend by deployer, developer or harmed counted distinct incidents per (period, entity name):
it joined 150,000 role rows to `entities` for the name and sorted them all (SQLite's sorter,
PostgreSQL's sort for count(DISTINCT)): 170-510 ms on a 100,000-incident store. This revision
copies the entity's name into `incident_entities` (`entity_name`, kept by triggers like 0007's
dates: a new row that leaves it out and a row moved to another entity take the entity's name; a
renamed entity's name is copied to its rows) and adds, per dimension, one index in the order a
trend groups by: (dimension, group, month, incident, ...). The database then reads each group's
months in order and counts their incidents without sorting or joining.

The month is an expression in these indexes (SQLite: ``substr(incident_date, 1, 7)``,
PostgreSQL: ``date_trunc('month', incident_date::timestamp)``), so no writer has to keep a
month column; the query must spell the same expression. They are raw DDL, per dialect, and
the migrations' environment keeps them out of the models comparison (names ``ix_trend_*``).

On PostgreSQL, `ix_trend_incidents` (incidents (date) INCLUDE (id)) makes counting a range's
visible incidents an index-only scan.

The insert trigger costs each role row one lookup in `entities`; writers may set the name
themselves to spare it (the AIID importer does). A first import drops and rebuilds the
indexes of an empty `classifications`, `ix_trend_classifications` included.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The roles the library writes (EntityRole), frozen: a rename walks (role, entity) index ranges.
_ROLES = "('deployer', 'developer', 'harmed', 'implicated_system')"

SQLITE_TRIGGERS = [
    "CREATE TRIGGER incident_entities_name_ai AFTER INSERT ON incident_entities "
    "WHEN NEW.entity_name IS NULL BEGIN "
    "UPDATE incident_entities SET entity_name = "
    "(SELECT name FROM entities WHERE id = NEW.entity_pk) WHERE rowid = NEW.rowid; END",
    "CREATE TRIGGER incident_entities_name_au AFTER UPDATE OF entity_pk ON incident_entities "
    "BEGIN UPDATE incident_entities SET entity_name = "
    "(SELECT name FROM entities WHERE id = NEW.entity_pk) WHERE rowid = NEW.rowid; END",
    "CREATE TRIGGER entities_name_au AFTER UPDATE OF name ON entities "
    "WHEN OLD.name IS NOT NEW.name BEGIN "
    f"UPDATE incident_entities SET entity_name = NEW.name WHERE role IN {_ROLES} "
    "AND entity_pk = NEW.id; END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS entities_name_au",
    "DROP TRIGGER IF EXISTS incident_entities_name_au",
    "DROP TRIGGER IF EXISTS incident_entities_name_ai",
]
POSTGRES_TRIGGERS = [
    "CREATE FUNCTION incident_entity_name_copy() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP = 'UPDATE' OR NEW.entity_name IS NULL THEN "
    "NEW.entity_name := (SELECT name FROM entities WHERE id = NEW.entity_pk); END IF; "
    "RETURN NEW; END $$",
    "CREATE TRIGGER incident_entities_name BEFORE INSERT OR UPDATE OF entity_pk "
    "ON incident_entities FOR EACH ROW EXECUTE FUNCTION incident_entity_name_copy()",
    "CREATE FUNCTION entity_name_spread() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"UPDATE incident_entities SET entity_name = NEW.name WHERE role IN {_ROLES} "
    "AND entity_pk = NEW.id; RETURN NULL; END $$",
    "CREATE TRIGGER entities_name AFTER UPDATE OF name ON entities FOR EACH ROW "
    "WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION entity_name_spread()",
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS entities_name ON entities",
    "DROP TRIGGER IF EXISTS incident_entities_name ON incident_entities",
    "DROP FUNCTION IF EXISTS entity_name_spread()",
    "DROP FUNCTION IF EXISTS incident_entity_name_copy()",
]

_SQLITE_MONTH = "substr(incident_date, 1, 7)"
_POSTGRES_MONTH = "(date_trunc('month', incident_date::timestamp))"
# (name, table, leading columns); then month, incident_pk, and the date for --since/--until.
TREND_INDEXES = [
    ("ix_trend_roles", "incident_entities", "role, entity_name"),
    ("ix_trend_labels", "current_labels", "attribute, value"),
    ("ix_trend_classifications", "classifications", "namespace, attribute, value"),
]

_INCIDENTS_INDEX = "ix_trend_incidents"  # PostgreSQL only


def _index_ddl(sqlite: bool) -> list[str]:
    statements = []
    for name, table, leading in TREND_INDEXES:
        # Imported taxonomy rows are filtered by source_kind: carried, so the index covers it.
        extra = ", source_kind" if table == "classifications" else ""
        if sqlite:
            statements.append(
                f"CREATE INDEX {name} ON {table} "
                f"({leading}, {_SQLITE_MONTH}, incident_pk, incident_date{extra})"
            )
        else:
            statements.append(
                f"CREATE INDEX {name} ON {table} "
                f"({leading}, {_POSTGRES_MONTH}, incident_pk) INCLUDE (incident_date{extra})"
            )
    if not sqlite:
        # Counting a range's incidents tests `id` against the hidden ones: with it in the index
        # the count is an index-only scan (SQLite's index carries the rowid anyway).
        statements.append(f"CREATE INDEX {_INCIDENTS_INDEX} ON incidents (date) INCLUDE (id)")
    return statements


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    with op.batch_alter_table("incident_entities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entity_name", sa.Text(), nullable=True))
    # Backfill before the index and triggers exist: one pass, no index upkeep per row.
    if sqlite:
        op.execute(
            "UPDATE incident_entities SET entity_name = "
            "(SELECT name FROM entities WHERE entities.id = incident_entities.entity_pk)"
        )
    else:
        op.execute(
            "UPDATE incident_entities SET entity_name = entities.name FROM entities "
            "WHERE entities.id = incident_entities.entity_pk"
        )
    for statement in _index_ddl(sqlite):
        op.execute(statement)
    for statement in SQLITE_TRIGGERS if sqlite else POSTGRES_TRIGGERS:
        op.execute(statement)
    for table in ("incident_entities", "current_labels", "classifications", "incidents"):
        op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_DROP if sqlite else POSTGRES_DROP:
        op.execute(statement)
    for name in (*(index[0] for index in TREND_INDEXES), _INCIDENTS_INDEX):
        op.execute(f"DROP INDEX IF EXISTS {name}")
    # Not a batch operation: SQLite's copy-and-rename would drop 0007's triggers on the table.
    op.execute("ALTER TABLE incident_entities DROP COLUMN entity_name")
