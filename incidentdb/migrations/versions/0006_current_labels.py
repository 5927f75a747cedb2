"""current_labels: the effective failure-mode labels, materialised

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

Trends, listings and exports read the effective labels (newest human decision per label, else
the newest classifier run's tags) from this table instead of recomputing them with window
functions over every classification row. The upgrade backfills it from the existing rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "current_labels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_pk", sa.Integer(), nullable=False),
        sa.Column("attribute", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("source_kind", sa.String(length=32), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_pk"],
            ["incidents.id"],
            name=op.f("fk_current_labels_incident_pk_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_current_labels")),
        sa.UniqueConstraint(
            "incident_pk",
            "attribute",
            "value",
            name=op.f("uq_current_labels_incident_pk_attribute_value"),
        ),
    )
    with op.batch_alter_table("current_labels", schema=None) as batch_op:
        batch_op.create_index(
            "ix_current_labels_attr_value_incident",
            ["attribute", "value", "incident_pk"],
            unique=False,
        )
    # The backfill uses the very rules the library maintains the table with, so that a
    # migrated store and one written afterwards cannot disagree. Imported here, not at the top,
    # so that loading the revision list does not load the models.
    from incidentdb._labels import refresh_current_labels

    refresh_current_labels(op.get_bind())
    # Without statistics SQLite's planner ignores the new index's selectivity: on 100,000
    # incidents a failure-mode trend took 480 ms of CPU before ANALYZE and 325 ms after.
    op.execute("ANALYZE current_labels")


def downgrade() -> None:
    with op.batch_alter_table("current_labels", schema=None) as batch_op:
        batch_op.drop_index("ix_current_labels_attr_value_incident")
    op.drop_table("current_labels")
