"""The demo's setup: its own SQLite file and settings, the fixture outlets, demo users and the first crawl."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from settings import Settings
from store.db import make_session_factory, upgrade
from store.models import Role, User
from store.sources import parse_sources, sync_sources

DEMO_USER = "demo"
DEMO_PASSWORD = "nq71-demo-2026"


def demo_database(settings: Settings) -> Path:
    """Where `nq71 demo` keeps its database (so other commands can read it with --db demo)."""
    return settings.data_dir / "demo" / "nq71-demo.db"


def reset_database(db_path: Path) -> None:
    """Remove the demo's SQLite file and its WAL companions (`nq71 demo --reset`)."""
    for suffix in ("", "-wal", "-shm"):
        db_path.with_name(db_path.name + suffix).unlink(missing_ok=True)


def free_port(host: str) -> int:
    """A port nobody listens on right now (`--port 0`)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def demo_settings(base: Settings, sources_file: Path, host: str, port: int) -> Settings:
    """The demo's settings: its own database, sources and key; politeness off (local fixture sites only)."""
    from review.keys import stored_key

    demo_dir = demo_database(base).parent
    secret = base.secret_key or stored_key(demo_dir)  # the demo's own key, kept so logins survive a restart
    return base.replace(
        database_url=f"sqlite:///{demo_database(base)}", sources=sources_file, reports_dir=demo_dir / "reports",
        secret_key=secret, download_delay=0.0, autothrottle=False, concurrency_per_host=8, download_timeout=10.0,
        host=host, port=port, smtp_host="",
    )


def prepare_database(settings: Settings, engine: Engine) -> sessionmaker[Session]:
    """Migrate the demo database, load its sources and create the demo users (idempotent)."""
    from review.users import create_user

    upgrade(engine)
    sessions = make_session_factory(engine)
    with sessions() as session, session.begin():
        sync_sources(session, parse_sources(settings.sources))
        if session.scalar(select(User.id).where(User.username == DEMO_USER)) is None:
            create_user(session, DEMO_USER, DEMO_PASSWORD, Role.reviewer, display_name="Người thẩm định (demo)")
    return sessions


@dataclass
class FirstRun:
    """What the demo's first crawl, classification and alert check did; problems as one line each."""

    crawl_output: str = ""
    classified: int = 0
    problems: list[str] = field(default_factory=list)


def first_run(settings: Settings, sessions: sessionmaker[Session]) -> FirstRun:
    """Crawl every fixture outlet, classify what is left and check alerts, each recorded as a job run."""
    import scheduler as sched

    sched.configure(settings, sessions)
    result = FirstRun()
    for job in ("crawl_all", "classify_backlog", "alerts"):
        try:
            stats = sched.run_now(job)
        except Exception as exc:  # the UI is still worth showing with whatever was stored
            result.problems.append(f"{job} failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
            continue
        result.crawl_output = str(stats.get("output", result.crawl_output)).strip()
        result.classified += int(stats.get("classified", 0))
    return result
