"""current_labels: the effective failure-mode labels, materialised

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30

Trends, listings and exports read the effective labels (newest human decision per label, else
the newest classifier run's tags) from this table instead of recomputing them with window
functions over every classification row. Revision 0007 backfills it from the existing rows.
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
    # Filled by 0007, which adds the incident's date to the table: the library's refresh
    # writes that column, so it cannot run against this revision's table. (Until 0007 this
    # revision backfilled here; a store migrated then is refilled by 0007, with the same rows.)


def downgrade() -> None:
    with op.batch_alter_table("current_labels", schema=None) as batch_op:
        batch_op.drop_index("ix_current_labels_attr_value_incident")
    op.drop_table("current_labels")
