"""Item pipelines: normalise → dedup and store (one transaction per item); feed health. Stored articles are due
for classification (article.classify_due): the classification workers (workers.py) take them from there."""

from __future__ import annotations

import logging
import time
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from sqlalchemy.orm import Session

from classify.near_dup import long_enough, signature
from crawler.context import MAX_PAGE_ATTEMPTS, CrawlContext
from crawler.extract import text_hash, tidy, tidy_block, title_key
from crawler.items import ArticleItem, FetchItem
from store.articles import by_url, give_up_pages, same_title
from store.feeds import SUCCESS, note_new_items, record_fetch, record_refused, settle_fetch
from store.models import Article, ExtractionStatus, FetchStatus, utcnow
from store.snapshots import save_snapshot

log = logging.getLogger(__name__)


def keep_snapshot(session: Session, item: ArticleItem) -> None:
    """Bản lưu: keep what was fetched for a new or revised article (questioned posts get deleted)."""
    if item.action in ("new", "updated") and item.article_id is not None and item.fetched:
        save_snapshot(session, item.article_id, item.url, utcnow(), item.fetched_kind, item.fetched_type, item.fetched,
                      item.title, item.text or item.summary)
    item.fetched = b""  # kept: the item need not carry up to NQ71_MAX_PAGE_BYTES through the later pipelines


class _Base:
    """Pipelines reach the crawl's shared context through the crawler (no spider argument, Scrapy ≥ 2.14)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        return cls(crawler)

    @property
    def ctx(self) -> CrawlContext:
        return self.crawler.spider.ctx  # type: ignore[union-attr, no-any-return]


class NormalisePipeline(_Base):
    """NFC every text field, fill the title/content hashes; an item with neither title nor text is dropped."""

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, ArticleItem):
            return item
        item.title = tidy(item.title)
        item.summary = tidy_block(item.summary)
        item.text = tidy_block(item.text)
        item.author = tidy(item.author) or None
        if not item.title and not item.text and not item.summary and not item.page_attempted:
            self.ctx.count(item.outlet_slug, "errors")
            log.warning("%s feed %s: %s dropped: no title and no text", item.outlet_slug, item.feed_id, item.url)
            raise DropItem(f"{item.outlet_slug}: {item.url} has no title and no text")
        item.title_hash = title_key(item.title) if item.title else None
        item.content_hash = text_hash(item.text) if item.text else None
        return item


class StorePipeline(_Base):
    """Dedup (URL, title per outlet in 7 days, near-identical text) and write, each item in its own transaction."""

    def process_item(self, item: Any) -> Any:
        if isinstance(item, FetchItem):
            return self._health(item)
        if not isinstance(item, ArticleItem):
            return item
        ctx = self.ctx
        t0 = time.perf_counter()
        try:
            with ctx.sessions() as session, session.begin():
                self._store(session, item)
                keep_snapshot(session, item)
        except Exception as exc:  # one bad item must not stop the crawl; it is logged and counted
            ctx.count(item.outlet_slug, "errors")
            log.exception("%s feed %s: could not store %s: %s", item.outlet_slug, item.feed_id, item.url, exc)
            raise DropItem(f"store failed for {item.url}") from exc
        finally:
            ctx.timings["store"] += time.perf_counter() - t0
        if item.action == "new" and item.article_id is not None:
            self._index(item)
        if item.action != "unchanged":
            ctx.count(item.outlet_slug, item.action)
        if item.action in ("new", "updated") and item.extraction is not ExtractionStatus.ok:
            ctx.count(item.outlet_slug, "feed_only")
        if item.action == "new" and item.feed_id is not None:
            ctx.new_per_feed[item.feed_id] += 1
        return item

    def _health(self, item: FetchItem) -> FetchItem:
        ctx = self.ctx
        # A new body's validators wait until its entries are through (see settle): after a kill -9 the
        # next run must fetch and read the same body again, not answer same_hash / 304.
        settle = item.status is not FetchStatus.ok
        if not settle:
            ctx.unsettled[item.feed_id] = (item.etag, item.last_modified, item.body_hash)
        try:
            with ctx.sessions() as session, session.begin():
                record_fetch(
                    session, item.feed_id, item.status, item.message, http_status=item.http_status,
                    duration_ms=item.duration_ms, items_seen=item.items_seen, etag=item.etag,
                    last_modified=item.last_modified, body_hash=item.body_hash, retry_after_s=item.retry_after_s,
                    settle=settle,
                )
        except Exception:
            log.exception("%s feed %s: could not record fetch status %s", item.outlet_slug, item.url, item.status)
            raise
        if item.status not in SUCCESS:
            ctx.count(item.outlet_slug, "errors")
            log.warning("%s feed %s: %s", item.outlet_slug, item.url, item.message)
        ctx.health.append((item.outlet_slug, item.url, item.status.value, item.message))
        ctx.say(f"{item.outlet_slug}: {item.status.value} {item.message} <{item.url}>")
        return item

    def _store(self, session: Session, item: ArticleItem) -> None:
        now = utcnow()
        existing = by_url(session, item.url)
        if existing is not None:
            item.article_id = existing.id
            item.action = self._merge(existing, item)
            return
        if item.title_hash:
            twin = same_title(session, item.outlet_id, item.title_hash, item.published_at or now, item.url)
            if twin is not None:
                item.article_id = twin.id
                item.action = "duplicate"
                return
        article = Article(
            url=item.url,
            canonical_url=item.canonical_url,
            outlet_id=item.outlet_id,
            feed_id=item.feed_id,
            title=item.title,
            summary=item.summary,
            text=item.text,
            author=item.author,
            published_at=item.published_at,
            date_source=item.date_source,
            collected_at=now,
            content_hash=item.content_hash,
            title_hash=item.title_hash,
            origin=item.origin,
            extraction=item.extraction,
            page_attempts=1 if item.page_attempted else 0,
            engagement=item.engagement,
        )
        session.add(article)
        session.flush()
        body = item.text or item.summary
        sig = signature(body) if long_enough(body) else None
        item.extra["signature"] = sig  # reused when indexing after commit
        match = self.ctx.index.match(sig) if sig is not None else None
        if match is not None:
            article.copy_of_id = match.copy_of_id
            article.cluster_id = match.cluster_id
            item.extra["similarity"] = match.similarity
        else:
            article.cluster_id = article.id  # a new original starts its own story
        item.extra["root"] = article.copy_of_id or article.id
        item.extra["cluster"] = article.cluster_id
        item.article_id = article.id
        item.action = "new"

    def _merge(self, article: Article, item: ArticleItem) -> str:
        """Update a stored article: a page after a feed-only entry, or a revised text (revision + 1)."""
        if item.extraction is not ExtractionStatus.ok:
            if article.extraction is ExtractionStatus.ok:
                return "duplicate"
            if item.page_attempted:
                article.page_attempts += 1
                if article.page_attempts >= MAX_PAGE_ATTEMPTS:
                    article.extraction = ExtractionStatus.failed  # still counts; no more page fetches
            return "unchanged"  # a page retry that failed again: already counted as an error
        if article.extraction is not ExtractionStatus.ok:
            article.extraction = ExtractionStatus.ok
            article.page_attempts += 1 if item.page_attempted else 0
            self._copy_fields(article, item)
            return "updated"
        if item.content_hash and item.content_hash != article.content_hash:
            article.revision += 1
            self._copy_fields(article, item)
            return "updated"
        if item.engagement and item.engagement != article.engagement:
            article.engagement = item.engagement  # social counters move; not a new revision
        return "duplicate"

    @staticmethod
    def _copy_fields(article: Article, item: ArticleItem) -> None:
        article.title = item.title or article.title
        article.title_hash = item.title_hash or article.title_hash
        article.text = item.text
        article.content_hash = item.content_hash
        article.author = item.author or article.author
        article.summary = item.summary or article.summary
        article.canonical_url = item.canonical_url or article.canonical_url
        if item.engagement:
            article.engagement = item.engagement
        if article.published_at is None and item.published_at is not None:
            article.published_at = item.published_at  # a page can date what its feed entry could not
            article.date_source = item.date_source

    def _index(self, item: ArticleItem) -> None:
        sig = item.extra.get("signature")
        if item.article_id is not None and sig is not None:
            self.ctx.index.add(item.article_id, sig, root=item.extra["root"], cluster=item.extra["cluster"])

    def close_spider(self) -> None:
        ctx = self.ctx
        with ctx.sessions() as session, session.begin():
            for feed_id, new in ctx.new_per_feed.items():
                note_new_items(session, feed_id, new)
            for feed_id, links in ctx.refused.items():
                record_refused(session, feed_id, links)
            give_up_pages(session, ctx.given_up)


def settle(ctx: CrawlContext, reason: str) -> None:
    """Save the validators and next due time of feeds whose new body was read in full (spider_closed).

    Only a crawl that finished: every request is done, so every entry is stored or counted as failed
    (a crawl stopped early leaves them unsaved and the next run reads those bodies again).
    """
    if reason != "finished" or not ctx.unsettled:
        return
    with ctx.sessions() as session, session.begin():
        for feed_id, (etag, last_modified, body_hash) in ctx.unsettled.items():
            settle_fetch(session, feed_id, etag, last_modified, body_hash)
    ctx.unsettled.clear()
