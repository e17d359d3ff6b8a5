"""Run one crawl in this process (Scrapy's CrawlerProcess); callers start a fresh process per crawl."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from contextlib import nullcontext

from sqlalchemy.orm import Session, sessionmaker

from classify.near_dup import NearDupIndex
from crawler.context import COLUMNS, MAX_PAGE_ATTEMPTS, STAGES, CrawlContext, FeedJob, OutletInfo
from crawler.errors_light import CrawlError
from crawler.links import LinkPolicy
from crawler.lock import CrawlLockHeld
from settings import Settings
from store.articles import active_outlets, known_articles, outlet_ids, page_retries, recent_texts
from store.db import ensure_schema, make_engine, make_session_factory
from store.feeds import configured_urls, feeds_to_crawl
from store.models import FeedKind, utcnow

log = logging.getLogger(__name__)
NEAR_DUP_DAYS = 30


@dataclass
class CrawlReport:
    """What a crawl did, per outlet slug: fetched, new, updated, duplicate, feed_only, errors."""

    rows: dict[str, dict[str, int]]
    feeds: int
    seconds: float
    timings: dict[str, float] = field(default_factory=dict)
    health: list[tuple[str, str, str, str]] = field(default_factory=list)

    @property
    def totals(self) -> dict[str, int]:
        """Column sums over all outlets."""
        return {c: sum(r.get(c, 0) for r in self.rows.values()) for c in COLUMNS}


FEED_KINDS = (FeedKind.rss, FeedKind.atom, FeedKind.jsonfeed, FeedKind.social)  # what --feeds-only polls


def _jobs(
    settings: Settings, sessions: sessionmaker[Session], outlets: list[str] | None, due_only: bool, feeds_only: bool
) -> tuple[CrawlContext, int]:
    with sessions() as session:
        if outlets:
            unknown = sorted(set(outlets) - set(outlet_ids(session, outlets)))
            if unknown:
                raise CrawlError(f"unknown outlet slug(s) {unknown}: see `nq71 sources list`")
        # --feeds-only leaves listing pages and sitemaps (whose links carry no text) to the full runs
        feeds = feeds_to_crawl(session, outlets, due_only, kinds=FEED_KINDS if feeds_only else None)
        jobs = [
            FeedJob(
                feed_id=f.id,
                outlet_id=f.outlet_id,
                outlet_slug=f.outlet.slug,
                url=f.url,
                kind=f.kind.value,
                options=dict(f.options or {}),
                selectors=dict(f.outlet.selectors or {}),
                homepage=f.outlet.homepage,
                etag=f.etag,
                last_modified=f.last_modified,
                body_hash=f.body_hash,
            )
            for f in feeds
        ]
        infos = {
            o.id: OutletInfo(o.slug, dict(o.selectors or {}), o.homepage)
            for o in active_outlets(session, outlets)
        }
        ids = sorted(infos)
        known = known_articles(session, ids)
        # feed-only pages are retried on every full run, whether or not their feed is due
        retries = [] if feeds_only else page_retries(session, ids, MAX_PAGE_ATTEMPTS)
        index = NearDupIndex.build(recent_texts(session, utcnow() - timedelta(days=NEAR_DUP_DAYS)))
        links = LinkPolicy(configured_urls(session))
    ctx = CrawlContext(
        settings=settings, sessions=sessions, jobs=jobs, outlets=infos, known=known, retries=retries, index=index,
        links=links,
    )
    return ctx, len(feeds)


def run_crawl(
    settings: Settings,
    outlets: list[str] | None = None,
    feeds_only: bool = False,
    due_only: bool = True,
    progress: Callable[[str], None] | None = None,
    worker: bool = False,
    worker_idle_seconds: float = 30.0,
    wait_seconds: float = 0.0,
) -> CrawlReport:
    """Crawl what is due (or everything) of the given outlets; blocks until done. Once per process.

    One crawl at a time per database: while another holds the lock, wait up to ``wait_seconds`` and
    then raise CrawlError.

    ``worker=True`` (with ``NQ71_REDIS_URL``) polls nothing itself: it takes requests from the frontier
    that another machine's crawl fills, and stops after ``worker_idle_seconds`` without work.
    """
    if worker and not settings.redis_url:
        raise CrawlError("a crawl worker needs the shared frontier: set NQ71_REDIS_URL (e.g. redis://127.0.0.1:6379)")
    from scrapy.crawler import CrawlerProcess

    from crawler.settings import scrapy_settings
    from crawler.spiders.news import NewsSpider

    started = time.perf_counter()
    engine = make_engine(settings.database_url)
    ensure_schema(engine)
    sessions = make_session_factory(engine)
    # Workers share the polling crawl's frontier on purpose; only the polling crawl is one at a time.
    with nullcontext() if worker else CrawlLockHeld(sessions, wait_seconds):
        ctx, n_feeds = _jobs(settings, sessions, outlets, due_only and not worker, feeds_only)
        ctx.feeds_only = feeds_only
        ctx.worker = worker
        ctx.worker_idle_seconds = worker_idle_seconds
        ctx.progress = progress
        for job in ctx.jobs:
            ctx.rows[job.outlet_slug]  # every polled outlet gets a row, even with nothing new
        for _url, outlet_id, _feed in ctx.retries:
            ctx.rows[ctx.outlets[outlet_id].slug]
        if progress:
            progress(f"{n_feeds} feed(s) due, {len(ctx.retries)} page(s) to retry, near-dup index: {len(ctx.index)} articles")
        if settings.log_level != "DEBUG":
            # Scrapy logs every request at INFO/DEBUG; our own lines already name the outlet and feed.
            for name in ("scrapy", "twisted", "protego", "trafilatura", "htmldate", "py.warnings"):
                logging.getLogger(name).setLevel(logging.WARNING)
            logging.getLogger("scrapy.core.scraper").setLevel(logging.CRITICAL)  # dropped items are counted
        if ctx.jobs or ctx.retries:
            process = CrawlerProcess(scrapy_settings(settings))
            process.crawl(NewsSpider, ctx=ctx)
            process.start()
    return CrawlReport(
        rows={k: dict(v) for k, v in sorted(ctx.rows.items())},
        feeds=n_feeds,
        seconds=time.perf_counter() - started,
        timings={s: round(ctx.timings[s], 3) for s in STAGES},
        health=list(ctx.health),
    )
