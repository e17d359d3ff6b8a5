"""Writing classifications, claim matches and review-queue items; reading what needs classifying (session first)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from store.models import (
    Article,
    Claim,
    ClaimMatch,
    Classification,
    Relevance,
    ReviewEvent,
    ReviewItem,
    Verdict,
    utcnow,
)


# A registry claim is a false statement to match against: a true report registered as a claim would raise
# the risk of every later true report that repeats it.
CLAIM_VERDICTS = (Verdict.tin_gia, Verdict.tin_sai_su_that)


class ClaimError(ValueError):
    """A claim cannot be added as given (empty text, unknown verdict); says what to fix."""


def upsert_classification(
    session: Session,
    article_id: int,
    *,
    model_version: str,
    is_education: bool,
    education_score: float,
    relevance: str,
    relevance_score: float,
    themes: Sequence[int],
    risk_score: float,
    reasons: list[dict[str, Any]],
    evidence: dict[str, Any],
    claim_matches: list[dict[str, Any]],
) -> Classification:
    """The one Classification row of an article, created or replaced in place."""
    row = session.scalar(select(Classification).where(Classification.article_id == article_id))
    if row is None:
        row = Classification(article_id=article_id)
        session.add(row)
    row.model_version = model_version
    row.is_education = is_education
    row.education_score = education_score
    row.relevance = Relevance(relevance)
    row.relevance_score = relevance_score
    row.theme_mask = Classification.mask_of(list(themes))
    row.risk_score = risk_score
    row.reasons = reasons
    row.evidence = evidence
    row.claim_matches = claim_matches
    row.classified_at = utcnow()
    session.flush()
    return row


def write_claim_matches(session: Session, article_id: int, matches: Sequence[dict[str, Any]]) -> int:
    """Upsert ClaimMatch rows (one per claim and article); returns how many were written."""
    written = 0
    for m in matches:
        claim_id = int(m["claim_id"])
        row = session.scalar(
            select(ClaimMatch).where(ClaimMatch.claim_id == claim_id, ClaimMatch.article_id == article_id)
        )
        if row is None:
            session.add(ClaimMatch(claim_id=claim_id, article_id=article_id, similarity=float(m["similarity"]),
                                   level=str(m["level"])))
        else:
            row.similarity = float(m["similarity"])
            row.level = str(m["level"])
        written += 1
    session.flush()
    return written


def ensure_review_item(session: Session, article_id: int, priority: float, note: str | None = None) -> ReviewItem | None:
    """Queue an article for review unless it already has a review item; records a "created" event (user None)."""
    if session.scalar(select(ReviewItem.id).where(ReviewItem.article_id == article_id)) is not None:
        return None
    item = ReviewItem(article_id=article_id, priority=max(0.0, float(priority)))
    session.add(item)
    session.flush()
    session.add(ReviewEvent(review_item_id=item.id, user_id=None, action="created", before=None,
                            after={"status": item.status.value, "priority": item.priority}, note=note))
    session.flush()
    return item


def active_claims(session: Session) -> list[Claim]:
    """Claims new items are matched against."""
    # a claim stored with another verdict (before add_claim refused them) is never matched
    stmt = select(Claim).where(Claim.active.is_(True), Claim.verdict.in_(CLAIM_VERDICTS)).order_by(Claim.id)
    return list(session.scalars(stmt))


def list_claims(session: Session, include_inactive: bool = False) -> list[tuple[Claim, int]]:
    """Claims with how many articles match each."""
    n = select(func.count()).where(ClaimMatch.claim_id == Claim.id).scalar_subquery()
    stmt = select(Claim, n).order_by(Claim.id)
    if not include_inactive:
        stmt = stmt.where(Claim.active.is_(True))
    return [(row[0], int(row[1] or 0)) for row in session.execute(stmt)]


def add_claim(
    session: Session,
    text: str,
    verdict: str,
    refutation_url: str | None = None,
    author_id: int | None = None,
    source_article_id: int | None = None,
) -> Claim:
    """Register a confirmed false or distorted claim (CLI, and the review app from a resolved item)."""
    text = (text or "").strip()
    if len(text) < 10:
        raise ClaimError("Nội dung tin sai quá ngắn: hãy viết cả câu / claim text is empty or too short: "
                         "give the false statement in one sentence")
    allowed = ", ".join(v.value for v in CLAIM_VERDICTS)
    try:
        v = Verdict(verdict)
    except ValueError:
        v = None
    if v not in CLAIM_VERDICTS:
        raise ClaimError(f"Kho tin sai chỉ nhận kết luận {allowed}, không nhận {verdict!r} / a claim must have a "
                         f"false verdict ({allowed}), not {verdict!r}")
    if refutation_url and not refutation_url.startswith(("http://", "https://")):
        raise ClaimError(f"Đường dẫn cải chính phải bắt đầu bằng http:// hoặc https:// / refutation URL "
                         f"{refutation_url!r} must start with http:// or https://")
    claim = Claim(text=text, verdict=v, refutation_url=refutation_url or None, author_id=author_id,
                  source_article_id=source_article_id)
    session.add(claim)
    session.flush()
    return claim


def recent_articles(session: Session, days: float, now: datetime | None = None) -> list[Article]:
    """Articles published (or, undated, collected) in the last `days` days."""
    since = (now or utcnow()) - timedelta(days=days)
    stmt = (
        select(Article)
        .where(or_(Article.published_at >= since, Article.published_at.is_(None) & (Article.collected_at >= since)))
        .options(selectinload(Article.outlet))
        .order_by(Article.id)
    )
    return list(session.scalars(stmt))


def story_neighbours(session: Session, start: datetime, end: datetime, exclude: Sequence[int]) -> list[Article]:
    """Already-clustered articles published in a window (candidates a new article's story may join)."""
    stmt = (
        select(Article)
        .where(Article.published_at >= start, Article.published_at <= end, Article.cluster_id.is_not(None))
        .order_by(Article.id)
    )
    if exclude:
        stmt = stmt.where(Article.id.not_in(list(exclude)))
    return list(session.scalars(stmt))


def story_clusters_in(session: Session, start: datetime, end: datetime, exclude: Sequence[int]) -> dict[int, int]:
    """The story of each clustered article published in a window (id -> cluster id), to see whether stories moved."""
    stmt = select(Article.id, Article.cluster_id).where(
        Article.published_at >= start, Article.published_at <= end, Article.cluster_id.is_not(None))
    if exclude:
        stmt = stmt.where(Article.id.not_in(list(exclude)))
    return {int(i): int(c) for i, c in session.execute(stmt) if c is not None}


def story_starts(session: Session, cluster_ids: Sequence[int]) -> dict[int, datetime]:
    """First publication time of each story (its earliest dated member), for the stories' time limit."""
    if not cluster_ids:
        return {}
    stmt = (
        select(Article.cluster_id, func.min(Article.published_at))
        .where(Article.cluster_id.in_(list(cluster_ids)), Article.published_at.is_not(None))
        .group_by(Article.cluster_id)
    )
    return {int(c): when for c, when in session.execute(stmt).all() if c is not None and when is not None}


def reviewer_verdicts(session: Session) -> list[tuple[Article, Verdict]]:
    """Articles reviewers decided, with the verdict (training data for the learned risk component)."""
    stmt = (
        select(Article, ReviewItem.verdict)
        .join(ReviewItem, ReviewItem.article_id == Article.id)
        .where(ReviewItem.verdict.is_not(None))
        .options(selectinload(Article.outlet))
        .order_by(Article.id)
    )
    return [(a, Verdict(v)) for a, v in session.execute(stmt) if v is not None]
