"""Article look-ups and writes for the crawler's pipelines (session first; the caller owns the transaction)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from store.models import Article, ExtractionStatus, Outlet

TITLE_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class Known:
    """What the crawler needs to know about a stored article before fetching its page again."""

    id: int
    extraction: ExtractionStatus
    updated_at: datetime
    title: str


def known_articles(session: Session, outlet_ids: Sequence[int]) -> dict[str, Known]:
    """Stored articles of these outlets by normalised URL (the spider skips pages it already has)."""
    if not outlet_ids:
        return {}
    rows = session.execute(
        select(Article.id, Article.url, Article.extraction, Article.updated_at, Article.title).where(Article.outlet_id.in_(list(outlet_ids)))
    )
    return {url: Known(id_, ExtractionStatus(ext), upd, title) for id_, url, ext, upd, title in rows}


def page_retries(session: Session, outlet_ids: Sequence[int], max_attempts: int) -> list[tuple[str, int, int | None]]:
    """(url, outlet_id, feed_id) of feed-only articles whose page should be tried again."""
    if not outlet_ids:
        return []
    stmt = (
        select(Article.url, Article.outlet_id, Article.feed_id)
        .where(
            Article.outlet_id.in_(list(outlet_ids)),
            Article.extraction == ExtractionStatus.feed_only,
            Article.page_attempts < max_attempts,
        )
        .order_by(Article.id)
    )
    return [(u, o, f) for u, o, f in session.execute(stmt)]


def by_url(session: Session, url: str) -> Article | None:
    """The article stored under this normalised URL."""
    return session.scalars(select(Article).where(Article.url == url)).first()


def same_title(session: Session, outlet_id: int, title_hash: str, around: datetime, exclude_url: str) -> Article | None:
    """Another article of the same outlet with the same title within 7 days (the same item, another URL)."""
    lo, hi = around - TITLE_WINDOW, around + TITLE_WINDOW
    stmt = (
        select(Article)
        .where(
            Article.outlet_id == outlet_id,
            Article.title_hash == title_hash,
            Article.url != exclude_url,
            or_(
                Article.published_at.between(lo, hi),
                (Article.published_at.is_(None) & Article.collected_at.between(lo, hi)),
            ),
        )
        .order_by(Article.id)
        .limit(1)
    )
    return session.scalars(stmt).first()


def recent_texts(session: Session, since: datetime) -> Iterator[tuple[int, str, int | None, int | None]]:
    """(id, text or summary, copy_of_id, cluster_id) of articles collected since a time (near-dup index)."""
    stmt = (
        select(Article.id, Article.text, Article.summary, Article.copy_of_id, Article.cluster_id)
        .where(Article.collected_at >= since)
        .order_by(Article.id)
        .execution_options(yield_per=1000)
    )
    for id_, text, summary, copy_of, cluster in session.execute(stmt):
        yield id_, text or summary or "", copy_of, cluster


def active_outlets(session: Session, slugs: Sequence[str] | None = None) -> list[Outlet]:
    """Active outlets, optionally only these slugs."""
    stmt = select(Outlet).where(Outlet.active.is_(True)).order_by(Outlet.slug)
    if slugs:
        stmt = stmt.where(Outlet.slug.in_(list(slugs)))
    return list(session.scalars(stmt))


def outlet_ids(session: Session, slugs: Sequence[str]) -> dict[str, int]:
    """Outlet ids by slug."""
    return {s: i for s, i in session.execute(select(Outlet.slug, Outlet.id).where(Outlet.slug.in_(list(slugs))))}


def give_up_pages(session: Session, urls: Sequence[str]) -> None:
    """Stop retrying the pages of these feed-only articles (their links are refused): they stay, marked failed."""
    if urls:
        session.execute(
            update(Article).where(Article.url.in_(list(urls)), Article.extraction == ExtractionStatus.feed_only)
            .values(extraction=ExtractionStatus.failed).execution_options(synchronize_session=False)
        )
