"""review: server-side sessions (revocable) and a per-address login throttle

Revision ID: review_0004
Revises: crawl_0001
Create Date: 2026-12-05 14:00:00

A signed cookie alone cannot be taken back: logout, deactivation and a password change now delete the
session rows, and each request checks its row. login_throttle counts failed logins per client address
in the database so every web worker shares one count.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = "review_0004"
down_revision: str | Sequence[str] | None = "crawl_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "user_session",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name=op.f("fk_user_session_user_id_user_account"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_user_session")),
    )
    op.create_index("ix_user_session_expires_at", "user_session", ["expires_at"], unique=False)
    op.create_index(op.f("ix_user_session_user_id"), "user_session", ["user_id"], unique=False)
    op.create_table(
        "login_throttle",
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_login_throttle")),
    )


def downgrade() -> None:
    op.drop_table("login_throttle")
    op.drop_index(op.f("ix_user_session_user_id"), table_name="user_session")
    op.drop_index("ix_user_session_expires_at", table_name="user_session")
    op.drop_table("user_session")
