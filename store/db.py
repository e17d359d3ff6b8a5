"""Engine and session factory (one per process), SQLite pragmas, and Alembic upgrades."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


class StoreError(RuntimeError):
    """The database cannot be used as configured; the message says what to fix."""


class DatabaseUnavailable(StoreError):
    """The database cannot be reached or opened (server down, folder missing or read-only)."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for a SQLite or PostgreSQL URL; creates the SQLite folder on demand."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3, not psycopg2
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            try:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseUnavailable(f"cannot create the folder of the SQLite database: {exc.strerror}") from None
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(parsed, **kwargs)
    raise StoreError(f"unsupported database {url!r}: use sqlite:///PATH or postgresql+psycopg://USER@HOST/DB")


# Full-text search (migration review_0001_fts) is hand-written SQL, not models: autogenerate skips it.
SEARCH_TABLE_PREFIX = "article_fts"  # SQLite FTS5 tables (exact and folded) and their shadow tables
SEARCH_INDEXES = {"ix_article_fts", "ix_review_item_search", "ix_review_item_search_fold"}  # PostgreSQL GIN indexes
SEARCH_COLUMNS = {"search_vector", "search_folded"}  # PostgreSQL-only tsvector copies on review_item (review_0003, review_0005)


def include_name(name: str | None, type_: str, _parent_names: Any) -> bool:
    """Alembic ``include_name`` hook: leave the full-text search tables, columns and indexes alone."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith(SEARCH_TABLE_PREFIX)
    if type_ == "column":
        return name not in SEARCH_COLUMNS
    return not (type_ == "index" and name in SEARCH_INDEXES)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """The session factory; callers own transactions: ``with Session() as s, s.begin():``."""
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Any:
    """An Alembic config that runs our migrations on this engine's database."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema to the newest revision (idempotent)."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def current_revisions(engine: Engine) -> set[str]:
    """Revisions the database is at (empty for a new database)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def head_revisions(engine: Engine) -> set[str]:
    """Revisions the code knows as newest."""
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())


def ensure_schema(engine: Engine) -> bool:
    """Upgrade an empty SQLite database automatically; refuse an outdated PostgreSQL one. True if upgraded."""
    if current_revisions(engine) == head_revisions(engine):
        return False
    empty = not inspect(engine).get_table_names()
    if engine.dialect.name == "sqlite" or empty:
        log.info("upgrading database schema to %s", sorted(head_revisions(engine)))
        upgrade(engine)
        return True
    raise StoreError("database schema is not up to date: run `nq71 db upgrade`")
