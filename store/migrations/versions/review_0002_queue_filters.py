"""review: copies of the queue's filter columns on review_item, kept by triggers

Revision ID: review_0002
Revises: review_0001
Create Date: 2026-11-26 12:40:00

The queue filters by outlet, publication date, risk band and theme and shows counts per status for the
same filters. Joining 100,000 review items to 500,000 articles for every count cost 0.3-1 s; copies of
those four values on review_item make every count a scan of one narrow table. Database triggers keep the
copies right whoever writes articles, classifications or review items (no writer has to know).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "review_0002"
down_revision: str | Sequence[str] | None = "review_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COPY = """
    outlet_id = (SELECT a.outlet_id FROM article a WHERE a.id = review_item.article_id),
    published_at = (SELECT a.published_at FROM article a WHERE a.id = review_item.article_id),
    risk_score = (SELECT c.risk_score FROM classification c WHERE c.article_id = review_item.article_id),
    theme_mask = (SELECT c.theme_mask FROM classification c WHERE c.article_id = review_item.article_id)
"""

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER review_item_copy_ai AFTER INSERT ON review_item BEGIN
        UPDATE review_item SET {COPY} WHERE id = new.id;
    END""",
    f"""CREATE TRIGGER review_item_copy_au AFTER UPDATE OF article_id ON review_item BEGIN
        UPDATE review_item SET {COPY} WHERE id = new.id;
    END""",
    """CREATE TRIGGER review_item_article_au AFTER UPDATE OF outlet_id, published_at ON article BEGIN
        UPDATE review_item SET outlet_id = new.outlet_id, published_at = new.published_at WHERE article_id = new.id;
    END""",
    """CREATE TRIGGER review_item_class_ai AFTER INSERT ON classification BEGIN
        UPDATE review_item SET risk_score = new.risk_score, theme_mask = new.theme_mask WHERE article_id = new.article_id;
    END""",
    """CREATE TRIGGER review_item_class_au AFTER UPDATE OF risk_score, theme_mask, article_id ON classification BEGIN
        UPDATE review_item SET risk_score = new.risk_score, theme_mask = new.theme_mask WHERE article_id = new.article_id;
    END""",
    """CREATE TRIGGER review_item_class_ad AFTER DELETE ON classification BEGIN
        UPDATE review_item SET risk_score = NULL, theme_mask = NULL WHERE article_id = old.article_id;
    END""",
]
SQLITE_DROP = ["review_item_copy_ai", "review_item_copy_au", "review_item_article_au", "review_item_class_ai",
               "review_item_class_au", "review_item_class_ad"]

PG_FUNCTIONS = [
    """CREATE OR REPLACE FUNCTION review_item_copy() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        SELECT a.outlet_id, a.published_at INTO NEW.outlet_id, NEW.published_at FROM article a WHERE a.id = NEW.article_id;
        SELECT c.risk_score, c.theme_mask INTO NEW.risk_score, NEW.theme_mask FROM classification c WHERE c.article_id = NEW.article_id;
        RETURN NEW;
    END $$""",
    """CREATE OR REPLACE FUNCTION review_item_from_article() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE review_item SET outlet_id = NEW.outlet_id, published_at = NEW.published_at
        WHERE article_id = NEW.id AND (outlet_id IS DISTINCT FROM NEW.outlet_id OR published_at IS DISTINCT FROM NEW.published_at);
        RETURN NULL;
    END $$""",
    """CREATE OR REPLACE FUNCTION review_item_from_classification() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            UPDATE review_item SET risk_score = NULL, theme_mask = NULL WHERE article_id = OLD.article_id;
        ELSE
            UPDATE review_item SET risk_score = NEW.risk_score, theme_mask = NEW.theme_mask
            WHERE article_id = NEW.article_id
              AND (risk_score IS DISTINCT FROM NEW.risk_score OR theme_mask IS DISTINCT FROM NEW.theme_mask);
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER review_item_copy BEFORE INSERT OR UPDATE OF article_id ON review_item
        FOR EACH ROW EXECUTE FUNCTION review_item_copy()""",
    """CREATE TRIGGER review_item_from_article AFTER UPDATE OF outlet_id, published_at ON article
        FOR EACH ROW EXECUTE FUNCTION review_item_from_article()""",
    """CREATE TRIGGER review_item_from_classification AFTER INSERT OR UPDATE OF risk_score, theme_mask, article_id OR DELETE
        ON classification FOR EACH ROW EXECUTE FUNCTION review_item_from_classification()""",
]
PG_DROP = [
    "DROP TRIGGER IF EXISTS review_item_from_classification ON classification",
    "DROP TRIGGER IF EXISTS review_item_from_article ON article",
    "DROP TRIGGER IF EXISTS review_item_copy ON review_item",
    "DROP FUNCTION IF EXISTS review_item_from_classification()",
    "DROP FUNCTION IF EXISTS review_item_from_article()",
    "DROP FUNCTION IF EXISTS review_item_copy()",
]


def upgrade() -> None:
    with op.batch_alter_table("review_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outlet_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("risk_score", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("theme_mask", sa.Integer(), nullable=True))
        # covering: queue pages and counts per status never read the wide rows
        batch_op.create_index(
            "ix_review_item_queue",
            ["status", "priority", "outlet_id", "published_at", "risk_score", "theme_mask", "assignee_id"],
            unique=False,
        )
        batch_op.create_index("ix_review_item_outlet_status", ["outlet_id", "status"], unique=False)
    op.execute(f"UPDATE review_item SET {COPY}")
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_TRIGGERS if dialect == "sqlite" else PG_FUNCTIONS if dialect == "postgresql" else []:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in SQLITE_DROP:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif dialect == "postgresql":
        for statement in PG_DROP:
            op.execute(statement)
    with op.batch_alter_table("review_item", schema=None) as batch_op:
        batch_op.drop_index("ix_review_item_outlet_status")
        batch_op.drop_index("ix_review_item_queue")
        batch_op.drop_column("theme_mask")
        batch_op.drop_column("risk_score")
        batch_op.drop_column("published_at")
        batch_op.drop_column("outlet_id")
