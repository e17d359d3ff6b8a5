"""Shared fixtures: real databases (a SQLite file; PostgreSQL when NQ71_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import os
from contextlib import ExitStack, contextmanager
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from settings import Settings
from store.db import make_engine, make_session_factory, upgrade
from store.models import Base

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
PG_URL = os.environ.get("NQ71_TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def _pg_admin_url() -> str:
    return make_url(PG_URL).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


@contextmanager
def _fresh_pg_database() -> Iterator[str]:
    """A new PostgreSQL database, dropped afterwards (parallel runs never share one)."""
    admin = make_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    name = f"nq71_t_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(_pg_admin_url()).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this pytest process."""
    if not PG_URL:
        pytest.skip("NQ71_TEST_DATABASE_URL not set")
    with _fresh_pg_database() as url:
        yield url


@pytest.fixture(params=BACKENDS)
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a new, empty database of its own (SQLite file; PostgreSQL when configured)."""
    with ExitStack() as stack:
        url = f"sqlite:///{tmp_path / 'leer.db'}" if request.param == "sqlite" else stack.enter_context(_fresh_pg_database())
        engine = make_engine(url)
        stack.callback(engine.dispose)
        yield engine


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """An engine on a database upgraded to head: a SQLite file, and PostgreSQL when configured."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'nq71.db'}"
    else:
        url = request.getfixturevalue("pg_database_url")
    engine = make_engine(url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _truncate(engine: Engine) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                conn.execute(text(f'DELETE FROM "{t}"'))


@pytest.fixture(scope="session")
def empty_database() -> Callable[[Engine], None]:
    """Empties every table (for module-scoped fixtures that cannot use the per-test ``engine``)."""
    return _truncate


@pytest.fixture
def engine(migrated_engine: Engine) -> Iterator[Engine]:
    """A migrated engine whose tables are emptied after each test."""
    _truncate(migrated_engine)
    yield migrated_engine
    _truncate(migrated_engine)


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    """Session factory on the test database (the caller owns transactions)."""
    return make_session_factory(engine)


@pytest.fixture
def settings(engine: Engine, tmp_path: Path) -> Settings:
    """Settings pointing at the test database and a temporary data folder."""
    return Settings(
        database_url=engine.url.render_as_string(hide_password=False),
        data_dir=tmp_path / "var",
        reports_dir=tmp_path / "var" / "reports",
    )
