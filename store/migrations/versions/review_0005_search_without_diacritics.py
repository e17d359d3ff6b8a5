"""review: search that forgives missing diacritics ("sap nhap" finds "sáp nhập", "dai hoc" finds "đại học")

Revision ID: review_0005
Revises: labels_0001
Create Date: 2026-12-05 14:10:00

Vietnamese users often type without diacritics. A second, folded index answers such searches; the exact
index (review_0001/0003) stays for "quoted phrases" and to rank exact-diacritic matches first.
SQLite: a contentless FTS5 table `article_fts_fold` (unicode61 remove_diacritics 2) kept by triggers; "đ"
has no decomposition, so the triggers map it to "d" before the tokenizer folds the other marks.
PostgreSQL: the trusted `unaccent` extension (it maps đ to d too) in a text search configuration
`nq71_fold` (simple + unaccent), and a trigger-kept, GIN-indexed copy `review_item.search_folded`.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "review_0005"
down_revision: str | Sequence[str] | None = "labels_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _fold(col: str) -> str:
    return f"replace(replace(coalesce({col}, ''), 'đ', 'd'), 'Đ', 'D')"


def _row(prefix: str) -> str:
    return f"{prefix}.id, {_fold(prefix + '.title')}, {_fold(prefix + '.text')}"


SQLITE_UP = [
    """CREATE VIRTUAL TABLE article_fts_fold USING fts5(
        title, text, content='', tokenize='unicode61 remove_diacritics 2')""",
    f"""CREATE TRIGGER article_fts_fold_ai AFTER INSERT ON article BEGIN
        INSERT INTO article_fts_fold(rowid, title, text) VALUES ({_row('new')});
    END""",
    f"""CREATE TRIGGER article_fts_fold_ad AFTER DELETE ON article BEGIN
        INSERT INTO article_fts_fold(article_fts_fold, rowid, title, text) VALUES ('delete', {_row('old')});
    END""",
    f"""CREATE TRIGGER article_fts_fold_au AFTER UPDATE OF title, text ON article BEGIN
        INSERT INTO article_fts_fold(article_fts_fold, rowid, title, text) VALUES ('delete', {_row('old')});
        INSERT INTO article_fts_fold(rowid, title, text) VALUES ({_row('new')});
    END""",
    f"INSERT INTO article_fts_fold(rowid, title, text) SELECT {_row('article')} FROM article",
]

SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS article_fts_fold_au",
    "DROP TRIGGER IF EXISTS article_fts_fold_ad",
    "DROP TRIGGER IF EXISTS article_fts_fold_ai",
    "DROP TABLE IF EXISTS article_fts_fold",
]

EXACT = "to_tsvector('simple'::regconfig, coalesce({a}.title, '') || ' ' || coalesce({a}.text, ''))"
FOLDED = "to_tsvector('nq71_fold'::regconfig, coalesce({a}.title, '') || ' ' || coalesce({a}.text, ''))"

PG_UP = [
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    "CREATE TEXT SEARCH CONFIGURATION nq71_fold (COPY = simple)",
    "ALTER TEXT SEARCH CONFIGURATION nq71_fold ALTER MAPPING FOR word, hword, hword_part, numword, numhword "
    "WITH unaccent, simple",
    "ALTER TABLE review_item ADD COLUMN IF NOT EXISTS search_folded tsvector",
    f"UPDATE review_item SET search_folded = (SELECT {FOLDED.format(a='a')} FROM article a WHERE a.id = review_item.article_id)",
    "CREATE INDEX IF NOT EXISTS ix_review_item_search_fold ON review_item USING gin (search_folded)",
    # the review_0003 trigger functions now keep both copies
    f"""CREATE OR REPLACE FUNCTION review_item_search_copy() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        SELECT {EXACT.format(a='a')}, {FOLDED.format(a='a')} INTO NEW.search_vector, NEW.search_folded
        FROM article a WHERE a.id = NEW.article_id;
        RETURN NEW;
    END $$""",
    f"""CREATE OR REPLACE FUNCTION review_item_search_from_article() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE review_item SET search_vector = {EXACT.format(a='NEW')}, search_folded = {FOLDED.format(a='NEW')}
        WHERE article_id = NEW.id;
        RETURN NULL;
    END $$""",
]

PG_DOWN = [
    f"""CREATE OR REPLACE FUNCTION review_item_search_copy() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        SELECT {EXACT.format(a='a')} INTO NEW.search_vector FROM article a WHERE a.id = NEW.article_id;
        RETURN NEW;
    END $$""",
    f"""CREATE OR REPLACE FUNCTION review_item_search_from_article() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE review_item SET search_vector = {EXACT.format(a='NEW')} WHERE article_id = NEW.id;
        RETURN NULL;
    END $$""",
    "DROP INDEX IF EXISTS ix_review_item_search_fold",
    "ALTER TABLE review_item DROP COLUMN IF EXISTS search_folded",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS nq71_fold",
]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_UP if dialect == "sqlite" else PG_UP if dialect == "postgresql" else []:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_DOWN if dialect == "sqlite" else PG_DOWN if dialect == "postgresql" else []:
        op.execute(statement)
