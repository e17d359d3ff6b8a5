"""crawl: the bad_link fetch status, and the crawl_lock table (one crawl at a time per database)

Revision ID: crawl_0001
Revises: 0002
Create Date: 2026-12-05 14:10:00

Issue 10: a link refused by the crawler's link policy is an error of its own kind (`bad_link`), so the
CHECK constraints on feed.status and fetch_event.status accept it. Two crawls on one database used to
fetch everything twice and fail on UNIQUE; the crawl now holds a row of crawl_lock (owner + expiry),
which works on SQLite and PostgreSQL and across machines.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "crawl_0001"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = ("ok", "not_modified", "same_hash", "http_error", "timeout", "dns_error", "tls_error", "connection_error",
       "not_a_feed", "empty", "parse_error", "too_large", "robots_denied", "never")
NEW = (*OLD[:-1], "bad_link", "never")
TABLES = ("feed", "fetch_event")


def _enum(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name="fetch_status", native_enum=False, create_constraint=True, length=24)


def _status_values(values: tuple[str, ...], before: tuple[str, ...]) -> None:
    """Swap the CHECK constraint of both status columns (SQLite rebuilds the table in batch mode)."""
    for table in TABLES:
        if op.get_bind().dialect.name == "sqlite":
            with op.batch_alter_table(table) as batch_op:
                batch_op.alter_column("status", existing_type=_enum(before), type_=_enum(values), existing_nullable=False)
        else:
            name = op.f(f"ck_{table}_fetch_status")  # already the final name: no naming convention on top
            op.drop_constraint(name, table, type_="check")
            quoted = ", ".join(f"'{v}'" for v in values)
            op.create_check_constraint(name, table, sa.text(f"status IN ({quoted})"))


def upgrade() -> None:
    _status_values(NEW, OLD)
    op.create_table(
        "crawl_lock",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_crawl_lock")),
    )


def downgrade() -> None:
    op.drop_table("crawl_lock")
    for table in TABLES:
        op.execute(sa.text(f"UPDATE {table} SET status = 'http_error' WHERE status = 'bad_link'"))
    _status_values(OLD, NEW)
