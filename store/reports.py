"""Aggregate queries for reports and alerts: counting happens in SQL, grouped by outlet over indexed ranges."""

from __future__ import annotations

from datetime import datetime, timedelta
from statistics import median
from typing import Any

from sqlalchemy import ColumnElement, and_, case, delete, distinct, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from store.models import (
    Alert,
    Article,
    Classification,
    Feed,
    FetchEvent,
    FetchStatus,
    JobRun,
    Outlet,
    OutletKind,
    Relevance,
    ReviewItem,
    ReviewStatus,
    Tier,
    Verdict,
)

GROUPS = range(1, 9)  # the eight task groups of NQ71 (Nghị quyết 281/NQ-CP)
HEALTHY = (FetchStatus.ok, FetchStatus.not_modified, FetchStatus.same_hash, FetchStatus.never)


def _count(cond: ColumnElement[bool]) -> Any:
    return func.sum(case((cond, 1), else_=0))


def _in_range(start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(Article.published_at >= start, Article.published_at < end)


def _id_bounds(session: Session, start: datetime, end: datetime) -> tuple[int, int]:
    """Lowest and highest article id published in [start, end), read from the covering index."""
    # id + 0: otherwise PostgreSQL answers min/max by walking the primary key, filtering a million rows
    lo, hi = session.execute(select(func.min(Article.id + 0), func.max(Article.id + 0)).where(_in_range(start, end))).one()
    return int(lo or 0), int(hi or 0)


def _classification_join(bounds: tuple[int, int]) -> ColumnElement[bool]:
    # The id range is implied by the join (ids follow collection order, so a week's ids are close
    # together); stating it lets PostgreSQL scan that slice of the classification index instead of
    # hashing the whole table (40 ms instead of 500 ms for a week of a 1M-item store).
    return and_(Classification.article_id == Article.id, Classification.article_id.between(*bounds))


def coverage_counts(session: Session, start: datetime, end: datetime) -> dict[int, dict[str, int]]:
    """Per outlet, dated items published in [start, end): items, copies, education, NQ71, task groups."""
    nq71 = Classification.relevance.in_([Relevance.explicit, Relevance.task])
    cols: list[Any] = [
        Article.outlet_id,
        func.count().label("items"),
        _count(Article.copy_of_id.is_not(None)).label("copies"),
        _count(Classification.is_education.is_(True)).label("education"),
        _count(Classification.relevance == Relevance.explicit).label("nq71_explicit"),
        _count(Classification.relevance == Relevance.task).label("nq71_task"),
        _count(Classification.id.is_(None)).label("unclassified"),
        # originals (not copies) for the stories figure, summed in the same pass
        _count(Article.copy_of_id.is_(None)).label("originals"),
        _count(and_(Article.copy_of_id.is_(None), nq71)).label("nq71_originals"),
    ]
    # task-group counts among NQ71 items: bit n-1 of theme_mask marks task group n
    cols += [_count(and_(nq71, Classification.theme_mask.bitwise_and(1 << (n - 1)) > 0)).label(f"g{n}") for n in GROUPS]
    stmt = (
        select(*cols)
        .select_from(Article)
        .outerjoin(Classification, _classification_join(_id_bounds(session, start, end)))
        .where(_in_range(start, end))
        .group_by(Article.outlet_id)
    )
    out: dict[int, dict[str, int]] = {}
    for row in session.execute(stmt).mappings():
        out[int(row["outlet_id"])] = {k: int(v or 0) for k, v in row.items() if k != "outlet_id"}
    return out


def orphan_copy_stories(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    """Stories seen in [start, end) only through copies (the original is older, undated or itself a copy).

    Stories = originals in the range + these; the same as counting distinct coalesce(copy_of_id, id),
    without a DISTINCT over every item of a long period (12 s on a year of 1M items in SQLite).
    """
    orig, orig_c = aliased(Article), aliased(Classification)
    relevant = [Relevance.explicit, Relevance.task]
    outside = or_(orig.published_at.is_(None), orig.published_at < start, orig.published_at >= end, orig.copy_of_id.is_not(None))
    orig_not_nq71 = or_(outside, orig_c.id.is_(None), orig_c.relevance.not_in(relevant))
    stmt = (
        select(
            func.count(distinct(case((outside, Article.copy_of_id), else_=None))),
            func.count(distinct(case((and_(Classification.relevance.in_(relevant), orig_not_nq71), Article.copy_of_id), else_=None))),
        )
        .select_from(Article)
        .join(orig, orig.id == Article.copy_of_id)
        .outerjoin(Classification, _classification_join(_id_bounds(session, start, end)))
        .outerjoin(orig_c, orig_c.article_id == orig.id)
        .where(_in_range(start, end), Article.copy_of_id.is_not(None))
    )
    stories, nq71_stories = session.execute(stmt).one()
    return {"stories": int(stories or 0), "nq71_stories": int(nq71_stories or 0)}


def undated_counts(session: Session, start: datetime, end: datetime) -> dict[int, int]:
    """Per outlet, items without a publication date collected in [start, end) (never put in a week)."""
    undated: ColumnElement[bool] = Article.published_at.is_(None)
    if session.get_bind().dialect.name == "sqlite":
        # without statistics on NULLs SQLite takes the (published_at IS NULL) prefix of ix_article_report
        # and reads every undated row; likely() steers it to the partial index ix_article_undated
        undated = func.likely(undated)
    stmt = (
        select(Article.outlet_id, func.count())
        .where(undated, Article.collected_at >= start, Article.collected_at < end)
        .group_by(Article.outlet_id)
    )
    return {int(o): int(n) for o, n in session.execute(stmt)}


def review_counts(session: Session, start: datetime, end: datetime) -> dict[int, dict[str, Any]]:
    """Per outlet, review items of the period's items: flagged, verdicts, hours to each verdict."""
    decided = and_(ReviewItem.status == ReviewStatus.resolved, ReviewItem.verdict.is_not(None))
    stmt = (
        select(
            Article.outlet_id,
            func.count().label("flagged"),
            _count(and_(decided, ReviewItem.verdict == Verdict.tin_gia)).label("tin_gia"),
            _count(and_(decided, ReviewItem.verdict == Verdict.tin_sai_su_that)).label("tin_sai_su_that"),
            _count(decided).label("decided"),
        )
        .select_from(ReviewItem)
        .join(Article, Article.id == ReviewItem.article_id)
        .where(_in_range(start, end))
        .group_by(Article.outlet_id)
    )
    out: dict[int, dict[str, Any]] = {}
    for row in session.execute(stmt).mappings():
        out[int(row["outlet_id"])] = {k: int(v or 0) for k, v in row.items() if k != "outlet_id"}
        out[int(row["outlet_id"])]["hours"] = []
    # the median needs the individual durations; decided items are few, so fetch their two timestamps
    times = (
        select(Article.outlet_id, ReviewItem.created_at, ReviewItem.resolved_at)
        .select_from(ReviewItem)
        .join(Article, Article.id == ReviewItem.article_id)
        .where(_in_range(start, end), decided, ReviewItem.resolved_at.is_not(None))
    )
    for outlet_id, created, resolved in session.execute(times):
        if resolved is not None:
            out[int(outlet_id)]["hours"].append((resolved - created).total_seconds() / 3600.0)
    return out


def median_hours(hours: list[float]) -> float | None:
    """The median of durations in hours, None when nothing was decided."""
    return round(median(hours), 1) if hours else None


def flagged_items(session: Session, start: datetime, end: datetime, limit: int = 200) -> list[dict[str, Any]]:
    """Review items of the period's items (highest priority first) with their decisions."""
    stmt = (
        select(ReviewItem, Article.title, Article.url, Article.published_at, Outlet.name)
        .join(Article, Article.id == ReviewItem.article_id)
        .join(Outlet, Outlet.id == Article.outlet_id)
        .where(_in_range(start, end))
        .order_by(ReviewItem.priority.desc(), ReviewItem.id)
        .limit(limit)
    )
    out = []
    for item, title, url, published_at, outlet_name in session.execute(stmt):
        out.append(
            {
                "id": item.id,
                "outlet": outlet_name,
                "title": title,
                "url": url,
                "published_at": published_at,
                "status": item.status.value,
                "verdict": item.verdict.value if item.verdict else None,
                "priority": round(item.priority, 3),
                "created_at": item.created_at,
                "resolved_at": item.resolved_at,
                "note": item.note,
            }
        )
    return out


def registry_outlets(session: Session, ids: set[int] | None = None) -> list[dict[str, Any]]:
    """Active outlets of the registry, plus any other outlet whose id is given (it had items)."""
    cond: ColumnElement[bool] = Outlet.active.is_(True)
    if ids:
        cond = or_(cond, Outlet.id.in_(sorted(ids)))
    stmt = select(
        Outlet.id, Outlet.slug, Outlet.name, Outlet.kind, Outlet.tier, Outlet.has_nq71_section, Outlet.active
    ).where(cond)
    return [
        {
            "id": r.id,
            "slug": r.slug,
            "name": r.name,
            "kind": OutletKind(r.kind).value,
            "tier": Tier(r.tier).value,
            "has_nq71_section": bool(r.has_nq71_section),
            "active": bool(r.active),
        }
        for r in session.execute(stmt)
    ]


def counts_by_range(
    session: Session, ranges: list[tuple[datetime, datetime]], nq71_only: bool = False
) -> list[dict[int, int]]:
    """Items per outlet for each range (one indexed GROUP BY per range), optionally NQ71 items only."""
    out = []
    for start, end in ranges:
        stmt = select(Article.outlet_id, func.count()).select_from(Article).where(_in_range(start, end))
        if nq71_only:
            stmt = stmt.join(Classification, Classification.article_id == Article.id).where(
                Classification.relevance.in_([Relevance.explicit, Relevance.task])
            )
        out.append({int(o): int(n) for o, n in session.execute(stmt.group_by(Article.outlet_id))})
    return out


def failing_feeds(session: Session, now: datetime, hours: float = 24.0) -> list[dict[str, Any]]:
    """Active, unpaused feeds whose last success (or, never having succeeded, creation) is older than `hours`."""
    cutoff = now - timedelta(hours=hours)
    since = func.coalesce(Feed.last_success_at, Feed.created_at)
    stmt = (
        select(Feed, Outlet.slug, Outlet.name)
        .join(Outlet, Outlet.id == Feed.outlet_id)
        .where(
            Feed.active.is_(True),
            Feed.paused.is_(False),
            Feed.status.not_in(HEALTHY),
            Feed.last_attempt_at.is_not(None),
            since < cutoff,
        )
        .order_by(Outlet.slug, Feed.id)
    )
    out = []
    for feed, slug, name in session.execute(stmt):
        out.append(
            {
                "feed_id": feed.id,
                "outlet_id": feed.outlet_id,
                "outlet": slug,
                "outlet_name": name,
                "url": feed.url,
                "status": feed.status.value,
                "http_status": feed.http_status,
                "message": feed.status_message,
                "last_success_at": feed.last_success_at,
                "last_attempt_at": feed.last_attempt_at,
            }
        )
    return out


def find_alert(session: Session, kind: str, outlet_id: int | None, feed_id: int | None, period: str) -> Alert | None:
    """The alert for a kind/target/period; NULL-safe (a unique constraint treats NULLs as distinct)."""
    stmt = select(Alert).where(
        Alert.kind == kind,
        Alert.outlet_id.is_(None) if outlet_id is None else Alert.outlet_id == outlet_id,
        Alert.feed_id.is_(None) if feed_id is None else Alert.feed_id == feed_id,
        Alert.period == period,
    )
    return session.scalars(stmt.limit(1)).first()


def recent_alerts(session: Session, limit: int = 50) -> list[Alert]:
    """Newest alerts first."""
    return list(session.scalars(select(Alert).order_by(Alert.created_at.desc(), Alert.id.desc()).limit(limit)))


def unsent_alerts(session: Session) -> list[Alert]:
    """Alerts not yet e-mailed, oldest first."""
    return list(session.scalars(select(Alert).where(Alert.sent_at.is_(None)).order_by(Alert.id)))


def recent_job_runs(session: Session, limit: int = 50) -> list[JobRun]:
    """Newest scheduled-job runs first (runs, errors and missed runs), for the dashboard."""
    return list(session.scalars(select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)))


def verdicts_since(session: Session, since: datetime | None) -> int:
    """Reviewer decisions made after `since` (all of them when None): new training labels."""
    stmt = select(func.count()).select_from(ReviewItem).where(ReviewItem.status == ReviewStatus.resolved)
    stmt = stmt.where(ReviewItem.verdict.is_not(None), ReviewItem.resolved_at.is_not(None))
    if since is not None:
        stmt = stmt.where(ReviewItem.resolved_at > since)
    return int(session.scalar(stmt) or 0)


def prune_fetch_events(session: Session, keep: int = 30) -> int:
    """Delete all but the newest `keep` fetch events of each feed; returns how many went."""
    ranked = select(
        FetchEvent.id,
        func.row_number().over(partition_by=FetchEvent.feed_id, order_by=(FetchEvent.at.desc(), FetchEvent.id.desc())).label("rn"),
    ).subquery()
    old = select(ranked.c.id).where(ranked.c.rn > literal(keep))
    result = session.execute(delete(FetchEvent).where(FetchEvent.id.in_(old)))
    return int(getattr(result, "rowcount", 0) or 0)


def group_hours(values: dict[int, dict[str, Any]]) -> list[float]:
    """All decision durations of a review_counts result, for the overall median."""
    out: list[float] = []
    for v in values.values():
        out.extend(v["hours"])
    return out



# the figures a dashboard count can open, each the same condition its count uses
ARTICLE_SETS = ("items", "copies", "education", "nq71", "nq71_explicit", "nq71_task", "flagged", "tin_gia",
                "tin_sai_su_that", "undated")


def _set_condition(what: str) -> ColumnElement[bool]:
    """The condition of one figure over Article, its Classification and its ReviewItem (outer-joined)."""
    decided = and_(ReviewItem.status == ReviewStatus.resolved, ReviewItem.verdict.is_not(None))
    conditions: dict[str, ColumnElement[bool]] = {
        "items": literal(True),
        "copies": Article.copy_of_id.is_not(None),
        "education": Classification.is_education.is_(True),
        "nq71": Classification.relevance.in_([Relevance.explicit, Relevance.task]),
        "nq71_explicit": Classification.relevance == Relevance.explicit,
        "nq71_task": Classification.relevance == Relevance.task,
        "flagged": ReviewItem.id.is_not(None),
        "tin_gia": and_(decided, ReviewItem.verdict == Verdict.tin_gia),
        "tin_sai_su_that": and_(decided, ReviewItem.verdict == Verdict.tin_sai_su_that),
        "undated": literal(True),
    }
    return conditions[what]


def articles_behind(
    session: Session, what: str, start: datetime, end: datetime, outlet_id: int | None, limit: int, offset: int
) -> tuple[int, list[dict[str, Any]]]:
    """(how many, one page of) the articles behind a coverage figure: newest first, with outlet and review item."""
    # undated items belong to the period they were collected in, like undated_counts
    when = (and_(Article.published_at.is_(None), Article.collected_at >= start, Article.collected_at < end)
            if what == "undated" else _in_range(start, end))
    cond = and_(when, _set_condition(what), *([Article.outlet_id == outlet_id] if outlet_id is not None else []))
    base = (
        select(Article.id)
        .select_from(Article)
        .outerjoin(Classification, Classification.article_id == Article.id)
        .outerjoin(ReviewItem, ReviewItem.article_id == Article.id)
        .where(cond)
    )
    total = int(session.execute(select(func.count()).select_from(base.subquery())).scalar_one())
    stmt = (
        select(Article.id, Article.title, Article.url, Article.published_at, Article.collected_at, Outlet.name,
               Classification.relevance, ReviewItem.id, ReviewItem.status, ReviewItem.verdict)
        .select_from(Article)
        .join(Outlet, Outlet.id == Article.outlet_id)
        .outerjoin(Classification, Classification.article_id == Article.id)
        .outerjoin(ReviewItem, ReviewItem.article_id == Article.id)
        .where(cond)
        .order_by(Article.published_at.desc(), Article.id.desc())
        .limit(limit)
        .offset(offset)
    )
    keys = ("id", "title", "url", "published_at", "collected_at", "outlet", "relevance", "item_id", "status", "verdict")
    return total, [dict(zip(keys, row, strict=True)) for row in session.execute(stmt)]


def outlet_by_slug(session: Session, slug: str) -> Outlet | None:
    """The outlet with this slug, if any."""
    return session.execute(select(Outlet).where(Outlet.slug == slug)).scalar_one_or_none()
