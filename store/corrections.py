"""Reviewers' label corrections (education, NQ71 relevance, task groups): writing them and reading them back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from store.models import Article, Classification, LabelCorrection, Relevance, User


def labels_of(c: Classification | LabelCorrection | None) -> dict[str, Any] | None:
    """The three labels a reviewer can correct, as stored in the audit (``before``)."""
    if c is None:
        return None
    return {"is_education": bool(c.is_education), "relevance": Relevance(c.relevance).value, "themes": c.themes}


def add_correction(
    session: Session,
    article: Article,
    user_id: int | None,
    *,
    is_education: bool,
    relevance: Relevance,
    themes: Sequence[int],
    note: str | None,
) -> LabelCorrection:
    """Append a correction; ``before`` keeps the classifier's labels at this moment."""
    row = LabelCorrection(
        article_id=article.id, user_id=user_id, is_education=is_education, relevance=relevance,
        theme_mask=Classification.mask_of(list(themes)), before=labels_of(article.classification), note=note,
    )
    session.add(row)
    session.flush()
    return row


def corrections_for(session: Session, article_id: int) -> list[tuple[LabelCorrection, str | None]]:
    """An article's corrections, newest first, with the reviewer's username."""
    stmt = (
        select(LabelCorrection, User.username)
        .outerjoin(User, User.id == LabelCorrection.user_id)
        .where(LabelCorrection.article_id == article_id)
        .order_by(LabelCorrection.at.desc(), LabelCorrection.id.desc())
    )
    return [(c, name) for c, name in session.execute(stmt)]


def latest_corrections(session: Session) -> list[tuple[Article, LabelCorrection]]:
    """The newest correction of every corrected article (training labels), oldest article first."""
    newest = select(func.max(LabelCorrection.id)).group_by(LabelCorrection.article_id)
    stmt = (
        select(Article, LabelCorrection)
        .join(LabelCorrection, LabelCorrection.article_id == Article.id)
        .where(LabelCorrection.id.in_(newest))
        .options(selectinload(Article.outlet))
        .order_by(Article.id)
    )
    return [(a, c) for a, c in session.execute(stmt)]


def corrections_since(session: Session, since: datetime | None) -> int:
    """Corrections made after `since` (all when None): new training labels for the scheduled retrain."""
    stmt = select(func.count()).select_from(LabelCorrection)
    if since is not None:
        stmt = stmt.where(LabelCorrection.at > since)
    return int(session.scalar(stmt) or 0)
