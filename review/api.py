"""JSON API under /api/: the queue, items, actions and claims, with the same cookie login and a CSRF header."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Header, Path, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from report.export import STATUS_LABELS
from report.weeks import local_text, tz_caption
from review import core, present, service
from review.core import CSRF_HEADER, check_csrf, db, need_user, state
from store import queue as review_queue
from store.corrections import corrections_for, labels_of
from store.models import Relevance, ReviewEvent, ReviewStatus, Verdict

router = APIRouter(prefix="/api", tags=["api"])


class Me(BaseModel):
    """The logged-in user and the CSRF token to send as the X-CSRF-Token header."""

    id: int
    username: str
    role: str
    csrf_token: str


class QueueItem(BaseModel):
    id: int
    priority: float
    status: ReviewStatus
    status_label: str
    verdict: Verdict | None
    version: int
    title: str
    url: str
    outlet: str
    published_at: datetime | None
    risk: float | None
    themes: list[int]
    assignee: str | None


class Queue(BaseModel):
    items: list[QueueItem]
    counts: dict[str, int]
    total: int
    page: int
    pages: int
    capped: bool  # a very common search word: counts stop at 10,000 ("more than")


class Event(BaseModel):
    """One line of an item's history: codes for programs, Vietnamese words and the city's clock for people."""

    at: datetime
    at_local: str  # "05/12/2026 22:43" on the configured clock (see clock)
    clock: str  # "giờ Việt Nam, UTC+07:00"
    user: str | None
    action: str
    action_label: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    note: str | None


class ClaimMatchOut(BaseModel):
    claim_id: int
    text: str
    verdict: Verdict
    similarity: float
    level: str


class StoryOut(BaseModel):
    article_id: int
    title: str
    url: str
    outlet: str
    published_at: datetime | None
    is_copy: bool


class ItemOut(BaseModel):
    id: int
    version: int
    status: ReviewStatus
    verdict: Verdict | None
    assignee: str | None
    priority: float
    note: str | None
    article_id: int
    title: str
    url: str
    outlet: str
    published_at: datetime | None
    text: str
    risk: float | None
    reasons: list[dict[str, Any]]
    highlights: list[dict[str, Any]]
    claims: list[ClaimMatchOut]
    story: list[StoryOut]
    history: list[Event]


class Action(BaseModel):
    """One action on an item; ``version`` is the version you last saw (a stale one answers 409)."""

    action: Literal["take", "assign", "escalate", "verdict", "reopen", "claim", "note"]
    version: int = Field(ge=1)
    note: str | None = Field(default=None, max_length=present.MAX_NOTE)
    verdict: Verdict | None = None
    assignee_id: int | None = Field(default=None, ge=1)
    text: str | None = Field(default=None, max_length=present.MAX_CLAIM)
    refutation_url: str | None = Field(default=None, max_length=1000)


class ActionResult(BaseModel):
    ok: bool
    message: str
    item: ItemOut


class ClaimOut(BaseModel):
    id: int
    text: str
    verdict: Verdict
    refutation_url: str | None
    author: str | None
    created_at: datetime
    matches: list[dict[str, Any]]


@router.get("/me", response_model=Me)
def me(request: Request, session: Session = Depends(db)) -> Me:
    """Who is logged in, and the CSRF token for POST requests."""
    user = need_user(request, session)
    return Me(id=user.id, username=user.username, role=user.role.value, csrf_token=core.csrf_token(request))


@router.get("/queue", response_model=Queue)
def queue(request: Request, session: Session = Depends(db)) -> Queue:
    """The queue with the same filters as the page: status, outlet, theme, risk, from, to, assignee, mine, q, page."""
    user = need_user(request, session)
    f, errors, _ = present.parse_filters(session, dict(request.query_params), user, state(request).tz)
    if errors:
        raise review_queue.ReviewError(" ".join(errors))
    page = review_queue.queue_page(session, f, state(request).counts.get(session, f))
    return Queue(
        items=[QueueItem(**r.__dict__, status_label=STATUS_LABELS[r.status]) for r in page.rows],
        counts={s.value: n for s, n in page.counts.items()},
        total=page.total,
        page=page.page,
        pages=page.pages,
        capped=page.capped,
    )


def item_out(session: Session, item_id: int, tz: ZoneInfo) -> ItemOut:
    """The item as JSON."""
    d = present.item_detail(review_queue.item_record(session, item_id))
    highlights = []
    for name, runs in d.marks.items():
        at = 0
        for seg in runs:
            if seg.label:
                highlights.append({"field": name, "start": at, "end": at + len(seg.text), "text": seg.text,
                                   "label": seg.label})
            at += len(seg.text)
    return ItemOut(
        id=d.item.id,
        version=d.item.version,
        status=d.item.status,
        verdict=d.item.verdict,
        assignee=d.item.assignee.username if d.item.assignee else None,
        priority=d.item.priority,
        note=d.item.note,
        article_id=d.article.id,
        title=d.article.title,
        url=d.article.url,
        outlet=d.outlet.name,
        published_at=d.article.published_at,
        text=d.article.text,
        risk=d.classification.risk_score if d.classification else None,
        reasons=[r.raw for r in d.reasons],
        highlights=highlights,
        claims=[ClaimMatchOut(claim_id=c.claim.id, text=c.claim.text, verdict=c.claim.verdict, similarity=c.similarity, level=c.level) for c in d.claims],
        story=[StoryOut(article_id=m.article.id, title=m.article.title, url=m.article.url, outlet=m.outlet, published_at=m.article.published_at, is_copy=m.copy) for m in d.story],
        history=[history_event(e, tz) for e in d.events],
    )


def history_event(event: ReviewEvent, tz: ZoneInfo) -> Event:
    """An event as the API shows it: the action and note in Vietnamese, the time also on the city's clock."""
    return Event(
        at=event.at, at_local=local_text(event.at, tz.key), clock=tz_caption(tz.key, event.at),
        user=event.user.username if event.user else None, action=event.action,
        action_label=present.ACTION_LABELS.get(event.action, event.action), before=event.before, after=event.after,
        note=present.event_note(event.note),
    )


@router.get("/items/{item_id}", response_model=ItemOut)
def item(request: Request, item_id: int = Path(ge=1), session: Session = Depends(db)) -> ItemOut:
    """One item with highlights, reasons, claim matches, story mates and history."""
    need_user(request, session)
    return item_out(session, item_id, state(request).tz)


@router.post("/items/{item_id}/actions", response_model=ActionResult)
def act(
    request: Request,
    body: Action,
    item_id: int = Path(ge=1),
    x_csrf_token: str | None = Header(default=None, alias=CSRF_HEADER),
    session: Session = Depends(db),
) -> ActionResult:
    """Take, assign, escalate, verdict, reopen, claim or note; send the X-CSRF-Token header from /api/me."""
    user = need_user(request, session)
    check_csrf(request, x_csrf_token)
    from review.web import DONE, recheck_claim, run_action

    fields = {k: str(v.value if hasattr(v, "value") else v) for k, v in body.model_dump().items() if v is not None}
    try:
        with core.transaction(session):
            result = run_action(session, user, item_id, body.action, fields)
            claim_id = result.id if body.action == "claim" else None
    except service.AlreadyDone as done:  # already so: not an error
        session.rollback()
        return ActionResult(ok=True, message=str(done), item=item_out(session, item_id, state(request).tz))
    state(request).counts.clear()
    message = DONE.get(body.action, "")
    if claim_id is not None:
        message = f"Đã thêm vào kho tin sai (#{claim_id}). " + recheck_claim(request, claim_id)
    return ActionResult(ok=True, message=message, item=item_out(session, item_id, state(request).tz))


class LabelsIn(BaseModel):
    """A reviewer's labels for an article: education, NQ71 relevance and task groups (1-8)."""

    is_education: bool
    relevance: Relevance
    themes: list[int] = Field(default_factory=list, max_length=8)
    note: str | None = Field(default=None, max_length=present.MAX_NOTE)


class Correction(BaseModel):
    at: datetime
    user: str | None
    is_education: bool
    relevance: Relevance
    themes: list[int]
    before: dict[str, Any] | None
    note: str | None


class ArticleLabels(BaseModel):
    article_id: int
    model: dict[str, Any] | None  # the classifier's current labels
    corrections: list[Correction]  # newest first; the first one is what training uses


def article_labels(session: Session, article_id: int) -> ArticleLabels:
    article = review_queue.get_article(session, article_id)
    return ArticleLabels(
        article_id=article.id,
        model=labels_of(article.classification),
        corrections=[
            Correction(at=c.at, user=who, before=c.before, note=c.note, **(labels_of(c) or {}))
            for c, who in corrections_for(session, article_id)
        ],
    )


@router.get("/articles/{article_id}/labels", response_model=ArticleLabels)
def get_labels(request: Request, article_id: int = Path(ge=1, le=2**63 - 1), session: Session = Depends(db)) -> ArticleLabels:
    """The classifier's labels of an article and reviewers' corrections of them."""
    need_user(request, session)
    return article_labels(session, article_id)


@router.post("/articles/{article_id}/labels", response_model=ArticleLabels)
def set_labels(
    request: Request,
    body: LabelsIn,
    article_id: int = Path(ge=1, le=2**63 - 1),
    x_csrf_token: str | None = Header(default=None, alias=CSRF_HEADER),
    session: Session = Depends(db),
) -> ArticleLabels:
    """Correct an article's labels (any reviewer, any article); send the X-CSRF-Token header from /api/me."""
    user = need_user(request, session)
    check_csrf(request, x_csrf_token)
    edu = "1" if body.is_education else "0"
    with core.transaction(session):
        given = present.parse_labels(edu, body.relevance.value, [str(t) for t in body.themes], body.note)
        service.correct(session, user, article_id, given)
    return article_labels(session, article_id)


@router.get("/claims", response_model=list[ClaimOut])
def claims(request: Request, session: Session = Depends(db)) -> list[ClaimOut]:
    """The claim registry with the articles matched to each claim."""
    need_user(request, session)
    return [
        ClaimOut(
            id=r.claim.id,
            text=r.claim.text,
            verdict=r.claim.verdict,
            refutation_url=r.claim.refutation_url,
            author=r.author,
            created_at=r.claim.created_at,
            matches=[{"article_id": a.id, "title": a.title, "url": a.url, "outlet": o, "similarity": s, "level": lv} for a, o, s, lv in r.matches],
        )
        for r in review_queue.claims_with_matches(session)
    ]
