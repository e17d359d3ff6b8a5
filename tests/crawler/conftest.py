"""Crawls of the fixture sites as a user runs them: an emptied database, the sites served on 127.0.0.1, synced."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from demo.server import SiteServer, render_sources, start_site_server
from store.db import make_session_factory
from store.sources import parse_sources, sync_sources

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class SiteCrawl:
    """The served fixture sites, their sources file, the database and the environment of `nq71 crawl`."""

    server: SiteServer
    sources: Path
    sessions: sessionmaker[Session]
    env: dict[str, str]

    def run(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        """`python -m cli crawl ARGS` in a subprocess (Twisted's reactor cannot restart in this one)."""
        return self.nq71("crawl", *args, timeout=timeout)

    def nq71(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        """Any `nq71` command on this setting, in a subprocess."""
        return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=timeout)

    def start(self, *args: str, stderr: Path) -> subprocess.Popen[str]:
        """`nq71 crawl ARGS` started in the background (killed or awaited by the test), its stderr to a file.

        A file, not a pipe: nobody reads a pipe while the test waits, and a full one would stall the crawl.
        """
        with stderr.open("w", encoding="utf-8") as err:
            return subprocess.Popen([sys.executable, "-m", "cli", "crawl", *args], cwd=ROOT, env=self.env,
                                    stdout=subprocess.DEVNULL, stderr=err, text=True)


SiteCrawlFactory = Callable[..., AbstractContextManager[SiteCrawl]]


@pytest.fixture(scope="session")
def site_crawl(empty_database: Callable[[Engine], None]) -> SiteCrawlFactory:
    """``with site_crawl(engine, folder, template=None, NQ71_X="..."):`` a fresh crawl setting, politeness off.

    ``template`` is a sources file under fixtures/sites (default: sources.toml, every fixture outlet).
    """

    @contextmanager
    def start(engine: Engine, folder: Path, template: Path | None = None, **env: str) -> Iterator[SiteCrawl]:
        empty_database(engine)
        sessions = make_session_factory(engine)
        with start_site_server() as server:
            sources = folder / "sources.toml"
            sources.write_text(render_sources(server.base_url, template), encoding="utf-8")
            with sessions() as s, s.begin():
                sync_sources(s, parse_sources(sources))
            full_env = {k: v for k, v in os.environ.items() if not k.startswith("NQ71_")}
            full_env.update({
                "NQ71_DATABASE_URL": engine.url.render_as_string(hide_password=False),
                "NQ71_SOURCES": str(sources),
                "NQ71_DATA_DIR": str(folder / "var"),
                "NQ71_DOWNLOAD_DELAY": "0",
                "NQ71_AUTOTHROTTLE": "false",
                "NQ71_LOG_LEVEL": "WARNING",
                **env,
            })
            yield SiteCrawl(server, sources, sessions, full_env)

    return start
