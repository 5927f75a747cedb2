"""news feeds: feeds, feed entries, polls, candidate incidents, editor decisions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30

Self-contained: only new tables (and their indexes), so it can be re-chained after other
revisions. Feed reports use the existing nullable `reports.report_number`; their uniqueness is
`feed_entries.canonical_url`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("fulltext", sa.Boolean(), nullable=False),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("last_outcome", sa.String(length=32), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("next_due_at", sa.DateTime(), nullable=True),
        sa.Column("last_polled_at", sa.DateTime(), nullable=True),
        sa.Column("last_success_at", sa.DateTime(), nullable=True),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feeds")),
        sa.UniqueConstraint("url", name=op.f("uq_feeds_url")),
    )
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feeds_next_due_at"), ["next_due_at"], unique=False)

    op.create_table(
        "editor_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("incident_pk", sa.Integer(), nullable=True),
        sa.Column("report_pk", sa.Integer(), nullable=True),
        sa.Column("target_incident_pk", sa.Integer(), nullable=True),
        sa.Column("author", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_pk"],
            ["incidents.id"],
            name=op.f("fk_editor_decisions_incident_pk_incidents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["report_pk"],
            ["reports.id"],
            name=op.f("fk_editor_decisions_report_pk_reports"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["target_incident_pk"],
            ["incidents.id"],
            name=op.f("fk_editor_decisions_target_incident_pk_incidents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_editor_decisions")),
    )
    with op.batch_alter_table("editor_decisions", schema=None) as batch_op:
        batch_op.create_index("ix_editor_decisions_report_pk", ["report_pk"], unique=False)

    op.create_table(
        "feed_candidates",
        sa.Column("incident_pk", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("best_matches", sa.JSON(), nullable=False),
        sa.Column("merged_into_pk", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["incident_pk"],
            ["incidents.id"],
            name=op.f("fk_feed_candidates_incident_pk_incidents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["merged_into_pk"],
            ["incidents.id"],
            name=op.f("fk_feed_candidates_merged_into_pk_incidents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("incident_pk", name=op.f("pk_feed_candidates")),
    )
    with op.batch_alter_table("feed_candidates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feed_candidates_status"), ["status"], unique=False)

    op.create_table(
        "feed_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("canonical_url", sa.Text(), nullable=False),
        sa.Column("feed_pk", sa.Integer(), nullable=True),
        sa.Column("run_pk", sa.Integer(), nullable=True),
        sa.Column("link", sa.Text(), nullable=True),
        sa.Column("guid", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("authors", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("fulltext", sa.Text(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("filter_name", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("report_pk", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["feed_pk"],
            ["feeds.id"],
            name=op.f("fk_feed_entries_feed_pk_feeds"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["report_pk"],
            ["reports.id"],
            name=op.f("fk_feed_entries_report_pk_reports"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["run_pk"],
            ["ingest_runs.id"],
            name=op.f("fk_feed_entries_run_pk_ingest_runs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_entries")),
        sa.UniqueConstraint("canonical_url", name=op.f("uq_feed_entries_canonical_url")),
    )
    with op.batch_alter_table("feed_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_feed_entries_feed_pk"), ["feed_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_feed_entries_status"), ["status"], unique=False)

    op.create_table(
        "feed_polls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_pk", sa.Integer(), nullable=False),
        sa.Column("feed_pk", sa.Integer(), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("worker_id", sa.String(length=128), nullable=True),
        sa.Column("polled_at", sa.DateTime(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("entries_seen", sa.Integer(), nullable=False),
        sa.Column("entries_new", sa.Integer(), nullable=False),
        sa.Column("entries_duplicate", sa.Integer(), nullable=False),
        sa.Column("entries_rejected", sa.Integer(), nullable=False),
        sa.Column("entries_errors", sa.Integer(), nullable=False),
        sa.Column("reports_added", sa.Integer(), nullable=False),
        sa.Column("bytes_downloaded", sa.Integer(), nullable=False),
        sa.Column("elapsed", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["feed_pk"], ["feeds.id"], name=op.f("fk_feed_polls_feed_pk_feeds"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["run_pk"],
            ["ingest_runs.id"],
            name=op.f("fk_feed_polls_run_pk_ingest_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_polls")),
    )
    with op.batch_alter_table("feed_polls", schema=None) as batch_op:
        batch_op.create_index("ix_feed_polls_run_feed", ["run_pk", "feed_pk"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("feed_polls", schema=None) as batch_op:
        batch_op.drop_index("ix_feed_polls_run_feed")

    op.drop_table("feed_polls")
    with op.batch_alter_table("feed_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feed_entries_status"))
        batch_op.drop_index(batch_op.f("ix_feed_entries_feed_pk"))

    op.drop_table("feed_entries")
    with op.batch_alter_table("feed_candidates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feed_candidates_status"))

    op.drop_table("feed_candidates")
    with op.batch_alter_table("editor_decisions", schema=None) as batch_op:
        batch_op.drop_index("ix_editor_decisions_report_pk")

    op.drop_table("editor_decisions")
    with op.batch_alter_table("feeds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feeds_next_due_at"))

    op.drop_table("feeds")
