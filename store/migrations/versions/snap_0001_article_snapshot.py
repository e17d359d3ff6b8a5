"""snap: Bản lưu, what the crawler fetched for each article (page body or feed entry, compressed)

Revision ID: snap_0001
Revises: review_0005
Create Date: 2026-12-05 17:00:00

Posts are deleted once questioned: each new or revised article keeps the bytes as fetched (zlib), its
extracted text, the fetch time and a sha256 of the bytes. Several rows per article: one per revision.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "snap_0001"
down_revision: str | Sequence[str] | None = "review_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "article_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("page", "feed_entry", name="snapshot_kind", native_enum=False, create_constraint=True, length=24),
            nullable=False,
        ),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("raw_size", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], name=op.f("fk_article_snapshot_article_id_article"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_article_snapshot")),
    )
    with op.batch_alter_table("article_snapshot", schema=None) as batch_op:
        batch_op.create_index("ix_article_snapshot_article_fetched", ["article_id", "fetched_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("article_snapshot", schema=None) as batch_op:
        batch_op.drop_index("ix_article_snapshot_article_fetched")
    op.drop_table("article_snapshot")
