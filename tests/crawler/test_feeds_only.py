"""`nq71 crawl --feeds-only`: entries kept from the feed without fetching pages; a full run fills them in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, select, text

from crawler.sitesim import render_sources, start_site_server
from store.db import make_session_factory
from store.models import Article, Base
from store.sources import parse_sources, sync_sources

ROOT = Path(__file__).resolve().parents[2]


def test_feeds_only_then_full_run(migrated_engine: Engine, tmp_path: Path) -> None:
    with migrated_engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(text(f'DELETE FROM "{table.name}"'))
    sessions = make_session_factory(migrated_engine)
    with start_site_server() as server:
        sources = tmp_path / "sources.toml"
        sources.write_text(render_sources(server.base_url), encoding="utf-8")
        with sessions() as s, s.begin():
            sync_sources(s, parse_sources(sources))
        env = {k: v for k, v in os.environ.items() if not k.startswith("NQ71_")}
        env.update({"NQ71_DATABASE_URL": migrated_engine.url.render_as_string(hide_password=False),
                    "NQ71_DOWNLOAD_DELAY": "0", "NQ71_AUTOTHROTTLE": "false", "NQ71_CONCURRENCY_PER_HOST": "4"})
        cmd = [sys.executable, "-m", "cli", "crawl", "--json", "--outlet", "vnexpress"]
        first = subprocess.run([*cmd, "--feeds-only"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert first.returncode == 0, first.stderr[-2000:]
        page_hits = sum(n for path, n in server.hits.items() if path.endswith(".html"))
        with sessions() as s:
            rows = list(s.scalars(select(Article).order_by(Article.id)))
            feed_only = [(a.extraction.value, a.text, a.date_source.value, a.page_attempts) for a in rows]
        second = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert second.returncode == 0, second.stderr[-2000:]
        with sessions() as s:
            after = list(s.scalars(select(Article).order_by(Article.id)))
    report = json.loads(first.stdout.splitlines()[-1])
    assert report["rows"]["vnexpress"] == {"fetched": 1, "new": 7, "updated": 0, "duplicate": 1, "feed_only": 7, "errors": 0}
    assert page_hits == 0  # no article page was requested
    assert feed_only == [("feed_only", "", "feed", 0)] * 7
    full = json.loads(second.stdout.splitlines()[-1])
    # no feed is due yet, but the 7 feed-only pages are fetched and filled in
    assert full["feeds"] == 0
    assert full["rows"]["vnexpress"] == {"fetched": 7, "new": 0, "updated": 7, "duplicate": 0, "feed_only": 0, "errors": 0}
    assert [a.id for a in after] == [a.id for a in rows]
    assert all(a.extraction.value == "ok" and a.text and a.revision == 1 and a.page_attempts == 1 for a in after)
