"""merge the report and review branches into one line

Revision ID: 0002
Revises: report_0001, review_0003
Create Date: 2026-11-26 13:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = "0002"
down_revision: str | Sequence[str] | None = ("report_0001", "review_0003")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
