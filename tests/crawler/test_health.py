"""Feed health in the real store: statuses, backoff up to a day, the last 30 events, never disabled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from store.feeds import EVENTS_KEPT, backoff, feeds_to_crawl, note_new_items, record_fetch, recent_events
from store.models import Feed, FeedKind, FetchEvent, FetchStatus, Outlet, OutletKind, Tier

T0 = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


def _feed(sessions: sessionmaker[Session]) -> int:
    with sessions() as s, s.begin():
        outlet = Outlet(slug="bao-x", name="Báo X", kind=OutletKind.press, tier=Tier.city, homepage="https://x.vn")
        s.add(outlet)
        s.flush()
        feed = Feed(outlet_id=outlet.id, url="https://x.vn/rss", kind=FeedKind.rss, poll_minutes=30)
        s.add(feed)
        s.flush()
        return feed.id


def test_backoff_doubles_and_stops_at_a_day() -> None:
    assert backoff(30, 0) == timedelta(minutes=30)
    assert [backoff(30, n) for n in (1, 2, 3)] == [timedelta(minutes=60), timedelta(minutes=120), timedelta(minutes=240)]
    assert backoff(30, 40) == timedelta(days=1)


def test_failures_back_off_are_explained_and_success_resets(sessions: sessionmaker[Session]) -> None:
    feed_id = _feed(sessions)
    with sessions() as s, s.begin():
        for n in range(1, 8):
            record_fetch(s, feed_id, FetchStatus.http_error, "HTTP 503 Service Unavailable", http_status=503, now=T0 + timedelta(hours=n))
        feed = s.get_one(Feed, feed_id)
        assert feed.active and not feed.paused  # never disabled silently
        assert feed.consecutive_failures == 7 and feed.failure_weight == 7.0
        assert feed.next_due_at == T0 + timedelta(hours=7) + timedelta(days=1)
        assert feed.status_message == (
            "HTTP 503 Service Unavailable (failed 7x in a row; last success: never succeeded; next try in 24 h 00 min)"
        )
    with sessions() as s, s.begin():
        record_fetch(s, feed_id, FetchStatus.ok, "rss20: 3 items", http_status=200, etag='"abc"', body_hash="h1", now=T0 + timedelta(hours=9))
        note_new_items(s, feed_id, 3, now=T0 + timedelta(hours=9))
        feed = s.get_one(Feed, feed_id)
        assert (feed.status, feed.consecutive_failures, feed.failure_weight) == (FetchStatus.ok, 0, 3.5)
        assert feed.last_success_at == feed.last_new_item_at == T0 + timedelta(hours=9)
        assert feed.next_due_at == T0 + timedelta(hours=9, minutes=30) and feed.etag == '"abc"' and feed.body_hash == "h1"
        assert recent_events(s, feed_id)[0].items_new == 3
    with sessions() as s, s.begin():
        record_fetch(s, feed_id, FetchStatus.timeout, "timed out", retry_after_s=None, now=T0 + timedelta(hours=10))
        assert s.get_one(Feed, feed_id).status_message.endswith("(failed 1x in a row; last success: 2026-11-26 17:00 UTC; next try in 1 h 00 min)")


def test_retry_after_wins_when_longer_and_only_30_events_are_kept(sessions: sessionmaker[Session]) -> None:
    feed_id = _feed(sessions)
    with sessions() as s, s.begin():
        record_fetch(s, feed_id, FetchStatus.http_error, "HTTP 429 Too Many Requests", http_status=429, retry_after_s=4 * 3600, now=T0)
        assert s.get_one(Feed, feed_id).next_due_at == T0 + timedelta(hours=4)
        for n in range(40):
            record_fetch(s, feed_id, FetchStatus.not_modified, "HTTP 304 Not Modified", http_status=304, now=T0 + timedelta(minutes=n + 1))
        count = s.scalar(select(func.count()).select_from(FetchEvent).where(FetchEvent.feed_id == feed_id))
        assert count == EVENTS_KEPT
        newest = recent_events(s, feed_id)
        assert newest[0].at == T0 + timedelta(minutes=40) and newest[-1].at == T0 + timedelta(minutes=11)


def test_due_feeds_respect_next_due_and_pause(sessions: sessionmaker[Session]) -> None:
    feed_id = _feed(sessions)
    with sessions() as s, s.begin():
        assert [f.id for f in feeds_to_crawl(s, now=T0)] == [feed_id]  # never fetched: due
        record_fetch(s, feed_id, FetchStatus.ok, "ok", now=T0)
        assert feeds_to_crawl(s, now=T0 + timedelta(minutes=10)) == []
        assert [f.id for f in feeds_to_crawl(s, now=T0 + timedelta(minutes=31))] == [feed_id]
        assert [f.id for f in feeds_to_crawl(s, due_only=False, now=T0)] == [feed_id]
        assert feeds_to_crawl(s, outlets=["khac"], due_only=False) == []
        s.get_one(Feed, feed_id).paused = True
        assert feeds_to_crawl(s, due_only=False) == []
