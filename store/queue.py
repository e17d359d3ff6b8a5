"""Review queue queries: the queue page, one item with its context, the audit trail, claims (session first).

No labels, permissions or HTML here: review/service.py acts on items, review/present.py says it in Vietnamese."""

from __future__ import annotations

import heapq
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, column, exists, func, literal, literal_column, select, table, text
from sqlalchemy.orm import Session, aliased, selectinload

from store.corrections import labels_of
from store.models import (
    Article,
    Claim,
    ClaimMatch,
    Classification,
    LabelCorrection,
    Outlet,
    ReviewEvent,
    ReviewItem,
    ReviewStatus,
    User,
    Verdict,
)

# risk bands over Classification.risk_score: [low, high)
RISK_BANDS: dict[str, tuple[float, float]] = {"low": (0.0, 0.4), "medium": (0.4, 0.7), "high": (0.7, 1.01)}
OPEN_STATUSES = (ReviewStatus.new, ReviewStatus.in_progress, ReviewStatus.escalated)  # the work still to do
PER_PAGE = 50
SEARCH_CAP = 10_000  # searches count at most this many hits ("hơn 10.000")

MAX_ROW_ID = 2**31 - 1


class ReviewError(ValueError):
    """An action a user asked for cannot be done; the message (Vietnamese) says what to fix."""

    status_code = 400


class NotFound(ReviewError):
    """An id that does not exist."""

    status_code = 404


# --- the queue --------------------------------------------------------------------------------
@dataclass
class QueueFilter:
    """What the reviewer asked the queue to show."""

    status: ReviewStatus | None = None
    open_only: bool = False  # without a status: only OPEN_STATUSES (the work still to do)
    outlet_id: int | None = None
    theme: int | None = None
    risk: str | None = None  # key of RISK_BANDS
    published_from: datetime | None = None  # inclusive, aware
    published_to: datetime | None = None  # exclusive, aware
    assignee_id: int | None = None
    unassigned: bool = False
    q: str | None = None
    page: int = 1
    per_page: int = PER_PAGE


@dataclass
class QueueRow:
    """One line of the queue."""

    id: int
    priority: float
    status: ReviewStatus
    verdict: Verdict | None
    version: int
    title: str
    url: str
    outlet: str
    published_at: datetime | None
    risk: float | None
    themes: list[int]
    assignee: str | None
    tier: str = "city"
    outlets: int = 1  # outlets carrying the story (its cluster)
    copies: int = 0  # other copies of the same text
    top_reason: str | None = None


@dataclass
class QueuePage:
    """A page of the queue with counts per status for the same filters."""

    rows: list[QueueRow]
    counts: dict[ReviewStatus, int]
    total: int
    page: int
    pages: int
    per_page: int
    capped: bool = False  # a search matched more than SEARCH_CAP items: counts are lower bounds

_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)  # letters and digits; "_" separates like FTS5 does
_PHRASE = re.compile(r'"([^"]*)"')


def fold(value: str) -> str:
    """Lower case without diacritics, đ as d: how people type Vietnamese in a hurry ("sap nhap", "dai hoc")."""
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


@dataclass(frozen=True)
class Search:
    """A search split the way it is matched: loose words forgive diacritics, "quoted phrases" match exactly."""

    words: list[str]
    phrases: list[list[str]]

    @staticmethod
    def of(q: str) -> Search:
        """Split a search box's text; refuse one with nothing to search for."""
        q = unicodedata.normalize("NFC", q)
        phrases = [words for words in (_TOKEN.findall(p) for p in _PHRASE.findall(q)) if words]
        search = Search(_TOKEN.findall(_PHRASE.sub(" ", q)), phrases)
        if not search.words and not search.phrases:
            raise ReviewError("Từ khóa tìm kiếm không có chữ nào để tìm.")
        return search


def _fts(terms: Iterable[Iterable[str]]) -> str:
    """An FTS5 MATCH string: every term required; user syntax never reaches FTS5."""
    return " AND ".join('"' + " ".join(words) + '"' for words in terms)


def _ts(words: Iterable[str]) -> str:
    """A to_tsquery string: every word required."""
    return " & ".join(f"'{w.lower()}'" for w in words)


def like_patterns(phrases: Iterable[list[str]]) -> list[str]:
    """ILIKE patterns for phrases of several words (underscore and percent escaped)."""
    out = []
    for words in phrases:
        if len(words) > 1:
            phrase = " ".join(words).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            out.append(f"%{phrase}%")
    return out

_FTS = table("article_fts", column("rowid"))
_FOLD = table("article_fts_fold", column("rowid"))


def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _pg_exact(terms: list[list[str]]) -> Any:
    """Exact words on review_item.search_vector, then ILIKE on the article for the order of phrase words."""
    # a phrase operator (<->) would make PostgreSQL recompute vectors for every candidate; the index
    # finds rows with all the words, then ILIKE on the article checks the words are in that order
    match = text("review_item.search_vector @@ to_tsquery('simple'::regconfig, :fts_q)").bindparams(
        fts_q=_ts(w for words in terms for w in words))
    checks = [
        exists(
            select(literal(1)).where(
                Article.id == ReviewItem.article_id,
                text(
                    f"(coalesce(article.title, '') || ' ' || coalesce(article.text, '')) ILIKE :fts_p{i} ESCAPE '\\'"
                ).bindparams(**{f"fts_p{i}": pattern}),
            )
        )
        for i, pattern in enumerate(like_patterns(terms))
    ]
    return and_(match, *checks)


def _sqlite_ids(index: Any, terms: Iterable[Iterable[str]]) -> Any:
    """Article ids an FTS5 index finds for all the terms."""
    return select(index.c.rowid).where(literal_column(index.name).op("MATCH")(_fts(terms)))


def _search_match(session: Session, q: str) -> Any:
    """Loose words on the folded index (no diacritics needed), "quoted phrases" on the exact one."""
    search = Search.of(q)
    conditions: list[Any] = []
    if _is_pg(session):
        if search.words:
            conditions.append(text("review_item.search_folded @@ to_tsquery('nq71_fold'::regconfig, :fold_q)")
                              .bindparams(fold_q=_ts(fold(w) for w in search.words)))
        if search.phrases:
            conditions.append(_pg_exact(search.phrases))
        return and_(*conditions)
    if search.words:
        conditions.append(ReviewItem.article_id.in_(_sqlite_ids(_FOLD, ([fold(w)] for w in search.words))))
    if search.phrases:
        conditions.append(ReviewItem.article_id.in_(_sqlite_ids(_FTS, search.phrases)))
    return and_(*conditions)


def exact_first(session: Session, q: str) -> Any:
    """A sort key that puts items whose words match with their diacritics (as typed) before folded matches."""
    search = Search.of(q)
    if not search.words:
        return literal(0)
    exact: Any
    if _is_pg(session):
        exact = text("review_item.search_vector @@ to_tsquery('simple'::regconfig, :exact_q)").bindparams(
            exact_q=_ts(search.words))
    else:
        exact = ReviewItem.article_id.in_(_sqlite_ids(_FTS, ([w] for w in search.words)))
    return case((exact, 0), else_=1)


def _filtered(session: Session, stmt: Any, f: QueueFilter, with_status: bool) -> Any:
    """Apply the filters on review_item alone (outlet, date, risk and theme are trigger-kept copies there)."""
    if with_status and f.status is not None:
        stmt = stmt.where(ReviewItem.status == f.status)
    elif with_status and f.open_only:
        stmt = stmt.where(ReviewItem.status.in_(OPEN_STATUSES))
    if f.outlet_id is not None:
        stmt = stmt.where(ReviewItem.outlet_id == f.outlet_id)
    if f.published_from is not None:
        stmt = stmt.where(ReviewItem.published_at >= f.published_from)
    if f.published_to is not None:
        stmt = stmt.where(ReviewItem.published_at < f.published_to)
    if f.theme is not None:
        stmt = stmt.where(ReviewItem.theme_mask.op("&")(1 << (f.theme - 1)) != 0)
    if f.risk is not None:
        low, high = RISK_BANDS[f.risk]
        stmt = stmt.where(ReviewItem.risk_score >= low, ReviewItem.risk_score < high)
    if f.unassigned:
        stmt = stmt.where(ReviewItem.assignee_id.is_(None))
    elif f.assignee_id is not None:
        stmt = stmt.where(ReviewItem.assignee_id == f.assignee_id)
    return stmt


def status_counts(session: Session, f: QueueFilter) -> tuple[dict[ReviewStatus, int], bool]:
    """Items per status under the other filters (the tabs above the queue), and whether a search was capped.

    A search for a very common word would count most of the queue through the full-text index (0.5-1 s);
    counting stops at SEARCH_CAP hits instead and the page says "more than".
    """
    stmt = _filtered(session, select(ReviewItem.status).select_from(ReviewItem), f, with_status=False)
    if f.q:
        stmt = stmt.where(_search_match(session, f.q)).limit(SEARCH_CAP + 1)
    sub = stmt.subquery()
    counts = {s: 0 for s in ReviewStatus}
    row: Any
    for row in session.execute(select(sub.c.status, func.count()).group_by(sub.c.status)):
        counts[ReviewStatus(row[0])] = int(row[1])
    return counts, bool(f.q) and sum(counts.values()) > SEARCH_CAP


def queue_page(session: Session, f: QueueFilter, known_counts: tuple[dict[ReviewStatus, int], bool] | None = None) -> QueuePage:
    """One page of the queue, highest priority first, with the counts per status (given, or counted now)."""
    counts, capped = known_counts if known_counts is not None else status_counts(session, f)
    shown = [f.status] if f.status is not None else OPEN_STATUSES if f.open_only else list(counts)
    total = sum(counts[s] for s in shown)
    pages = max(1, -(-total // f.per_page))
    page = min(max(1, f.page), pages)
    ids_stmt = _filtered(session, select(ReviewItem.id).select_from(ReviewItem), f, with_status=True)
    if f.q and capped:
        # so many hits that walking the queue in priority order fills a page within a few hundred rows
        ids_stmt = ids_stmt.where(_search_match(session, f.q))
    elif f.q:
        # few hits: take them all, sort them, those matching with the diacritics as typed first
        ids_stmt = ids_stmt.where(_search_match(session, f.q)).order_by(exact_first(session, f.q))
    ids_stmt = ids_stmt.order_by(ReviewItem.priority.desc(), ReviewItem.id.desc())
    ids_stmt = ids_stmt.limit(f.per_page).offset((page - 1) * f.per_page)
    ids = list(session.scalars(ids_stmt))
    rows: list[QueueRow] = []
    if ids:
        assignee = aliased(User)
        detail = (
            select(
                ReviewItem.id,
                ReviewItem.priority,
                ReviewItem.status,
                ReviewItem.verdict,
                ReviewItem.version,
                Article.title,
                Article.url,
                Outlet.name,
                Article.published_at,
                Classification.risk_score,
                Classification.theme_mask,
                assignee.username,
                Outlet.tier,
                Article.id,
                Article.cluster_id,
                Article.copy_of_id,
                Classification.reasons,
            )
            .join(Article, Article.id == ReviewItem.article_id)
            .join(Outlet, Outlet.id == Article.outlet_id)
            .outerjoin(Classification, Classification.article_id == Article.id)
            .outerjoin(assignee, assignee.id == ReviewItem.assignee_id)
            .where(ReviewItem.id.in_(ids))
        )
        by_id: dict[int, Any] = {r[0]: r for r in session.execute(detail)}
        spread = _story_spread(session, [(r[13], r[14], r[15]) for r in by_id.values()])
        for item_id in ids:
            r = by_id[item_id]
            outlets, copies = spread.get(r[13], (1, 0))
            rows.append(
                QueueRow(
                    id=r[0],
                    priority=float(r[1]),
                    status=ReviewStatus(r[2]),
                    verdict=Verdict(r[3]) if r[3] else None,
                    version=int(r[4]),
                    title=r[5] or "(không có tiêu đề)",
                    url=r[6],
                    outlet=r[7],
                    published_at=r[8],
                    risk=float(r[9]) if r[9] is not None else None,
                    themes=Classification.themes_of(r[10]),
                    assignee=r[11],
                    tier=r[12].value if r[12] is not None else "unknown",
                    outlets=outlets,
                    copies=copies,
                    top_reason=top_reason(r[16]),
                )
            )
    return QueuePage(rows=rows, counts=counts, total=total, page=page, pages=pages, per_page=f.per_page, capped=capped)


def top_reason(reasons: Any) -> str | None:
    """The label of the reason that raises the risk most, in the reviewers' words."""
    raised = [r for r in reasons or [] if isinstance(r, dict) and isinstance(r.get("weight"), (int, float)) and r["weight"] > 0]
    if not raised:
        return None
    best = max(raised, key=lambda r: float(r["weight"]))
    return str(best.get("label") or best.get("code") or "")


def _story_spread(session: Session, articles: list[tuple[int, int | None, int | None]]) -> dict[int, tuple[int, int]]:
    """(outlets carrying the story, other copies of the text) per article id: two grouped queries for the whole page."""
    clusters = {c for _, c, _ in articles if c is not None}
    roots = {copy_of or a for a, _, copy_of in articles}
    outlets: dict[int, int] = {}
    if clusters:
        outlets = {c: int(n) for c, n in session.execute(
            select(Article.cluster_id, func.count(func.distinct(Article.outlet_id)))
            .where(Article.cluster_id.in_(clusters)).group_by(Article.cluster_id)) if c is not None}
    copies = {root: int(n) for root, n in session.execute(
        select(Article.copy_of_id, func.count()).where(Article.copy_of_id.in_(roots)).group_by(Article.copy_of_id)) if root is not None}
    # the copy group is the original and its copies; "other copies" leaves this article out
    return {
        a: (max(1, outlets.get(c, 1) if c is not None else 1), copies.get(copy_of or a, 0))
        for a, c, copy_of in articles
    }


# --- one item ---------------------------------------------------------------------------------
@dataclass
class MatchedClaim:
    """A registered claim this article repeats, and how closely."""

    claim: Claim
    similarity: float
    level: str


@dataclass
class StoryMate:
    """Another article in the same story (cluster) or a copy of this one."""

    article: Article
    outlet: str
    copy: bool


@dataclass
class ItemRecord:
    """An item with what its page shows: the article, classification, claim matches, story mates, history."""

    item: ReviewItem
    article: Article
    outlet: Outlet
    classification: Classification | None
    claims: list[MatchedClaim]
    story: list[StoryMate]
    events: list[ReviewEvent]
    has_claim: bool = False
    users: list[User] = field(default_factory=list)


def get_item(session: Session, item_id: int) -> ReviewItem:
    """The review item, or NotFound with a clear message."""
    # ids are INTEGER columns: a larger number names no row, and PostgreSQL would refuse to compare it
    item = session.get(ReviewItem, item_id) if 0 < item_id <= MAX_ROW_ID else None
    if item is None:
        raise NotFound(f"Không có mục thẩm định số {item_id}.")
    return item


def _matched_claims(session: Session, article: Article, classification: Classification | None) -> list[MatchedClaim]:
    """Registered claims the article repeats, closest first (stored matches, then the classifier's own)."""
    claims: dict[int, MatchedClaim] = {}
    for match, claim in session.execute(
        select(ClaimMatch, Claim).join(Claim, Claim.id == ClaimMatch.claim_id).where(ClaimMatch.article_id == article.id)
    ):
        claims[claim.id] = MatchedClaim(claim, float(match.similarity), match.level)
    for m in classification.claim_matches if classification else []:
        cid = m.get("claim_id") if isinstance(m, dict) else None
        if isinstance(cid, int) and cid not in claims:
            registered = session.get(Claim, cid)
            if registered is not None:
                claims[cid] = MatchedClaim(registered, float(m.get("similarity") or 0.0), str(m.get("level") or ""))
    return sorted(claims.values(), key=lambda c: -c.similarity)


def _story_mates(session: Session, article: Article) -> list[StoryMate]:
    """Other articles of the same story (cluster) and copies of the same text, newest first."""
    mates: list[StoryMate] = []
    # one indexed query per relation: an OR across columns makes the planners scan every article
    related: set[int] = set()
    if article.cluster_id is not None:
        related.update(session.scalars(select(Article.id).where(Article.cluster_id == article.cluster_id).limit(200)))
    related.update(session.scalars(select(Article.id).where(Article.copy_of_id == article.id).limit(200)))
    if article.copy_of_id is not None:
        related.add(article.copy_of_id)
        related.update(session.scalars(select(Article.id).where(Article.copy_of_id == article.copy_of_id).limit(200)))
    related.discard(article.id)
    if related:
        stmt = select(Article, Outlet.name).join(Outlet, Outlet.id == Article.outlet_id).where(Article.id.in_(related))
        found = sorted(session.execute(stmt).all(), key=lambda r: (r[0].published_at is None, -(r[0].published_at.timestamp() if r[0].published_at else 0), r[0].id))
        for other, outlet_name in found[:50]:
            is_copy = other.copy_of_id == article.id or other.id == article.copy_of_id or (
                article.copy_of_id is not None and other.copy_of_id == article.copy_of_id
            )
            mates.append(StoryMate(other, outlet_name, is_copy))
    return mates


def item_record(session: Session, item_id: int) -> ItemRecord:
    """The item with its article, classification, claim matches, story mates, full history and the active users."""
    item = get_item(session, item_id)
    article = item.article
    classification = session.scalar(select(Classification).where(Classification.article_id == article.id))
    events = list(
        session.scalars(select(ReviewEvent).where(ReviewEvent.review_item_id == item.id).order_by(ReviewEvent.at, ReviewEvent.id))
    )
    users = list(session.scalars(select(User).where(User.active.is_(True)).order_by(User.username)))
    return ItemRecord(
        item, article, article.outlet, classification, _matched_claims(session, article, classification),
        _story_mates(session, article), events, claim_of_article(session, article.id) is not None, users,
    )


def last_verdict(session: Session, item_id: int) -> tuple[int | None, datetime] | None:
    """Who gave the item's latest verdict, and when."""
    row = session.execute(
        select(ReviewEvent.user_id, ReviewEvent.at)
        .where(ReviewEvent.review_item_id == item_id, ReviewEvent.action == "verdict")
        .order_by(ReviewEvent.id.desc())
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1])


def last_actor(session: Session, item_id: int) -> str | None:
    """The username of whoever last acted on the item."""
    return session.scalar(
        select(User.username)
        .join(ReviewEvent, ReviewEvent.user_id == User.id)
        .where(ReviewEvent.review_item_id == item_id)
        .order_by(ReviewEvent.id.desc())
        .limit(1)
    )


def claim_of_article(session: Session, article_id: int) -> int | None:
    """The registry claim made from this article, if any."""
    return session.scalar(select(Claim.id).where(Claim.source_article_id == article_id).limit(1))


def get_article(session: Session, article_id: int) -> Article:
    """One article with its outlet and classification, or NotFound."""
    article = session.get(Article, article_id, options=[selectinload(Article.outlet), selectinload(Article.classification)])
    if article is None:
        raise NotFound(f"Không có bài số {article_id}.")
    return article


# --- audit trail ------------------------------------------------------------------------------
@dataclass(frozen=True)
class AuditRow:
    """One audited change: a review action on an item, or a label correction (``correction``) on any article."""

    at: datetime
    ident: int
    correction: bool
    item_id: int | None
    url: str
    title: str
    username: str | None
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    note: str | None


CORRECTION_ACTION = "correct_labels"  # the action name of a label correction in the audit trail


def _event_rows(session: Session, start: datetime, end: datetime) -> Iterator[AuditRow]:
    stmt = (
        select(ReviewEvent, User.username, Article.url, Article.title)
        .join(ReviewItem, ReviewItem.id == ReviewEvent.review_item_id)
        .join(Article, Article.id == ReviewItem.article_id)
        .outerjoin(User, User.id == ReviewEvent.user_id)
        .where(ReviewEvent.at >= start, ReviewEvent.at < end)
        .order_by(ReviewEvent.at, ReviewEvent.id)
    )
    for event, username, url, title in session.execute(stmt):
        yield AuditRow(event.at, event.id, False, event.review_item_id, url, title, username, event.action,
                       event.before, event.after, event.note)


def _correction_rows(session: Session, start: datetime, end: datetime) -> Iterator[AuditRow]:
    """Reviewers' label corrections (any article, queued or not), with the item id when queued."""
    stmt = (
        select(LabelCorrection, User.username, Article.url, Article.title, ReviewItem.id)
        .join(Article, Article.id == LabelCorrection.article_id)
        .outerjoin(ReviewItem, ReviewItem.article_id == Article.id)
        .outerjoin(User, User.id == LabelCorrection.user_id)
        .where(LabelCorrection.at >= start, LabelCorrection.at < end)
        .order_by(LabelCorrection.at, LabelCorrection.id)
    )
    for fix, username, url, title, item_id in session.execute(stmt):
        yield AuditRow(fix.at, fix.id, True, item_id, url, title, username, CORRECTION_ACTION, fix.before,
                       labels_of(fix), fix.note)


def audit_rows(session: Session, start: datetime, end: datetime) -> Iterator[AuditRow]:
    """Review actions and label corrections in [start, end), oldest first."""
    return heapq.merge(_event_rows(session, start, end), _correction_rows(session, start, end), key=lambda r: r.at)


# --- claims, users, outlets -------------------------------------------------------------------
@dataclass
class ClaimRow:
    """A registered claim and the articles matched to it."""

    claim: Claim
    author: str | None
    matches: list[tuple[Article, str, float, str]]  # article, outlet name, similarity, level


def claims_with_matches(session: Session, limit_matches: int = 20) -> list[ClaimRow]:
    """The claim registry, newest first, each with its best matches."""
    rows: list[ClaimRow] = []
    for claim, author in session.execute(
        select(Claim, User.username).outerjoin(User, User.id == Claim.author_id).order_by(Claim.created_at.desc(), Claim.id.desc())
    ):
        matches = [
            (article, outlet, float(m.similarity), m.level)
            for m, article, outlet in session.execute(
                select(ClaimMatch, Article, Outlet.name)
                .join(Article, Article.id == ClaimMatch.article_id)
                .join(Outlet, Outlet.id == Article.outlet_id)
                .where(ClaimMatch.claim_id == claim.id)
                .order_by(ClaimMatch.similarity.desc())
                .limit(limit_matches)
            )
        ]
        rows.append(ClaimRow(claim, author, matches))
    return rows


def item_ids_for_articles(session: Session, article_ids: Iterable[int]) -> dict[int, int]:
    """Review item id per article id, for linking claim matches to the queue."""
    ids = list(article_ids)
    if not ids:
        return {}
    return {a: i for i, a in session.execute(select(ReviewItem.id, ReviewItem.article_id).where(ReviewItem.article_id.in_(ids)))}


def list_users(session: Session) -> list[User]:
    """All users, active first."""
    return list(session.scalars(select(User).order_by(User.active.desc(), User.username)))


def outlet_choices(session: Session) -> list[tuple[int, str]]:
    """Outlets by name, for the queue's filter."""
    return [(i, n) for i, n in session.execute(select(Outlet.id, Outlet.name).order_by(Outlet.name))]
