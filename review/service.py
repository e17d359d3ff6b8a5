"""Review actions: who may do what (roles), the item's state machine, and the audit event each action writes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from review.present import MAX_CLAIM, MAX_NOTE, ROLE_LABELS, Labels, clean_text, clean_url
from store import corrections as cs
from store.classifications import CLAIM_VERDICTS, ClaimError, add_claim
from store.models import Claim, Feed, LabelCorrection, ReviewEvent, ReviewItem, ReviewStatus, Role, User, Verdict, utcnow
from store.queue import NotFound, ReviewError, claim_of_article, get_article, get_item, last_actor, last_verdict

ROLE_RANK: dict[Role, int] = {Role.reviewer: 1, Role.supervisor: 2, Role.admin: 3}
NOTE_REQUIRED = frozenset(CLAIM_VERDICTS)  # a false verdict is explained: it may become a registered claim
HIGH_RISK_NOTE = 0.8  # closing an item this risky as "Không liên quan" needs a note saying why
REOPEN_OWN_HOURS = 24  # a reviewer may reopen their own verdict this long after giving it


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


# --- the item's state machine ----------------------------------------------------------------
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
        who = last_actor(session, item.id)
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


def _hand_to(session: Session, item: ReviewItem, user: User, assignee_id: int, action: str) -> ReviewItem:
    """Give the item to ``assignee_id`` (a new item starts being worked on) and audit it as ``action``."""
    before = _snapshot(session, item)
    item.assignee_id = assignee_id
    if item.status == ReviewStatus.new:
        item.status = ReviewStatus.in_progress
    _commit_change(session, item, user, action, before, None)
    return item


def take(session: Session, item_id: int, user: User, expected_version: int | None) -> ReviewItem:
    """Assign the item to the user and mark it in progress."""
    item = _load_for_action(session, item_id, user, expected_version)
    if item.status == ReviewStatus.resolved:
        raise ReviewError("Mục đã xử lý xong; giám sát viên cần mở lại trước khi nhận.")
    if item.assignee_id == user.id and item.status != ReviewStatus.new:
        raise AlreadyDone("Mục này đã giao cho bạn; bạn có thể ghi chú hoặc kết luận ngay.")
    _may_work_on(user, item)
    return _hand_to(session, item, user, user.id, "take")


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
    return _hand_to(session, item, user, target.id, "assign")


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
    last = last_verdict(session, item.id)
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
    if item.status != ReviewStatus.resolved or item.verdict not in CLAIM_VERDICTS:
        raise ReviewError("Chỉ thêm vào kho tin sai từ mục đã kết luận Tin giả hoặc Tin sai sự thật.")
    _may_work_on(user, item)  # the same rule as every other action: the assignee or a supervisor
    exists = claim_of_article(session, item.article_id)
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


# --- feeds and labels ------------------------------------------------------------------------
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


def correct(session: Session, user: User, article_id: int, labels: Labels) -> LabelCorrection:
    """Any reviewer may correct any article's labels; each correction is kept with who, when and before."""
    require_role(user, Role.reviewer)
    article = get_article(session, article_id)
    return cs.add_correction(
        session, article, user.id, is_education=labels.is_education, relevance=labels.relevance,
        themes=labels.themes, note=labels.note,
    )
