"""Read-side query functions shared by the CLI, the review app and reports (session first)."""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from store.models import Article, Classification, Feed, Outlet, ReviewItem, ReviewStatus, User


def stats(session: Session) -> dict[str, Any]:
    """Counts of everything the product holds, for ``nq71 stats --json`` and the dashboard."""

    def count(model: type[Any], *where: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    by_status = {s.value: 0 for s in ReviewStatus}
    for status, n in session.execute(select(ReviewItem.status, func.count()).group_by(ReviewItem.status)):
        by_status[ReviewStatus(status).value] = int(n)
    return {
        "outlets": count(Outlet, Outlet.active.is_(True)),
        "outlets_inactive": count(Outlet, Outlet.active.is_(False)),
        "feeds": count(Feed, Feed.active.is_(True)),
        "feeds_inactive": count(Feed, Feed.active.is_(False)),
        "articles": count(Article),
        "articles_undated": count(Article, Article.published_at.is_(None)),
        "classified_articles": count(Classification),
        "review_items": by_status,
        "users": count(User, User.active.is_(True)),
    }


def outlets_with_feeds(session: Session, include_inactive: bool = False) -> list[Outlet]:
    """Outlets (with their feeds loaded) in slug order."""
    stmt = select(Outlet).options(selectinload(Outlet.feeds)).order_by(Outlet.slug)
    if not include_inactive:
        stmt = stmt.where(Outlet.active.is_(True))
    return list(session.scalars(stmt))


class OutletCounts(NamedTuple):
    """How many articles of an outlet are stored, classified and queued for review."""

    slug: str
    articles: int
    classified: int
    queued: int


def counts_per_outlet(session: Session) -> list[OutletCounts]:
    """Stored, classified and queued articles per active outlet, in slug order."""
    classified = select(Classification.article_id)
    queued = select(ReviewItem.article_id)
    stmt = (
        select(Outlet.slug, func.count(Article.id), func.count(Article.id).filter(Article.id.in_(classified)),
               func.count(Article.id).filter(Article.id.in_(queued)))
        .outerjoin(Article, Article.outlet_id == Outlet.id)
        .where(Outlet.active.is_(True))
        .group_by(Outlet.slug)
        .order_by(Outlet.slug)
    )
    return [OutletCounts(slug, int(a), int(c), int(q)) for slug, a, c, q in session.execute(stmt)]
