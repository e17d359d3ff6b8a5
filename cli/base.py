"""What every command shares: the App (settings, engine, sessions), logging set-up and the --db choice."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from demo.setup import demo_database
from settings import Settings, SettingsError
from store.db import ensure_schema, make_engine, make_session_factory


@dataclass
class App:
    """What every command needs: settings read once, one engine and session factory per process."""

    settings: Settings
    _engine: Engine | None = field(default=None, init=False)
    _sessions: sessionmaker[Session] | None = field(default=None, init=False)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
        return self._engine

    def sessions(self, migrate: bool = True) -> sessionmaker[Session]:
        """The session factory; an empty or outdated SQLite database is upgraded first."""
        if self._sessions is None:
            if migrate:
                ensure_schema(self.engine)
            self._sessions = make_session_factory(self.engine)
        return self._sessions


pass_app: Callable[..., Any] = click.make_pass_decorator(App)


def configure_logging(level: str) -> None:
    """Entry points only; force=True because underthesea calls basicConfig on import."""
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    for noisy in ("alembic", "matplotlib", "PIL", "urllib3"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


def chosen_database(settings: Settings, db: str) -> str:
    """--db: a SQLAlchemy URL, an existing SQLite file, or "demo"; a missing file is an error, never a new empty one."""
    if "://" in db:
        return db
    path = demo_database(settings) if db == "demo" else Path(db)
    if not path.is_file():
        hint = " (chạy / run `make demo` trước / first)" if db == "demo" else ""
        raise SettingsError(f"--db: không có cơ sở dữ liệu / no database file at {path}{hint}")
    return f"sqlite:///{path}"
