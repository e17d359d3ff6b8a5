"""labels: reviewers' corrections of education, NQ71 relevance and task groups on any article

Revision ID: labels_0001
Revises: review_0004
Create Date: 2026-12-05 14:00:00

Append-only: each row is one correction with who, when and the classifier's labels before it, so the
table is its own audit trail; training reads the newest correction per article.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "labels_0001"
down_revision: str | Sequence[str] | None = "review_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "label_correction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_education", sa.Boolean(), nullable=False),
        sa.Column(
            "relevance",
            sa.Enum("explicit", "task", "none", name="relevance", native_enum=False, create_constraint=True, length=24),
            nullable=False,
        ),
        sa.Column("theme_mask", sa.Integer(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["article_id"], ["article.id"], name=op.f("fk_label_correction_article_id_article"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_label_correction_user_id_user_account"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label_correction")),
    )
    with op.batch_alter_table("label_correction", schema=None) as batch_op:
        batch_op.create_index("ix_label_correction_article_at", ["article_id", "at"], unique=False)
        batch_op.create_index("ix_label_correction_at", ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("label_correction", schema=None) as batch_op:
        batch_op.drop_index("ix_label_correction_at")
        batch_op.drop_index("ix_label_correction_article_at")
    op.drop_table("label_correction")
