"""worker: articles due for classification, with a lease for the worker that took them

Revision ID: worker_0001
Revises: snap_0001
Create Date: 2026-12-05 16:40:00

Issue 14: classification leaves the crawl. `article.classify_due` marks an article to classify (every new row,
and a row whose text changed: a trigger sets it, so no writer can forget); a worker claims a batch by writing
its name and a lease expiry (`classify_worker`, `classify_lease_until`), and clears `classify_due` in the same
transaction that writes the results, only where its claim still stands. A worker killed mid-batch leaves a
lease that expires; the trigger also drops the claim of a worker still scoring the old text.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "worker_0001"
down_revision: str | Sequence[str] | None = "snap_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DUE = "classify_due"

SQLITE_UP = [
    """CREATE TRIGGER article_classify_revised AFTER UPDATE OF content_hash ON article
        WHEN new.content_hash IS NOT old.content_hash BEGIN
        UPDATE article SET classify_due = 1, classify_worker = NULL, classify_lease_until = NULL WHERE id = new.id;
    END""",
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS article_classify_revised"]
PG_UP = [
    """CREATE FUNCTION article_classify_revised() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        NEW.classify_due := true;
        NEW.classify_worker := NULL;
        NEW.classify_lease_until := NULL;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER article_classify_revised BEFORE UPDATE OF content_hash ON article FOR EACH ROW
        WHEN (new.content_hash IS DISTINCT FROM old.content_hash) EXECUTE FUNCTION article_classify_revised()""",
]
PG_DOWN = ["DROP TRIGGER IF EXISTS article_classify_revised ON article",
           "DROP FUNCTION IF EXISTS article_classify_revised()"]


def upgrade() -> None:
    # plain ADD COLUMN (no batch copy on SQLite: a rebuilt article table would break the search triggers)
    op.add_column("article", sa.Column(DUE, sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column("article", sa.Column("classify_lease_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("article", sa.Column("classify_worker", sa.String(length=120), nullable=True))
    # what is already classified is not due again (a newer model is the backlog job's business)
    op.execute(sa.text(f"UPDATE article SET {DUE} = false WHERE id IN (SELECT article_id FROM classification)"))
    op.create_index("ix_article_classify_due", "article", ["id"], sqlite_where=sa.text(DUE),
                    postgresql_where=sa.text(DUE))
    for stmt in SQLITE_UP if op.get_bind().dialect.name == "sqlite" else PG_UP:
        op.execute(sa.text(stmt))


def downgrade() -> None:
    for stmt in SQLITE_DOWN if op.get_bind().dialect.name == "sqlite" else PG_DOWN:
        op.execute(sa.text(stmt))
    op.drop_index("ix_article_classify_due", table_name="article")
    for column in ("classify_worker", "classify_lease_until", DUE):
        op.drop_column("article", column)  # SQLite >= 3.35 drops columns in place
