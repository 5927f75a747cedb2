"""company incidents and incidents from external sources (AVID)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organisation_incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_pk", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=True),
        sa.Column("awareness_date", sa.Date(), nullable=True),
        sa.Column("harm_categories", sa.JSON(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("schema_version", sa.String(length=16), nullable=False),
        sa.Column("content_hash", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_pk"],
            ["incidents.id"],
            name=op.f("fk_organisation_incidents_incident_pk_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation_incidents")),
        sa.UniqueConstraint("incident_pk", name=op.f("uq_organisation_incidents_incident_pk")),
        sa.UniqueConstraint("reference", name=op.f("uq_organisation_incidents_reference")),
    )
    op.create_table(
        "external_incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_pk", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("locator", sa.Text(), nullable=True),
        sa.Column("content_hash", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_pk"],
            ["incidents.id"],
            name=op.f("fk_external_incidents_incident_pk_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_external_incidents")),
        sa.UniqueConstraint("incident_pk", name=op.f("uq_external_incidents_incident_pk")),
        sa.UniqueConstraint(
            "source", "external_id", name=op.f("uq_external_incidents_source_external_id")
        ),
    )


def downgrade() -> None:
    # Their incidents would be left without the facts that make sense of them; entities,
    # classifications and links go with them (ON DELETE CASCADE).
    op.execute(
        "DELETE FROM incidents WHERE id IN (SELECT incident_pk FROM organisation_incidents) "
        "OR id IN (SELECT incident_pk FROM external_incidents)"
    )
    op.drop_table("external_incidents")
    op.drop_table("organisation_incidents")
