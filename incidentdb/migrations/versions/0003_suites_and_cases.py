"""suites and cases

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30

Generated test suites: `suites` (a name, the parameters that built it), `cases` (one TestCase as
JSON per row, unique by content-hash id within a suite) and `case_incidents` (which incidents a
case was built from).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "suites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suites")),
        sa.UniqueConstraint("name", name=op.f("uq_suites_name")),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("suite_pk", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("generator", sa.String(length=64), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["suite_pk"], ["suites.id"], name=op.f("fk_cases_suite_pk_suites"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("suite_pk", "case_id", name=op.f("uq_cases_suite_pk_case_id")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_case_id", ["case_id"], unique=False)
    op.create_table(
        "case_incidents",
        sa.Column("case_pk", sa.Integer(), nullable=False),
        sa.Column("incident_pk", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_pk"],
            ["cases.id"],
            name=op.f("fk_case_incidents_case_pk_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["incident_pk"],
            ["incidents.id"],
            name=op.f("fk_case_incidents_incident_pk_incidents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("case_pk", "incident_pk", name=op.f("pk_case_incidents")),
    )
    with op.batch_alter_table("case_incidents", schema=None) as batch_op:
        batch_op.create_index("ix_case_incidents_incident_pk", ["incident_pk"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_incidents", schema=None) as batch_op:
        batch_op.drop_index("ix_case_incidents_incident_pk")
    op.drop_table("case_incidents")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_case_id")
    op.drop_table("cases")
    op.drop_table("suites")
