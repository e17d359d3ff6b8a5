"""What one crawl process shares between its spider and pipelines: settings, sessions, counters, indexes."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from classify.near_dup import NearDupIndex
from crawler.extract import storable
from crawler.links import LinkPolicy
from settings import Settings
from store.articles import Known

log = logging.getLogger(__name__)
COLUMNS = ("fetched", "new", "updated", "duplicate", "feed_only", "errors")
STAGES = ("fetch", "extract", "classify", "store")
MAX_PAGE_ATTEMPTS = 5  # a feed-only article's page is retried on this many runs, then marked failed


@dataclass
class FeedJob:
    """One feed to poll, with what the spider needs to know about it (no ORM objects across threads)."""

    feed_id: int
    outlet_id: int
    outlet_slug: str
    url: str
    kind: str
    options: dict[str, Any]
    selectors: dict[str, str]
    homepage: str = ""
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None


@dataclass(frozen=True)
class OutletInfo:
    """What pages of an outlet need: its slug, selector overrides and homepage (for canonical links)."""

    slug: str
    selectors: dict[str, str]
    homepage: str


@dataclass
class CrawlContext:
    """Shared state of one crawl; counters are per outlet slug."""

    settings: Settings
    sessions: sessionmaker[Session]
    jobs: list[FeedJob]
    outlets: dict[int, OutletInfo]
    known: dict[str, Known]
    retries: list[tuple[str, int, int | None]]
    index: NearDupIndex
    links: LinkPolicy = field(default_factory=lambda: LinkPolicy([]))
    feeds_only: bool = False
    worker: bool = False  # only consume the shared Redis frontier (another machine polls the feeds)
    worker_idle_seconds: float = 30.0
    progress: Callable[[str], None] | None = None
    rows: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: dict.fromkeys(COLUMNS, 0)))
    timings: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))
    new_per_feed: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    health: list[tuple[str, str, str, str]] = field(default_factory=list)  # slug, url, status, message
    refused: dict[int, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))  # feed -> (url, reason)
    given_up: list[str] = field(default_factory=list)  # stored feed-only pages whose links are refused
    # feed -> (etag, last_modified, body_hash) of a new body, saved once all its entries are through
    unsettled: dict[int, tuple[str | None, str | None, str | None]] = field(default_factory=dict)

    def count(self, slug: str, column: str, n: int = 1) -> None:
        """Add to one column of an outlet's row."""
        self.rows[slug][column] += n

    def refuse(self, slug: str, feed_id: int | None, url: str, reason: str) -> None:
        """Count a link the policy refused (an error of kind bad_link), credited to its feed."""
        url = storable(url)  # it goes into the feed's message: a NUL would make PostgreSQL refuse the whole row
        self.count(slug, "errors")
        if feed_id is not None:
            self.refused[feed_id].append((url, reason))
        log.warning("%s feed %s: bad_link: %s refused: %s", slug, feed_id, url[:200], reason)

    def say(self, line: str) -> None:
        """Report progress to the caller (the CLI prints it)."""
        if self.progress is not None:
            self.progress(line)
