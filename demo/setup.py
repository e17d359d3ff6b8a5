"""The demo's setup: its own SQLite file and settings, the fixture outlets, demo users and the first crawl."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from demo.server import SiteServer, render_sources, sites_dir, start_site_server
from settings import Settings
from store.db import make_session_factory, upgrade
from store.models import Role, User
from store.queries import OutletCounts, counts_per_outlet, stats
from store.sources import parse_sources, sync_sources

DEMO_USER = "demo"
DEMO_PASSWORD = "nq71-demo-2026"
OUTLETS_PORT = 8171


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


def start_outlets() -> SiteServer:
    """Serve the fixture outlets on OUTLETS_PORT if it is free (a restarted demo finds its articles at the same
    addresses instead of storing a second copy of each), else on any free port."""
    try:
        return start_site_server(port=OUTLETS_PORT)
    except OSError:
        return start_site_server(port=0)


def write_sources(demo_dir: Path, base_url: str) -> Path:
    """The demo's sources file: every fixture outlet (sources.toml) and the demo's own (sources-demo.toml)."""
    path = demo_dir / "sources.toml"
    extra = render_sources(base_url, sites_dir() / "sources-demo.toml")
    path.write_text(render_sources(base_url) + "\n" + extra, encoding="utf-8")
    return path


def demo_settings(base: Settings, sources_file: Path, host: str, port: int) -> Settings:
    """The demo's settings: its own database, sources and key; politeness off (local fixture sites only)."""
    from review.keys import stored_key

    demo_dir = demo_database(base).parent
    secret = base.secret_key or stored_key(demo_dir)  # the demo's own key, kept so logins survive a restart
    return base.replace(
        database_url=f"sqlite:///{demo_database(base)}", sources=sources_file, reports_dir=demo_dir / "reports",
        secret_key=secret, download_delay=0.0, autothrottle=False, concurrency_per_host=8, download_timeout=10.0,
        host=host, port=port, smtp_host="",
        # the terminal shows the summary and the login line; job runs and their output stay in the database
        log_level="DEBUG" if base.log_level == "DEBUG" else "WARNING",
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


def first_run(settings: Settings, sessions: sessionmaker[Session]) -> list[str]:
    """Crawl every fixture outlet, classify what is left, check alerts (each a recorded job run), then the
    demo team's review work; one line per step that failed (the UI is still worth showing with what was stored)."""
    import scheduler as sched
    from demo.triage import stage_review_work

    sched.configure(settings, sessions)
    problems: list[str] = []
    for job in ("crawl_all", "classify_backlog", "alerts"):
        try:
            sched.run_now(job)
        except Exception as exc:
            problems.append(f"{job} failed: {first_line(exc)}")
    try:
        problems += stage_review_work(sessions, settings)
    except Exception as exc:
        problems.append(f"demo review work failed: {first_line(exc)}")
    return problems


def first_line(exc: BaseException) -> str:
    """An exception as one line."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@dataclass
class Summary:
    """The demo's database after its first run: counts per outlet and the queue by status."""

    outlets: list[OutletCounts]
    queue: dict[str, int]


def summary(sessions: sessionmaker[Session]) -> Summary:
    """What the demo holds now."""
    with sessions() as session:
        return Summary(counts_per_outlet(session), stats(session)["review_items"])
