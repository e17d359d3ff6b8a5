"""review: full-text search over article title and text (keeps Vietnamese diacritics)

Revision ID: review_0001
Revises: 0001
Create Date: 2026-11-26 12:00:00

SQLite: an FTS5 external-content table over article(title, text) kept in step by triggers, with the
unicode61 tokenizer told NOT to strip diacritics ("thi" and "thí" are different words in Vietnamese).
PostgreSQL: a GIN index on to_tsvector('simple', title || ' ' || text); 'simple' lowercases and keeps
diacritics (no stemming, which has no meaning for Vietnamese syllables).
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "review_0001"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UP = [
    """CREATE VIRTUAL TABLE article_fts USING fts5(
        title, text, content='article', content_rowid='id',
        tokenize='unicode61 remove_diacritics 0')""",
    """CREATE TRIGGER article_fts_ai AFTER INSERT ON article BEGIN
        INSERT INTO article_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
    END""",
    """CREATE TRIGGER article_fts_ad AFTER DELETE ON article BEGIN
        INSERT INTO article_fts(article_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
    END""",
    # only when the searched columns change: engagement or health updates must not rewrite the index
    """CREATE TRIGGER article_fts_au AFTER UPDATE OF title, text ON article BEGIN
        INSERT INTO article_fts(article_fts, rowid, title, text) VALUES ('delete', old.id, old.title, old.text);
        INSERT INTO article_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
    END""",
    "INSERT INTO article_fts(article_fts) VALUES ('rebuild')",
]

SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS article_fts_au",
    "DROP TRIGGER IF EXISTS article_fts_ad",
    "DROP TRIGGER IF EXISTS article_fts_ai",
    "DROP TABLE IF EXISTS article_fts",
]

PG_UP = [
    "CREATE INDEX IF NOT EXISTS ix_article_fts ON article USING gin "
    "(to_tsvector('simple'::regconfig, coalesce(title, '') || ' ' || coalesce(text, '')))",
]

PG_DOWN = ["DROP INDEX IF EXISTS ix_article_fts"]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_UP if dialect == "sqlite" else PG_UP if dialect == "postgresql" else []:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_DOWN if dialect == "sqlite" else PG_DOWN if dialect == "postgresql" else []:
        op.execute(statement)
