"""Review queue: read the queue and items, act on them, and write the append-only audit (session first)."""

from __future__ import annotations

import heapq
import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy import and_, case, column, exists, func, literal, literal_column, select, table, text
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from store.classifications import ClaimError, add_claim
from store.corrections import labels_of
from store.models import (
    Article,
    Claim,
    ClaimMatch,
    Classification,
    Feed,
    LabelCorrection,
    Outlet,
    ReviewEvent,
    ReviewItem,
    ReviewStatus,
    Role,
    User,
    Verdict,
    utcnow,
)

# --- words the reviewers use ------------------------------------------------------------------
STATUS_LABELS: dict[ReviewStatus, str] = {
    ReviewStatus.new: "Mới",
    ReviewStatus.in_progress: "Đang xử lý",
    ReviewStatus.escalated: "Chuyển Sở GD&ĐT",
    ReviewStatus.resolved: "Đã xử lý",
}
VERDICT_LABELS: dict[Verdict, str] = {
    Verdict.tin_gia: "Tin giả",
    Verdict.tin_sai_su_that: "Tin sai sự thật",
    Verdict.tin_xac_thuc: "Tin xác thực",
    Verdict.khong_lien_quan: "Không liên quan",
}
ROLE_LABELS: dict[Role, str] = {Role.reviewer: "Thẩm định viên", Role.supervisor: "Giám sát", Role.admin: "Quản trị"}
ACTION_LABELS: dict[str, str] = {
    "created": "Đưa vào hàng đợi",
    "take": "Nhận xử lý",
    "assign": "Giao việc",
    "escalate": "Chuyển Sở GD&ĐT",
    "verdict": "Kết luận",
    "reopen": "Mở lại",
    "add_claim": "Thêm vào kho tin sai",
    "note": "Ghi chú",
}
THEME_LABELS: dict[int, str] = {
    1: "Nhận thức, lãnh đạo, truyền thông",
    2: "Thể chế, pháp luật",
    3: "Chuyển đổi số, AI",
    4: "Nội dung, phương pháp, thi cử",
    5: "Nhà giáo, cán bộ quản lý",
    6: "Đầu tư, điều kiện bảo đảm",
    7: "Đại học, nhân lực chất lượng cao",
    8: "Hợp tác quốc tế",
}
# risk bands over Classification.risk_score: [low, high)
RISK_BANDS: dict[str, tuple[float, float]] = {"low": (0.0, 0.4), "medium": (0.4, 0.7), "high": (0.7, 1.01)}
RISK_LABELS: dict[str, str] = {"low": "Thấp", "medium": "Trung bình", "high": "Cao"}
ROLE_RANK: dict[Role, int] = {Role.reviewer: 1, Role.supervisor: 2, Role.admin: 3}
NOTE_REQUIRED = {Verdict.tin_gia, Verdict.tin_sai_su_that}
HIGH_RISK_NOTE = 0.8  # closing an item this risky as "Không liên quan" needs a note saying why
REOPEN_OWN_HOURS = 24  # a reviewer may reopen their own verdict this long after giving it
OPEN_STATUSES = (ReviewStatus.new, ReviewStatus.in_progress, ReviewStatus.escalated)  # the work still to do
FALSE_VERDICTS = NOTE_REQUIRED
MAX_NOTE = 2000
MAX_CLAIM = 2000
MAX_QUERY = 200
PER_PAGE = 50
SEARCH_CAP = 10_000  # searches count at most this many hits ("hơn 10.000")


MAX_ROW_ID = 2**31 - 1


class ReviewError(ValueError):
    """An action a user asked for cannot be done; the message (Vietnamese) says what to fix."""

    status_code = 400


class NotFound(ReviewError):
    """An id that does not exist."""

    status_code = 404


class Forbidden(ReviewError):
    """The user's role does not allow this."""

    status_code = 403


class AlreadyDone(ReviewError):
    """What the user asked for is already so (not an error: the page says it as information)."""

    status_code = 200


class ConflictError(ReviewError):
    """Someone else changed the item since the user loaded it (optimistic lock)."""

    status_code = 409


def has_role(user: User, role: Role) -> bool:
    """True if the user's role is at least ``role`` (reviewer < supervisor < admin)."""
    return ROLE_RANK[user.role] >= ROLE_RANK[role]


def require_role(user: User, role: Role) -> None:
    """Raise Forbidden unless the user has at least ``role``."""
    if not has_role(user, role):
        raise Forbidden(f"Bạn không có quyền làm việc này: cần vai trò {ROLE_LABELS[role]} trở lên.")


def clean_text(value: str | None, what: str, max_len: int, required: bool = False) -> str | None:
    """NFC-normalise and trim free text; refuse too long, or empty when required."""
    cleaned = unicodedata.normalize("NFC", value or "").strip()
    if "\x00" in cleaned:  # PostgreSQL refuses NUL in text: say so instead of failing on the write
        raise ReviewError(f"{what} chứa ký tự NUL không hợp lệ. / {what}: NUL characters are not allowed.")
    if len(cleaned) > max_len:
        raise ReviewError(f"{what} quá dài ({len(cleaned)} ký tự); tối đa {max_len} ký tự.")
    if not cleaned:
        if required:
            raise ReviewError(f"{what} không được để trống.")
        return None
    return cleaned


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
NQ71_KEY = "nq"  # the key of Resolution 71 evidence (a colour of its own, apart from the risk reasons)
NQ71_LABEL = "Bằng chứng liên quan Nghị quyết 71"


@dataclass
class Span:
    """A piece of evidence in the article text; ``key`` names its reason ("1", "2" …) or NQ71_KEY."""

    start: int
    end: int
    label: str
    key: str = NQ71_KEY


@dataclass
class Segment:
    """A run of article text, highlighted when it is evidence (``keys``: the reasons it supports)."""

    text: str
    label: str | None = None
    keys: list[str] = field(default_factory=list)


@dataclass
class Reason:
    """One reason the item was flagged, numbered as its marks in the text are."""

    n: int
    code: str
    label: str
    weight: float | None
    raw: dict[str, Any]

    @property
    def tone(self) -> str:
        """CSS class: raises the risk (a colour per number), lowers it, or counts nothing."""
        if self.weight is None or self.weight == 0:
            return "k-info"
        return f"k-r{(self.n - 1) % 5 + 1}" if self.weight > 0 else "k-down"


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
class ItemDetail:
    """Everything the item page shows."""

    item: ReviewItem
    article: Article
    outlet: Outlet
    classification: Classification | None
    segments: list[Segment]
    reasons: list[Reason]
    claims: list[MatchedClaim]
    story: list[StoryMate]
    events: list[ReviewEvent]
    has_claim: bool = False
    users: list[User] = field(default_factory=list)
    own_reopen: bool = False  # the viewer gave the standing verdict less than a day ago

    @property
    def combined(self) -> float:
        """The risk the listed weights combine to (see combined_risk)."""
        return combined_risk(self.reasons)

    @property
    def marked_keys(self) -> set[str]:
        """Reason keys that have at least one mark in the text."""
        return {k for seg in self.segments for k in seg.keys}


def _span_dicts(value: Any) -> Iterator[dict[str, Any]]:
    """Every {text,start,end} dict inside a reasons/evidence JSON value, however nested."""
    if isinstance(value, dict):
        if isinstance(value.get("start"), int) and isinstance(value.get("end"), int):
            yield value
        for child in value.values():
            if isinstance(child, (dict, list)):
                yield from _span_dicts(child)
    elif isinstance(value, list):
        for child in value:
            yield from _span_dicts(child)


def numbered_reasons(classification: Classification | None) -> list[Reason]:
    """The stored reasons, strongest risk first, numbered from 1."""
    raw = [r for r in (classification.reasons if classification else []) if isinstance(r, dict)]
    raw.sort(key=lambda r: -float(r["weight"]) if isinstance(r.get("weight"), (int, float)) else 0.0)
    return [
        Reason(i, str(r.get("code") or ""), str(r.get("label") or r.get("code") or ""),
               float(r["weight"]) if isinstance(r.get("weight"), (int, float)) else None, r)
        for i, r in enumerate(raw, 1)
    ]


def combined_risk(reasons: Iterable[Reason]) -> float:
    """How classify.api combines the weights: 1 − Π(1 − w) over raising reasons, times Π(1 − |w|) over lowering ones."""
    up, down = 1.0, 1.0
    for r in reasons:
        if r.weight is not None and r.weight > 0:
            up *= 1.0 - r.weight
        elif r.weight is not None and r.weight < 0:
            down *= 1.0 + r.weight
    return min(1.0, max(0.0, (1.0 - up) * down))


def evidence_spans(body: str, classification: Classification | None, reasons: list[Reason] | None = None) -> list[Span]:
    """Evidence spans that really lie in ``body``; a span whose offsets drifted is found by its text."""
    if classification is None:
        return []
    found: list[Span] = []
    numbered = reasons if reasons is not None else numbered_reasons(classification)
    sources: list[tuple[str, str, Any]] = [(r.label, str(r.n), r.raw) for r in numbered]
    sources.append((NQ71_LABEL, NQ71_KEY, classification.evidence or {}))
    for label, key, value in sources:
        for span in _span_dicts(value):
            start, end, snippet = int(span["start"]), int(span["end"]), str(span.get("text") or "")
            if not (0 <= start < end <= len(body)) or (snippet and body[start:end] != snippet):
                at = body.find(snippet) if snippet else -1
                if at < 0:
                    continue
                start, end = at, at + len(snippet)
            found.append(Span(start, end, label, key))
    return found


def highlight(body: str, spans: Iterable[Span]) -> list[Segment]:
    """Cut the text into plain and highlighted runs; overlapping spans merge into one highlight with every key."""
    merged: list[tuple[Span, list[str]]] = []
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        if merged and span.start <= merged[-1][0].end:
            last, keys = merged[-1]
            labels = last.label if span.label in last.label.split("; ") else f"{last.label}; {span.label}"
            merged[-1] = (Span(last.start, max(last.end, span.end), labels, last.key), keys + [k for k in [span.key] if k not in keys])
        else:
            merged.append((span, [span.key]))
    segments: list[Segment] = []
    at = 0
    for span, keys in merged:
        if span.start > at:
            segments.append(Segment(body[at : span.start]))
        segments.append(Segment(body[span.start : span.end], span.label or "Bằng chứng", keys))
        at = span.end
    if at < len(body):
        segments.append(Segment(body[at:]))
    return segments


def get_item(session: Session, item_id: int) -> ReviewItem:
    """The review item, or NotFound with a clear message."""
    # ids are INTEGER columns: a larger number names no row, and PostgreSQL would refuse to compare it
    item = session.get(ReviewItem, item_id) if 0 < item_id <= MAX_ROW_ID else None
    if item is None:
        raise NotFound(f"Không có mục thẩm định số {item_id}.")
    return item


def item_detail(session: Session, item_id: int, viewer: User | None = None) -> ItemDetail:
    """The item with its text highlighted, reasons, claim matches, story mates and full history."""
    item = get_item(session, item_id)
    article = item.article
    classification = session.scalar(select(Classification).where(Classification.article_id == article.id))
    reasons = numbered_reasons(classification)
    segments = highlight(article.text or "", evidence_spans(article.text or "", classification, reasons))
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
    events = list(
        session.scalars(select(ReviewEvent).where(ReviewEvent.review_item_id == item.id).order_by(ReviewEvent.at, ReviewEvent.id))
    )
    has_claim = session.scalar(select(func.count()).select_from(Claim).where(Claim.source_article_id == article.id)) or 0
    users = list(session.scalars(select(User).where(User.active.is_(True)).order_by(User.username)))
    return ItemDetail(
        item, article, article.outlet, classification, segments, reasons, sorted(claims.values(), key=lambda c: -c.similarity),
        mates, events, bool(has_claim), users,
        own_reopen=viewer is not None and own_recent_verdict(session, item, viewer),
    )


# --- actions ----------------------------------------------------------------------------------
def _snapshot(session: Session, item: ReviewItem) -> dict[str, Any]:
    assignee = session.get(User, item.assignee_id) if item.assignee_id else None
    return {
        "status": item.status.value,
        "verdict": item.verdict.value if item.verdict else None,
        "assignee": assignee.username if assignee else None,
    }


def _load_for_action(session: Session, item_id: int, user: User, expected_version: int | None) -> ReviewItem:
    """The item, checked against the version the user saw; a stale version is a conflict."""
    if not user.active:
        raise Forbidden("Tài khoản đã bị khóa.")
    item = get_item(session, item_id)
    if expected_version is not None and item.version != expected_version:
        who = session.scalar(
            select(User.username)
            .join(ReviewEvent, ReviewEvent.user_id == User.id)
            .where(ReviewEvent.review_item_id == item.id)
            .order_by(ReviewEvent.id.desc())
            .limit(1)
        )
        by = f" bởi {who}" if who else ""
        raise ConflictError(
            f"Xung đột: mục #{item.id} vừa được cập nhật{by} sau khi bạn mở trang. "
            "Chưa có gì được lưu; hãy xem trạng thái mới rồi thực hiện lại (nội dung bạn nhập vẫn còn trong ô)."
        )
    return item


def _may_work_on(user: User, item: ReviewItem) -> None:
    """Reviewers act on their own or unassigned items; supervisors and admins on any."""
    if item.assignee_id not in (None, user.id) and not has_role(user, Role.supervisor):
        raise Forbidden("Mục này đang giao cho người khác; chỉ người được giao hoặc giám sát viên được thao tác.")


def _commit_change(
    session: Session, item: ReviewItem, user: User, action: str, before: dict[str, Any], note: str | None
) -> ReviewEvent:
    """Flush the item (version checked by SQLAlchemy) and append the audit row in the same transaction."""
    now = utcnow()
    item_id = item.id  # read before the flush: a failed flush expires the object
    if item.first_action_at is None:
        item.first_action_at = now
    try:
        session.flush()  # the UPDATE carries "WHERE version = <seen>": a concurrent change matches no row
    except StaleDataError:
        raise ConflictError(
            f"Xung đột: mục #{item_id} vừa được người khác cập nhật cùng lúc. Chưa có gì được lưu; hãy thực hiện lại."
        ) from None
    event = ReviewEvent(
        review_item_id=item.id, user_id=user.id, at=now, action=action, before=before, after=_snapshot(session, item), note=note
    )
    session.add(event)
    session.flush()
    return event


def take(session: Session, item_id: int, user: User, expected_version: int | None) -> ReviewItem:
    """Assign the item to the user and mark it in progress."""
    item = _load_for_action(session, item_id, user, expected_version)
    if item.status == ReviewStatus.resolved:
        raise ReviewError("Mục đã xử lý xong; giám sát viên cần mở lại trước khi nhận.")
    if item.assignee_id == user.id and item.status != ReviewStatus.new:
        raise AlreadyDone("Mục này đã giao cho bạn; bạn có thể ghi chú hoặc kết luận ngay.")
    _may_work_on(user, item)
    before = _snapshot(session, item)
    item.assignee_id = user.id
    if item.status == ReviewStatus.new:
        item.status = ReviewStatus.in_progress
    _commit_change(session, item, user, "take", before, None)
    return item


def assign(session: Session, item_id: int, user: User, assignee_id: int, expected_version: int | None) -> ReviewItem:
    """A supervisor gives the item to someone."""
    require_role(user, Role.supervisor)
    item = _load_for_action(session, item_id, user, expected_version)
    if item.status == ReviewStatus.resolved:
        raise ReviewError("Mục đã xử lý xong; hãy mở lại trước khi giao.")
    target = session.get(User, assignee_id)
    if target is None or not target.active:
        raise NotFound(f"Không có người dùng đang hoạt động với mã {assignee_id}.")
    if item.assignee_id == target.id:
        raise ReviewError(f"Mục đã được giao cho {target.username}.")
    before = _snapshot(session, item)
    item.assignee_id = target.id
    if item.status == ReviewStatus.new:
        item.status = ReviewStatus.in_progress
    _commit_change(session, item, user, "assign", before, None)
    return item


def escalate(session: Session, item_id: int, user: User, note: str | None, expected_version: int | None) -> ReviewItem:
    """Send the item to Sở GD&ĐT for a ruling; the note says what is asked."""
    cleaned = clean_text(note, "Ghi chú chuyển Sở GD&ĐT", MAX_NOTE, required=True)
    item = _load_for_action(session, item_id, user, expected_version)
    if item.status == ReviewStatus.resolved:
        raise ReviewError("Mục đã xử lý xong; hãy mở lại trước khi chuyển.")
    if item.status == ReviewStatus.escalated:
        raise ReviewError("Mục đã được chuyển Sở GD&ĐT.")
    _may_work_on(user, item)
    before = _snapshot(session, item)
    item.status = ReviewStatus.escalated
    if item.assignee_id is None:
        item.assignee_id = user.id
    item.note = cleaned
    _commit_change(session, item, user, "escalate", before, cleaned)
    return item


def parse_verdict(raw: str | None) -> Verdict:
    """A verdict from a form value, or a clear message listing the choices."""
    try:
        return Verdict((raw or "").strip())
    except ValueError:
        choices = ", ".join(VERDICT_LABELS.values())
        raise ReviewError(f"Hãy chọn một kết luận: {choices}.") from None


def give_verdict(
    session: Session, item_id: int, user: User, verdict: Verdict, note: str | None, expected_version: int | None
) -> ReviewItem:
    """Decide the item; a false or distorted verdict, or dismissing a high-risk item, needs a note saying why."""
    cleaned = clean_text(note, "Ghi chú", MAX_NOTE, required=verdict in NOTE_REQUIRED)
    item = _load_for_action(session, item_id, user, expected_version)
    if item.status == ReviewStatus.resolved:
        raise ReviewError("Mục đã có kết luận; giám sát viên cần mở lại nếu muốn đổi.")
    _may_work_on(user, item)
    if verdict == Verdict.khong_lien_quan and cleaned is None and (item.risk_score or 0.0) >= HIGH_RISK_NOTE:
        raise ReviewError(
            f"Mục có rủi ro {item.risk_score:.0%} (từ {HIGH_RISK_NOTE:.0%} trở lên): ghi chú vì sao Không liên quan. "
            "/ A note is required to dismiss a high-risk item."
        )
    before = _snapshot(session, item)
    item.status = ReviewStatus.resolved
    item.verdict = verdict
    item.resolved_at = utcnow()
    if item.assignee_id is None:
        item.assignee_id = user.id
    if cleaned:
        item.note = cleaned
    _commit_change(session, item, user, "verdict", before, cleaned)
    return item


def own_recent_verdict(session: Session, item: ReviewItem, user: User, now: datetime | None = None) -> bool:
    """True if the item's standing verdict was given by ``user`` less than REOPEN_OWN_HOURS ago."""
    if item.status != ReviewStatus.resolved:
        return False
    last = session.execute(
        select(ReviewEvent.user_id, ReviewEvent.at)
        .where(ReviewEvent.review_item_id == item.id, ReviewEvent.action == "verdict")
        .order_by(ReviewEvent.id.desc())
        .limit(1)
    ).first()
    if last is None or last[0] != user.id:
        return False
    return (now or utcnow()) - last[1] < timedelta(hours=REOPEN_OWN_HOURS)  # UTCDateTime: always aware


def may_reopen(session: Session, item: ReviewItem, user: User) -> bool:
    """Supervisors reopen any closed item; a reviewer only their own verdict within a day."""
    if item.status not in (ReviewStatus.resolved, ReviewStatus.escalated):
        return False
    return has_role(user, Role.supervisor) or own_recent_verdict(session, item, user)


def reopen(session: Session, item_id: int, user: User, note: str | None, expected_version: int | None) -> ReviewItem:
    """Reopen a resolved or escalated item (verdict cleared, history kept): supervisors, or the author of a fresh verdict."""
    cleaned = clean_text(note, "Lý do mở lại", MAX_NOTE)
    item = _load_for_action(session, item_id, user, expected_version)
    if item.status not in (ReviewStatus.resolved, ReviewStatus.escalated):
        raise ReviewError("Chỉ mở lại được mục đã xử lý hoặc đã chuyển Sở GD&ĐT.")
    if not may_reopen(session, item, user):
        raise Forbidden(
            f"Bạn không có quyền mở lại mục này: chỉ giám sát viên, hoặc chính người kết luận trong vòng {REOPEN_OWN_HOURS} giờ."
        )
    before = _snapshot(session, item)
    item.status = ReviewStatus.in_progress
    item.verdict = None
    item.resolved_at = None
    _commit_change(session, item, user, "reopen", before, cleaned)
    return item


def add_note(session: Session, item_id: int, user: User, note: str | None) -> ReviewEvent:
    """A note on the item without a verdict: audited as a ReviewEvent, the item itself unchanged (no version bump)."""
    cleaned = clean_text(note, "Ghi chú", MAX_NOTE, required=True)
    item = _load_for_action(session, item_id, user, None)  # a note changes nothing, so it never conflicts
    snap = _snapshot(session, item)
    event = ReviewEvent(review_item_id=item.id, user_id=user.id, at=utcnow(), action="note", before=snap, after=snap, note=cleaned)
    session.add(event)
    session.flush()
    return event


def clean_url(raw: str | None) -> str | None:
    """An optional http(s) URL, or a clear message."""
    value = (raw or "").strip()
    if not value:
        return None
    if len(value) > 1000 or not re.match(r"^https?://[^\s/]+\.[^\s]+$", value):
        raise ReviewError("Đường dẫn bài cải chính phải là một URL http(s) đầy đủ, tối đa 1000 ký tự.")
    return value


def claim_from_item(
    session: Session, item_id: int, user: User, claim_text: str | None, refutation_url: str | None, expected_version: int | None
) -> Claim:
    """Register the claim of a confirmed false item (through `add_claim`) so later paraphrases are matched to it."""
    cleaned = clean_text(claim_text, "Nội dung tin sai", MAX_CLAIM, required=True)
    assert cleaned is not None
    if len(cleaned) < 10:
        raise ReviewError("Nội dung tin sai quá ngắn: hãy viết cả câu (ít nhất 10 ký tự).")
    url = clean_url(refutation_url)
    item = _load_for_action(session, item_id, user, expected_version)
    if item.status != ReviewStatus.resolved or item.verdict not in FALSE_VERDICTS:
        raise ReviewError("Chỉ thêm vào kho tin sai từ mục đã kết luận Tin giả hoặc Tin sai sự thật.")
    _may_work_on(user, item)  # the same rule as every other action: the assignee or a supervisor
    exists = session.scalar(select(Claim.id).where(Claim.source_article_id == item.article_id).limit(1))
    if exists is not None:
        raise ReviewError(f"Bài này đã có trong kho tin sai (mục kho #{exists}).")
    assert item.verdict is not None
    try:
        claim = add_claim(session, cleaned, item.verdict.value, url, user.id, source_article_id=item.article_id)
    except ClaimError as exc:
        raise ReviewError(str(exc)) from None
    before = _snapshot(session, item)
    # the event is the audit of this action; the item itself does not change, so no version bump
    session.add(
        ReviewEvent(
            review_item_id=item.id, user_id=user.id, at=utcnow(), action="add_claim", before=before,
            after={**before, "claim_id": claim.id}, note=cleaned,
        )
    )
    session.flush()
    return claim


# --- audit export -----------------------------------------------------------------------------
def audit_columns(clock: str) -> list[str]:
    """The audit CSV's Vietnamese header; `clock` names the time zone of the times ('giờ Việt Nam, UTC+07:00')."""
    return ["Mã sự kiện", f"Thời điểm ({clock})", "Mã mục", "Địa chỉ bài", "Tiêu đề", "Người thực hiện", "Thao tác",
            "Trước", "Sau", "Ghi chú"]


def _event_rows(session: Session, start: datetime, end: datetime) -> Iterator[tuple[datetime, list[str]]]:
    stmt = (
        select(ReviewEvent, User.username, Article.url, Article.title)
        .join(ReviewItem, ReviewItem.id == ReviewEvent.review_item_id)
        .join(Article, Article.id == ReviewItem.article_id)
        .outerjoin(User, User.id == ReviewEvent.user_id)
        .where(ReviewEvent.at >= start, ReviewEvent.at < end)
        .order_by(ReviewEvent.at, ReviewEvent.id)
    )
    for event, username, url, title in session.execute(stmt):
        yield event.at, [str(event.id), str(event.review_item_id), url, title, username or "",
                         ACTION_LABELS.get(event.action, event.action), _json(event.before), _json(event.after),
                         event.note or ""]


def _correction_rows(session: Session, start: datetime, end: datetime) -> Iterator[tuple[datetime, list[str]]]:
    """Reviewers' label corrections (any article, queued or not): id prefixed "nhãn-", item id when queued."""
    stmt = (
        select(LabelCorrection, User.username, Article.url, Article.title, ReviewItem.id)
        .join(Article, Article.id == LabelCorrection.article_id)
        .outerjoin(ReviewItem, ReviewItem.article_id == Article.id)
        .outerjoin(User, User.id == LabelCorrection.user_id)
        .where(LabelCorrection.at >= start, LabelCorrection.at < end)
        .order_by(LabelCorrection.at, LabelCorrection.id)
    )
    for fix, username, url, title, item_id in session.execute(stmt):
        yield fix.at, [f"nhãn-{fix.id}", str(item_id or ""), url, title, username or "", "Sửa nhãn phân loại",
                       _json(fix.before), _json(labels_of(fix)), fix.note or ""]


def _json(value: dict[str, Any] | None) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""


def audit_events(session: Session, start: datetime, end: datetime, tz: tzinfo) -> Iterator[list[str]]:
    """Audit rows (review actions and label corrections) in [start, end), oldest first, on the city's clock."""
    rows = heapq.merge(_event_rows(session, start, end), _correction_rows(session, start, end), key=lambda r: r[0])
    for at, (ident, *rest) in rows:
        yield [ident, at.astimezone(tz).strftime("%d/%m/%Y %H:%M:%S"), *rest]


# --- sources, claims, users -------------------------------------------------------------------
def set_feed_paused(session: Session, feed_id: int, user: User, paused: bool) -> Feed:
    """An admin pauses or resumes a feed (the crawler skips paused feeds)."""
    require_role(user, Role.admin)
    feed = session.get(Feed, feed_id)
    if feed is None:
        raise NotFound(f"Không có nguồn cấp số {feed_id}.")
    if feed.paused == paused:
        raise ReviewError("Nguồn cấp đã tạm dừng rồi." if paused else "Nguồn cấp đang chạy rồi.")
    feed.paused = paused
    session.flush()
    return feed


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


def day_bounds(start: date, end: date, tz: Any) -> tuple[datetime, datetime]:
    """[start 00:00, end+1 00:00) in the city's time zone, as aware datetimes."""
    from datetime import time

    if end < start:
        raise ReviewError("Ngày kết thúc phải sau hoặc bằng ngày bắt đầu.")
    return datetime.combine(start, time(), tz), datetime.combine(end + timedelta(days=1), time(), tz)

