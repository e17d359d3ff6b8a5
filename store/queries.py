"""Read-side query functions shared by the CLI, the review app and reports (session first)."""

from __future__ import annotations

from typing import Any

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
