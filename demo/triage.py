"""The demo team's first morning: real review actions by demo users, so the queue shows every status.

Each action goes through the review service functions the web app calls (permissions, state machine, audit),
on items found by their article's address; an item the classifier did not queue is skipped, never faked.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from settings import Settings
from demo.setup import DEMO_USER
from store.models import Article, Claim, ReviewItem, Role, User, Verdict
from review.service import add_note, assign, claim_from_item, escalate, give_verdict, take

# (username, role, display name): colleagues of the demo login, who act on items before the visitor arrives
TEAM = [("lan.nguyen", Role.reviewer, "Nguyễn Thị Lan"), ("minh.tran", Role.supervisor, "Trần Văn Minh (giám sát)")]
RUMOUR = "hoichamehshaiphong/posts/55120001"  # "Hải Phòng bỏ thi vào lớp 10, chỉ xét học bạ"
DEBUNK = "/haiphongedu/tin-tuc/thong-tin-bo-thi-tuyen-sinh-lop-10-la-sai-su-that.html"
CLAIM = "Hải Phòng bỏ kỳ thi tuyển sinh vào lớp 10 công lập, chỉ xét tuyển bằng học bạ"


@dataclass(frozen=True)
class Step:
    """One review action on the item of the article whose address ends with ``url_end``."""

    url_end: str
    user: str
    act: Callable[[Session, ReviewItem, User], object]


def _users(session: Session) -> dict[str, User]:
    """The demo team, created on first use (random passwords: they act here, they do not log in)."""
    from review.users import create_user

    users = {u.username: u for u in session.scalars(select(User).where(User.username.in_([t[0] for t in TEAM])))}
    for name, role, display in TEAM:
        if name not in users:
            users[name] = create_user(session, name, secrets.token_urlsafe(18), role, display_name=display)
    return users


def _article(session: Session, url_end: str) -> Article | None:
    return session.scalar(select(Article).where(Article.url.endswith(url_end)).limit(1))


def _item(session: Session, url_end: str) -> ReviewItem | None:
    article = _article(session, url_end)
    if article is None:
        return None
    return session.scalar(select(ReviewItem).where(ReviewItem.article_id == article.id))


def _refute(session: Session, item: ReviewItem, user: User) -> object:
    """Take the rumour, judge it false and register its claim with Sở GD&ĐT's refutation as the link."""
    take(session, item.id, user, item.version)
    give_verdict(session, item.id, user, Verdict.tin_gia,
                 "Sở GD&ĐT đã khẳng định vẫn thi tuyển lớp 10 (Toán, Ngữ văn, Tiếng Anh); bài đăng bịa nguồn tin.", item.version)
    debunk = _article(session, DEBUNK)
    return claim_from_item(session, item.id, user, CLAIM, debunk.url if debunk else None, item.version)


def _escalate(session: Session, item: ReviewItem, user: User) -> object:
    take(session, item.id, user, item.version)
    return escalate(session, item.id, user, "Đề nghị Phòng GD&ĐT kiểm tra việc tổ chức dạy thêm tại trường và phản hồi phụ huynh.",
                    item.version)


def _note(session: Session, item: ReviewItem, user: User) -> object:
    take(session, item.id, user, item.version)
    return add_note(session, item.id, user, "Đã gọi trạm y tế phường Kiến An: chưa ghi nhận ca ngộ độc nào, đang hỏi thêm nhà trường.")


def _false(session: Session, item: ReviewItem, user: User) -> object:
    take(session, item.id, user, item.version)
    return give_verdict(session, item.id, user, Verdict.tin_gia,
                        "Bộ GD&ĐT đã bác bỏ danh sách này; đề án sắp xếp các trường đại học chưa có danh sách.", item.version)


def _hand_to_demo(session: Session, item: ReviewItem, user: User) -> object:
    demo = session.scalar(select(User).where(User.username == DEMO_USER))
    return assign(session, item.id, user, demo.id if demo else user.id, item.version)


STEPS = [
    Step(RUMOUR, "minh.tran", _refute),  # resolved, false; its claim linked to the debunk
    Step("haiphong24h/posts/88410003", "lan.nguyen", _false),  # resolved
    Step("hoichamehshaiphong/posts/55120003", "lan.nguyen", _escalate),  # escalated to Sở GD&ĐT
    Step("hoichamehshaiphong/posts/55120004", "lan.nguyen", _note),  # in progress, with a note
    Step("gochocduonghaiphong/posts/77310002", "minh.tran", _hand_to_demo),  # in progress, the visitor's own
]


def stage_review_work(sessions: sessionmaker[Session], settings: Settings) -> list[str]:
    """Run the demo team's actions once per demo database; returns one line per step that could not run."""
    import jobs

    with sessions() as session:
        if session.scalar(select(User.id).where(User.username == TEAM[0][0])) is not None:
            return []  # the team already worked here: a restarted demo keeps what they (and the visitor) did
    skipped: list[str] = []
    for step in STEPS:
        with sessions() as session, session.begin():
            item = _item(session, step.url_end)
            if item is None:
                skipped.append(f"demo review step skipped: no queued item for …{step.url_end}")
                continue
            step.act(session, item, _users(session)[step.user])
    with sessions() as session, session.begin():  # as the web app does after a claim: copies and refutations matched
        claim_id = session.scalar(select(Claim.id).where(Claim.text == CLAIM))
        if claim_id is not None:
            jobs.recheck_claim(session, jobs.load_classifier(session, settings), claim_id, settings)
    return skipped
