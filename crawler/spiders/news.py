"""The one spider: polls feeds, sitemaps, listing pages and social bridges from sources.toml; parses only."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.context import CrawlContext, FeedJob
from crawler.errors import RetryLaterError, classify_failure, http_message, retry_after_seconds
from crawler.extract import date_problem, decode_html, extract_page, tidy
from crawler.feeds import Entry, Parsed, parse_feed, parse_listing, parse_sitemap
from crawler.items import ArticleItem, FetchItem
from crawler.urls import normalise_url, same_site
from store.models import DateSource, ExtractionStatus, FeedKind, FetchStatus, Origin, SnapshotKind

log = logging.getLogger(__name__)

# Every error code reaches our callbacks (we record it); 3xx stay with the redirect middleware.
HTTP_CODES = [304, *range(400, 600)]


def _header(response: Response, name: str) -> str | None:
    raw = response.headers.get(name)
    return raw.decode("latin-1") if raw else None


class NewsSpider(scrapy.Spider):
    """Reads every configured way into an outlet and yields FetchItem and ArticleItem objects."""

    name = "nq71"

    def __init__(self, ctx: CrawlContext, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ctx = ctx
        self.max_bytes = ctx.settings.max_page_bytes
        self.jobs = {job.feed_id: job for job in ctx.jobs}
        self.selectors_by_outlet = {oid: info.selectors for oid, info in ctx.outlets.items()}
        self.slug_by_outlet = {oid: info.slug for oid, info in ctx.outlets.items()}
        self.home_by_outlet = {oid: normalise_url(info.homepage) for oid, info in ctx.outlets.items() if info.homepage}
        self.queued_pages: set[str] = set()
        self.last_activity = time.monotonic()

    # ---- requests ------------------------------------------------------------------------------
    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> NewsSpider:
        spider: NewsSpider = super().from_crawler(crawler, *args, **kwargs)
        if spider.ctx.worker:
            crawler.signals.connect(spider.keep_worker_alive, signal=signals.spider_idle)
        crawler.signals.connect(spider.settle_feeds, signal=signals.spider_closed)
        return spider

    def settle_feeds(self, reason: str) -> None:
        """After the item pipelines closed: save the validators of the bodies read in full."""
        from crawler.pipelines import settle

        settle(self.ctx, reason)

    def keep_worker_alive(self) -> None:
        """A worker waits for the shared frontier until it has been idle for ``worker_idle_seconds``."""
        if time.monotonic() - self.last_activity < self.ctx.worker_idle_seconds:
            raise DontCloseSpider

    async def start(self) -> AsyncIterator[Any]:
        if self.ctx.worker:
            return  # the machine that polls the feeds fills the shared frontier; workers only consume it
        for job in self.ctx.jobs:
            yield self.feed_request(job, job.url)
        if not self.ctx.feeds_only:
            for url, outlet_id, feed_id in self.ctx.retries:
                if outlet_id in self.slug_by_outlet and url not in self.queued_pages:
                    self.queued_pages.add(url)
                    request = self._checked(Entry(url=url), outlet_id, feed_id, retry=True)
                    if request is not None:
                        yield request
                    else:
                        self.ctx.given_up.append(url)  # a stored link the policy refuses: never retried again

    def _checked(self, entry: Entry, outlet_id: int, feed_id: int | None, retry: bool = False) -> scrapy.Request | None:
        """The page request for an entry, or None (counted as bad_link) when the link policy refuses its URL."""
        reason = self.ctx.links.refusal(entry.url)
        if reason is None:
            try:
                return self.page_request(entry, outlet_id, feed_id, retry=retry)
            except ValueError as exc:  # a URL Scrapy cannot request: one entry lost, not the feed
                reason = str(exc)
        self.ctx.refuse(self.slug_by_outlet[outlet_id], feed_id, entry.url, reason)
        return None

    def feed_request(self, job: FeedJob, url: str, page_no: int = 1, child: bool = False) -> scrapy.Request:
        """A feed/sitemap/listing request with conditional headers on the first page."""
        headers: dict[str, str] = {}
        first = page_no == 1 and not child
        if first and job.etag:
            headers["If-None-Match"] = job.etag
        if first and job.last_modified:
            headers["If-Modified-Since"] = job.last_modified
        return scrapy.Request(
            url,
            callback=self.parse_feed_response,
            errback=self.feed_failed,
            headers=headers,
            dont_filter=True,
            meta={
                "feed_id": job.feed_id,
                "page_no": page_no,
                "child": child,
                "handle_httpstatus_list": HTTP_CODES,
                "dont_retry": True,
                "started": time.monotonic(),
            },
        )

    def page_request(self, entry: Entry, outlet_id: int, feed_id: int | None, retry: bool = False) -> scrapy.Request:
        """An article page request carrying its feed entry (kept if the page fails)."""
        return scrapy.Request(
            entry.url,
            callback=self.parse_page,
            errback=self.page_failed,
            dont_filter=retry or entry.url in self.ctx.known,
            meta={
                "entry": entry,
                "outlet_id": outlet_id,
                "feed_id": feed_id,
                "retry": retry,
                "handle_httpstatus_list": HTTP_CODES,
                "dont_retry": True,
            },
        )

    # ---- feeds -----------------------------------------------------------------------------------
    def _fetch_item(self, job: FeedJob, url: str, status: FetchStatus, message: str, started: float, **extra: Any) -> FetchItem:
        return FetchItem(
            feed_id=job.feed_id,
            outlet_slug=job.outlet_slug,
            url=url,
            status=status,
            message=message,
            duration_ms=int((time.monotonic() - started) * 1000),
            **extra,
        )

    def parse_feed_response(self, response: Response) -> Iterator[Any]:
        self.last_activity = time.monotonic()
        job = self.jobs[response.meta["feed_id"]]
        started = response.meta["started"]
        first = response.meta["page_no"] == 1 and not response.meta["child"]
        self.ctx.count(job.outlet_slug, "fetched")
        self.ctx.timings["fetch"] += float(response.meta.get("download_latency", 0.0))
        code = response.status
        if code == 304:
            yield self._fetch_item(job, response.url, FetchStatus.not_modified, "HTTP 304 Not Modified", started, http_status=304)
            return
        if code >= 400:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            message = http_message(code) + (f"; Retry-After {wait:.0f} s honoured" if wait is not None else "")
            if first:
                yield self._fetch_item(job, response.url, FetchStatus.http_error, message, started, http_status=code, retry_after_s=wait)
            else:
                log.warning("%s %s: %s on %s", job.outlet_slug, job.url, message, response.url)
            return
        body = response.body
        digest = hashlib.sha256(body).hexdigest()
        etag = _header(response, "ETag")
        last_modified = _header(response, "Last-Modified")
        if first and body and digest == job.body_hash:
            yield self._fetch_item(
                job, response.url, FetchStatus.same_hash, "body unchanged (same hash)", started,
                http_status=code, body_hash=digest, etag=etag, last_modified=last_modified,
            )
            return
        parsed = self._parse_body(job, response)
        if first:
            yield self._fetch_item(
                job, response.url, parsed.status, parsed.message, started, http_status=code,
                items_seen=len(parsed.entries), etag=etag, last_modified=last_modified,
                body_hash=digest if parsed.status is FetchStatus.ok else None,
            )
        elif parsed.status is not FetchStatus.ok:
            log.warning("%s %s: %s on %s", job.outlet_slug, job.url, parsed.message, response.url)
        if parsed.status is not FetchStatus.ok:
            return
        for skipped in parsed.skipped:  # entries the parser could not read: each one an error, the rest kept
            self.ctx.count(job.outlet_slug, "errors")
            log.warning("%s %s: entry skipped: %s", job.outlet_slug, job.url, skipped)
        max_pages = int(job.options.get("max_pages", 1))
        for link in parsed.follow:
            reason = self.ctx.links.refusal(link)
            if reason is not None:
                self.ctx.refuse(job.outlet_slug, job.feed_id, link, reason)
            elif job.kind == FeedKind.sitemap.value:
                yield self.feed_request(job, link, child=True)
            elif response.meta["page_no"] < max_pages:
                yield self.feed_request(job, link, page_no=response.meta["page_no"] + 1)
        yield from self._entries(job, parsed.entries)

    def _parse_body(self, job: FeedJob, response: Response) -> Parsed:
        kind = FeedKind(job.kind)
        if kind is FeedKind.sitemap:
            return parse_sitemap(response.body, response.url, int(job.options.get("recency_days", 30)))
        if kind is FeedKind.listing:
            return parse_listing(
                response.body, _header(response, "Content-Type"), response.url,
                str(job.options["link_selector"]), job.options.get("next_selector"),
            )
        return parse_feed(response.body, response.url, kind)

    def _entries(self, job: FeedJob, entries: list[Entry]) -> Iterator[Any]:
        social = job.kind == FeedKind.social.value
        entry_only = bool(job.options.get("entry_only", social))
        for entry in entries:
            if entry.rejected_date is not None:
                log.warning("%s %s: %s %s rejected for %s", job.outlet_slug, job.url, date_problem(entry.rejected_date),
                            entry.rejected_date.isoformat(), entry.url)
            reason = self.ctx.links.refusal(entry.url)
            if reason is not None:  # not even stored: a reviewer would see a file:/javascript: link
                self.ctx.refuse(job.outlet_slug, job.feed_id, entry.url, reason)
                continue
            if entry_only or (self.ctx.feeds_only and job.kind not in (FeedKind.listing.value, FeedKind.sitemap.value)):
                yield self._from_entry(job, entry, social, ExtractionStatus.ok if entry_only else ExtractionStatus.feed_only)
                continue
            if not self._wants_page(entry) or entry.url in self.queued_pages:
                continue
            if self.ctx.feeds_only:
                continue  # listing/sitemap links carry no text: their pages wait for a full run
            self.queued_pages.add(entry.url)
            request = self._checked(entry, job.outlet_id, job.feed_id)
            if request is not None:
                yield request

    def _wants_page(self, entry: Entry) -> bool:
        """Fetch a page that is new, still feed-only, retitled or updated since we stored it."""
        known = self.ctx.known.get(entry.url)
        if known is None or known.extraction is ExtractionStatus.feed_only:
            return True
        if known.extraction is ExtractionStatus.failed:
            return False
        # Only an entry that says it changed (Atom <updated>, JSON Feed date_modified, sitemap lastmod) is refetched.
        return entry.updated_at is not None and entry.updated_at > known.updated_at

    def _from_entry(self, job: FeedJob, entry: Entry, social: bool, extraction: ExtractionStatus) -> ArticleItem:
        return ArticleItem(
            url=entry.url,
            outlet_id=job.outlet_id,
            outlet_slug=job.outlet_slug,
            feed_id=job.feed_id,
            title=entry.title or _first_words(entry.text or entry.summary),
            summary=entry.summary,
            text=entry.text if extraction is ExtractionStatus.ok else "",
            author=entry.author,
            published_at=entry.published_at,
            date_source=DateSource.feed if entry.published_at else DateSource.none,
            origin=Origin.social if social else Origin.feed,
            extraction=extraction,
            engagement=entry.engagement,
            rejected_date=entry.rejected_date,
            **entry_snapshot(entry),
        )

    def feed_failed(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        job = self.jobs[request.meta["feed_id"]]
        status, message = classify_failure(failure.value or Exception("unknown failure"), self.max_bytes)
        if request.meta["page_no"] == 1 and not request.meta["child"]:
            wait = None
            if isinstance(failure.value, RetryLaterError):
                wait = float(self.ctx.settings.host_down_minutes * 60)
            yield self._fetch_item(job, request.url, status, message, request.meta["started"], retry_after_s=wait)
        else:
            self.ctx.count(job.outlet_slug, "errors")
            log.warning("%s %s: %s on %s", job.outlet_slug, job.url, message, request.url)

    # ---- article pages ---------------------------------------------------------------------------
    def parse_page(self, response: Response) -> Iterator[Any]:
        self.last_activity = time.monotonic()
        entry: Entry = response.meta["entry"]
        outlet_id: int = response.meta["outlet_id"]
        slug = self.slug_by_outlet[outlet_id]
        self.ctx.count(slug, "fetched")
        self.ctx.timings["fetch"] += float(response.meta.get("download_latency", 0.0))
        if response.status >= 400:
            self.ctx.count(slug, "errors")
            yield self._page_fallback(entry, outlet_id, response.meta["feed_id"], http_message(response.status))
            return
        t0 = time.perf_counter()
        html, _charset = decode_html(response.body, _header(response, "Content-Type"))
        page = extract_page(
            html, response.url, self.selectors_by_outlet.get(outlet_id), now=datetime.now(UTC),
            want_date=entry.published_at is None,
        )
        spent = time.perf_counter() - t0
        self.ctx.timings["extract"] += spent
        if not page.text:
            self.ctx.count(slug, "errors")
            yield self._page_fallback(entry, outlet_id, response.meta["feed_id"], "no article text could be extracted")
            return
        url = normalise_url(response.url)
        if page.canonical_url and page.canonical_url != url and self._own(outlet_id, page.canonical_url, url):
            url = page.canonical_url  # the outlet's own canonical address; another site's means syndication
        published: datetime | None
        if entry.published_at is not None:
            published, source = entry.published_at, DateSource.sitemap if self._from_sitemap(response) else DateSource.feed
        else:
            published, source = page.published_at, page.date_source
        if page.rejected_date is not None:
            log.warning("%s: %s %s rejected on %s", slug, date_problem(page.rejected_date), page.rejected_date.isoformat(), response.url)
        yield ArticleItem(
            url=url,
            outlet_id=outlet_id,
            outlet_slug=slug,
            feed_id=response.meta["feed_id"],
            title=page.title or entry.title,
            summary=entry.summary,
            text=page.text,
            author=page.author or entry.author,
            published_at=published,
            date_source=source,
            canonical_url=page.canonical_url,
            origin=Origin.feed if self._from_feed(response) else Origin.crawl,
            extraction=ExtractionStatus.ok,
            engagement=entry.engagement,
            page_attempted=True,
            rejected_date=entry.rejected_date or page.rejected_date,
            extract_seconds=spent,
            fetched=response.body,
            fetched_type=_header(response, "Content-Type") or "text/html",
        )

    def _own(self, outlet_id: int, canonical: str, url: str) -> bool:
        """True when a canonical link stays inside the outlet's own site (its homepage's host and path)."""
        home = self.home_by_outlet.get(outlet_id)
        if home is None:
            return same_site(canonical, url)
        return canonical.startswith(home.rstrip("/") + "/") or canonical == home

    def _kind_of(self, response: Response) -> str | None:
        job = self.jobs.get(response.meta.get("feed_id") or -1)
        return job.kind if job else None

    def _from_sitemap(self, response: Response) -> bool:
        return self._kind_of(response) == FeedKind.sitemap.value

    def _from_feed(self, response: Response) -> bool:
        return self._kind_of(response) not in (FeedKind.sitemap.value, FeedKind.listing.value)

    def _page_fallback(self, entry: Entry, outlet_id: int, feed_id: int | None, reason: str) -> ArticleItem:
        slug = self.slug_by_outlet[outlet_id]
        log.warning("%s feed %s: page %s failed (%s); kept from the feed entry", slug, feed_id, entry.url, reason)
        return ArticleItem(
            url=entry.url,
            outlet_id=outlet_id,
            outlet_slug=slug,
            feed_id=feed_id,
            title=entry.title,
            summary=entry.summary,
            author=entry.author,
            published_at=entry.published_at,
            date_source=DateSource.feed if entry.published_at else DateSource.none,
            origin=Origin.feed,
            extraction=ExtractionStatus.feed_only,
            engagement=entry.engagement,
            page_attempted=True,
            page_error=reason,
            rejected_date=entry.rejected_date,
            **entry_snapshot(entry),
        )

    def page_failed(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        outlet_id = request.meta["outlet_id"]
        status, message = classify_failure(failure.value or Exception("unknown failure"), self.max_bytes)
        if status is FetchStatus.bad_link:  # a redirect to a refused link: the entry is refused with it
            entry: Entry = request.meta["entry"]
            self.ctx.refuse(self.slug_by_outlet[outlet_id], request.meta["feed_id"], entry.url, message)
            if request.meta.get("retry"):
                self.ctx.given_up.append(entry.url)
            return
        self.ctx.count(self.slug_by_outlet[outlet_id], "errors")
        yield self._page_fallback(request.meta["entry"], outlet_id, request.meta["feed_id"], message)


def _first_words(text: str, n: int = 14) -> str:
    words = tidy(text).split()
    return " ".join(words[:n]) + ("…" if len(words) > n else "")


def entry_snapshot(entry: Entry) -> dict[str, Any]:
    """Bản lưu of an item read from its feed entry only: the entry as parsed, as JSON."""
    raw = json.dumps(dataclasses.asdict(entry), ensure_ascii=False, default=str, indent=1).encode("utf-8")
    return {"fetched": raw, "fetched_type": "application/json; charset=utf-8", "fetched_kind": SnapshotKind.feed_entry}
