"""Feed health: record each fetch outcome, keep the last 30 events, back off failing feeds (never disable)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from store.models import Feed, FeedKind, FetchEvent, FetchStatus, Outlet, utcnow

EVENTS_KEPT = 30
MAX_BACKOFF = timedelta(days=1)
SUCCESS = frozenset({FetchStatus.ok, FetchStatus.not_modified, FetchStatus.same_hash})
# How much one failure of each kind weighs: a timeout is often passing, a 404 or HTML page rarely is.
FAILURE_WEIGHT = {
    FetchStatus.timeout: 0.5,
    FetchStatus.connection_error: 1.0,
    FetchStatus.http_error: 1.0,
    FetchStatus.dns_error: 2.0,
    FetchStatus.tls_error: 2.0,
    FetchStatus.not_a_feed: 2.0,
    FetchStatus.empty: 1.0,
    FetchStatus.parse_error: 2.0,
    FetchStatus.too_large: 2.0,
    FetchStatus.robots_denied: 2.0,
    FetchStatus.bad_link: 2.0,
}
REFUSED_SHOWN = 3  # refused links named in a feed's status message


def feeds_to_crawl(
    session: Session,
    outlets: Sequence[str] | None = None,
    due_only: bool = True,
    now: datetime | None = None,
    kinds: Sequence[FeedKind] | None = None,
) -> list[Feed]:
    """Active, unpaused feeds of active outlets (optionally only these slugs and kinds), due now unless due_only=False."""
    now = now or utcnow()
    stmt = (
        select(Feed)
        .join(Outlet, Feed.outlet_id == Outlet.id)
        .options(selectinload(Feed.outlet))
        .where(Feed.active.is_(True), Feed.paused.is_(False), Outlet.active.is_(True))
        .order_by(Outlet.slug, Feed.id)
    )
    if outlets:
        stmt = stmt.where(Outlet.slug.in_(list(outlets)))
    if due_only:
        stmt = stmt.where((Feed.next_due_at.is_(None)) | (Feed.next_due_at <= now))
    if kinds is not None:
        stmt = stmt.where(Feed.kind.in_(list(kinds)))
    return list(session.scalars(stmt))


def backoff(poll_minutes: int, consecutive_failures: int) -> timedelta:
    """Delay before the next try: the poll interval doubled per failure in a row, at most a day."""
    if consecutive_failures <= 0:
        return timedelta(minutes=poll_minutes)
    return min(timedelta(minutes=poll_minutes * 2 ** min(consecutive_failures, 12)), MAX_BACKOFF)


def record_fetch(
    session: Session,
    feed_id: int,
    status: FetchStatus,
    message: str,
    *,
    http_status: int | None = None,
    duration_ms: int | None = None,
    items_seen: int = 0,
    etag: str | None = None,
    last_modified: str | None = None,
    body_hash: str | None = None,
    retry_after_s: float | None = None,
    now: datetime | None = None,
    settle: bool = True,
) -> Feed:
    """Apply one fetch outcome to the feed's health record and its capped event log.

    ``settle=False`` (a new body whose entries are still being fetched) leaves the validators and the
    next due time alone: they are saved by ``settle_fetch`` once every entry is stored or recorded as
    failed, so a crawl killed half-way fetches the same body again on the next run.
    """
    now = now or utcnow()
    feed = session.get_one(Feed, feed_id)
    feed.last_attempt_at = now
    feed.status = status
    feed.http_status = http_status
    if status in SUCCESS:
        feed.last_success_at = now
        feed.consecutive_failures = 0
        feed.failure_weight = round(feed.failure_weight / 2, 3)  # decays, so a flapping feed stays visible
        feed.status_message = message
        if settle:
            _validators(feed, status, etag, last_modified, body_hash)
        delay = timedelta(minutes=feed.poll_minutes)
    else:
        feed.consecutive_failures += 1
        feed.failure_weight = round(feed.failure_weight + FAILURE_WEIGHT.get(status, 1.0), 3)
        delay = backoff(feed.poll_minutes, feed.consecutive_failures)
        since = feed.last_success_at.strftime("%Y-%m-%d %H:%M UTC") if feed.last_success_at else "never succeeded"
        feed.status_message = (
            f"{message} (failed {feed.consecutive_failures}x in a row; last success: {since}; "
            f"next try in {_human(delay)})"
        )
    if retry_after_s is not None:
        delay = max(delay, min(timedelta(seconds=retry_after_s), MAX_BACKOFF))
    if settle or status not in SUCCESS:
        feed.next_due_at = now + delay
    session.add(
        FetchEvent(
            feed_id=feed_id,
            at=now,
            status=status,
            http_status=http_status,
            message=message,
            duration_ms=duration_ms,
            items_seen=items_seen,
        )
    )
    session.flush()
    keep = select(FetchEvent.id).where(FetchEvent.feed_id == feed_id).order_by(FetchEvent.at.desc(), FetchEvent.id.desc()).limit(EVENTS_KEPT)
    session.execute(delete(FetchEvent).where(FetchEvent.feed_id == feed_id, FetchEvent.id.not_in(keep.scalar_subquery())))
    return feed


def _validators(feed: Feed, status: FetchStatus, etag: str | None, last_modified: str | None, body_hash: str | None) -> None:
    """Keep the answer's ETag / Last-Modified (a full answer without them clears the old ones) and body hash."""
    if etag is not None or last_modified is not None or status is FetchStatus.ok:
        feed.etag = etag
        feed.last_modified = last_modified
    if body_hash:
        feed.body_hash = body_hash


def settle_fetch(
    session: Session, feed_id: int, etag: str | None, last_modified: str | None, body_hash: str | None,
    now: datetime | None = None,
) -> None:
    """Every entry of the feed's new body is stored or recorded as failed: save its validators, set the next poll."""
    feed = session.get_one(Feed, feed_id)
    _validators(feed, FetchStatus.ok, etag, last_modified, body_hash)
    feed.next_due_at = (feed.last_attempt_at or now or utcnow()) + timedelta(minutes=feed.poll_minutes)  # one poll after the fetch


def record_refused(session: Session, feed_id: int, refused: Sequence[tuple[str, str]], now: datetime | None = None) -> None:
    """Links of a feed the link policy refused: one ``bad_link`` event, and a line on the feed's status message."""
    if not refused:
        return
    feed = session.get_one(Feed, feed_id)
    shown = "; ".join(f"{url[:120]} ({reason})" for url, reason in refused[:REFUSED_SHOWN])
    more = f" and {len(refused) - REFUSED_SHOWN} more" if len(refused) > REFUSED_SHOWN else ""
    message = f"bad_link: {len(refused)} link(s) refused before any connection: {shown}{more}"
    feed.status_message = f"{feed.status_message} | {message}" if feed.status_message else message
    session.add(FetchEvent(feed_id=feed_id, at=now or utcnow(), status=FetchStatus.bad_link, message=message, items_seen=len(refused)))


def note_new_items(session: Session, feed_id: int, new: int, now: datetime | None = None) -> None:
    """Credit new items to the feed (and its newest fetch event) once the pipeline has stored them."""
    if new <= 0:
        return
    now = now or utcnow()
    feed = session.get_one(Feed, feed_id)
    feed.last_new_item_at = now
    event = session.scalars(
        select(FetchEvent).where(FetchEvent.feed_id == feed_id).order_by(FetchEvent.at.desc(), FetchEvent.id.desc()).limit(1)
    ).first()
    if event is not None:
        event.items_new += new


def recent_events(session: Session, feed_id: int, limit: int = EVENTS_KEPT) -> list[FetchEvent]:
    """The feed's newest fetch events, newest first."""
    stmt = select(FetchEvent).where(FetchEvent.feed_id == feed_id).order_by(FetchEvent.at.desc(), FetchEvent.id.desc()).limit(limit)
    return list(session.scalars(stmt))


def _human(delay: timedelta) -> str:
    minutes = int(delay.total_seconds() // 60)
    if minutes >= 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{max(minutes, 1)} min" if delay.total_seconds() >= 60 else f"{int(delay.total_seconds())} s"


def configured_urls(session: Session) -> list[str]:
    """Every feed URL and outlet homepage from sources.toml (the link policy trusts their origins)."""
    feeds = session.scalars(select(Feed.url))
    homes = session.scalars(select(Outlet.homepage))
    return [*feeds, *(h for h in homes if h)]
