"""Reviewers teach the classifier: correcting education, NQ71 relevance and task groups on any article."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session, selectinload

from store import corrections as cs
from store import review as rv
from store.models import Article, LabelCorrection, Relevance, Role, User

RELEVANCE_LABELS = {
    Relevance.explicit: "Nêu trực tiếp Nghị quyết 71",
    Relevance.task: "Thuộc nhiệm vụ của Nghị quyết 71",
    Relevance.none: "Không liên quan Nghị quyết 71",
}


@dataclass(frozen=True)
class Labels:
    """The labels a reviewer sets: what the article is, in the department's definition."""

    is_education: bool
    relevance: Relevance
    themes: tuple[int, ...]
    note: str | None


def parse_labels(is_education: str | None, relevance: str | None, themes: Iterable[str], note: str | None) -> Labels:
    """Validate a correction from a form or the API; ReviewError says what to fix."""
    if is_education not in ("1", "0", "true", "false"):
        raise rv.ReviewError("Chọn bài có phải tin giáo dục hay không.")
    try:
        rel = Relevance(relevance or "")
    except ValueError:
        raise rv.ReviewError("Chọn mức liên quan Nghị quyết 71: nêu trực tiếp, thuộc nhiệm vụ hoặc không liên quan.") from None
    try:
        groups = tuple(sorted({int(t) for t in themes}))
    except ValueError:
        raise rv.ReviewError("Nhóm nhiệm vụ phải là số từ 1 đến 8.") from None
    if any(not 1 <= g <= 8 for g in groups):
        raise rv.ReviewError("Nhóm nhiệm vụ phải là số từ 1 đến 8.")
    edu = is_education in ("1", "true")
    if rel != Relevance.none and not edu:
        raise rv.ReviewError("Bài liên quan Nghị quyết 71 thì phải là tin giáo dục.")
    if rel == Relevance.none and groups:
        raise rv.ReviewError("Bài không liên quan Nghị quyết 71 thì không có nhóm nhiệm vụ.")
    if rel != Relevance.none and not groups:
        raise rv.ReviewError("Chọn ít nhất một nhóm nhiệm vụ (1-8) cho bài liên quan Nghị quyết 71.")
    return Labels(edu, rel, groups, rv.clean_text(note, "Ghi chú", rv.MAX_NOTE))


def get_article(session: Session, article_id: int) -> Article:
    """One article with its outlet and classification, or NotFound."""
    article = session.get(Article, article_id, options=[selectinload(Article.outlet), selectinload(Article.classification)])
    if article is None:
        raise rv.NotFound(f"Không có bài số {article_id}.")
    return article


def correct(session: Session, user: User, article_id: int, labels: Labels) -> LabelCorrection:
    """Any reviewer may correct any article's labels; each correction is kept with who, when and before."""
    rv.require_role(user, Role.reviewer)
    article = get_article(session, article_id)
    return cs.add_correction(
        session, article, user.id, is_education=labels.is_education, relevance=labels.relevance,
        themes=labels.themes, note=labels.note,
    )
