"""report: covering indexes for weekly counts, and APScheduler's job store table

Revision ID: report_0001
Revises: 0001
Create Date: 2026-11-26 12:10:00

The weekly report counts per outlet over one week's range of published_at; covering indexes on
article (published_at, outlet_id, copy_of_id, id) and classification (article_id, is_education,
relevance, theme_mask) let both SQLite and PostgreSQL answer from the indexes alone, never reading
the wide text/JSON rows; a partial index finds undated items by collection time. apscheduler_jobs is the table SQLAlchemyJobStore would create on its own;
creating it here keeps every table under migrations.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "report_0001"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.create_index("ix_article_report", ["published_at", "outlet_id", "copy_of_id", "id"], unique=False)
        batch_op.create_index(
            "ix_article_undated", ["collected_at", "outlet_id"], unique=False,
            sqlite_where=sa.text("published_at IS NULL"), postgresql_where=sa.text("published_at IS NULL"),
        )
    with op.batch_alter_table("classification", schema=None) as batch_op:
        batch_op.create_index(
            "ix_classification_report", ["article_id", "is_education", "relevance", "theme_mask"], unique=False
        )
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(length=191), nullable=False),
        sa.Column("next_run_time", sa.Float(precision=25), nullable=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apscheduler_jobs")),
    )
    with op.batch_alter_table("apscheduler_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_apscheduler_jobs_next_run_time"), ["next_run_time"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("apscheduler_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_apscheduler_jobs_next_run_time"))
    op.drop_table("apscheduler_jobs")
    with op.batch_alter_table("classification", schema=None) as batch_op:
        batch_op.drop_index("ix_classification_report")
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.drop_index("ix_article_undated")
        batch_op.drop_index("ix_article_report")
