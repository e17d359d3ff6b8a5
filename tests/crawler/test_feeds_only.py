"""`nq71 crawl --feeds-only`: entries kept from the feed without fetching pages; a full run fills them in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, select

from store.models import Article

if TYPE_CHECKING:
    from tests.crawler.conftest import SiteCrawlFactory

ROOT = Path(__file__).resolve().parents[2]


def test_feeds_only_then_full_run(migrated_engine: Engine, tmp_path: Path, site_crawl: SiteCrawlFactory) -> None:
    with site_crawl(migrated_engine, tmp_path, NQ71_CONCURRENCY_PER_HOST="4") as site:
        cmd = ["--json", "--outlet", "vnexpress"]
        first = site.run(*cmd, "--feeds-only", timeout=120)
        assert first.returncode == 0, first.stderr[-2000:]
        page_hits = sum(n for path, n in site.server.hits.items() if path.endswith(".html"))
        with site.sessions() as s:
            rows = list(s.scalars(select(Article).order_by(Article.id)))
            feed_only = [(a.extraction.value, a.text, a.date_source.value, a.page_attempts) for a in rows]
        second = site.run(*cmd, timeout=120)
        assert second.returncode == 0, second.stderr[-2000:]
        with site.sessions() as s:
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
