"""Typed items the spider yields: a feed fetch outcome, and an article (from its page or its feed entry)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from store.models import DateSource, ExtractionStatus, FetchStatus, Origin, SnapshotKind


@dataclass
class FetchItem:
    """How one fetch of a feed (RSS/Atom/JSON Feed, sitemap, listing page) ended."""

    feed_id: int
    outlet_slug: str
    url: str
    status: FetchStatus
    message: str
    http_status: int | None = None
    duration_ms: int | None = None
    items_seen: int = 0
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    retry_after_s: float | None = None


@dataclass
class ArticleItem:
    """One article as collected; the pipelines normalise, dedup, store and classify it."""

    url: str
    outlet_id: int
    outlet_slug: str
    feed_id: int | None
    title: str = ""
    summary: str = ""
    text: str = ""
    author: str | None = None
    published_at: datetime | None = None
    date_source: DateSource = DateSource.none
    canonical_url: str | None = None
    origin: Origin = Origin.feed
    extraction: ExtractionStatus = ExtractionStatus.ok
    engagement: dict[str, int] | None = None
    page_attempted: bool = False  # a page fetch was tried (and failed, when extraction is feed_only)
    page_error: str | None = None
    rejected_date: datetime | None = None
    extract_seconds: float = 0.0
    # Bản lưu: the page body as fetched, or the feed entry (JSON) when no page was read; kept by the store step
    fetched: bytes = b""
    fetched_type: str = ""
    fetched_kind: SnapshotKind = SnapshotKind.page
    # filled by the pipelines
    title_hash: str | None = None
    content_hash: str | None = None
    action: str = ""  # new | updated | duplicate
    article_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
