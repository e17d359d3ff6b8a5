"""Seed data and helpers for the review tests: realistic Vietnamese items written through the models."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from functools import lru_cache

from review.users import hash_password
from store.models import (
    Article,
    Claim,
    ClaimMatch,
    Classification,
    DateSource,
    Feed,
    FeedKind,
    FetchStatus,
    Outlet,
    OutletKind,
    Relevance,
    ReviewItem,
    ReviewStatus,
    Role,
    Tier,
    User,
    Verdict,
)

PASSWORD = "mật-khẩu-đủ-dài-2026"
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)

RUMOUR_TEXT = (
    "Một tài khoản TikTok lan truyền thông tin rằng Hải Phòng sẽ dừng tổ chức bữa ăn bán trú tại các "
    "trường mầm non và tiểu học công lập từ học kỳ II. Bài đăng còn khẳng định phụ huynh phải tự mang "
    "cơm cho con. Sở Giáo dục và Đào tạo chưa có văn bản nào như vậy; nhiều phụ huynh ở quận Lê Chân "
    "đã gọi điện hỏi nhà trường."
)
MERGER_TEXT = (
    "Trên mạng xã hội xuất hiện danh sách sáp nhập các trường đại học, trong đó có hai trường ở Hải Phòng. "
    "Bộ Giáo dục và Đào tạo khẳng định đề án sắp xếp cơ sở giáo dục đại học vẫn đang lấy ý kiến, "
    "chưa có danh sách chính thức."
)
ALLOWANCE_TEXT = (
    "Theo Nghị quyết 71-NQ/TW, phụ cấp ưu đãi nghề cho giáo viên mầm non và phổ thông được nâng lên tối "
    "thiểu 70%, riêng vùng đặc biệt khó khăn là 100%. Thành phố Hải Phòng đang rà soát đội ngũ để áp dụng."
)


@lru_cache(maxsize=1)
def _password_hash() -> str:
    return hash_password(PASSWORD)


def span(text: str, phrase: str) -> dict[str, object]:
    """An evidence span {text,start,end,field} for a phrase that occurs in the article's text field."""
    start = text.index(phrase)
    return {"text": phrase, "start": start, "end": start + len(phrase), "field": "text"}


@dataclass
class World:
    """Ids of what the seed wrote."""

    reviewer: int
    reviewer2: int
    supervisor: int
    admin: int
    rumour_item: int
    merger_item: int
    allowance_item: int
    resolved_item: int
    outlet_city: int
    outlet_social: int
    feed: int
    claim: int


def seed(sessions: sessionmaker[Session]) -> World:
    """Three outlets, four flagged articles (one story carried by two outlets), a claim, four users."""
    with sessions() as s, s.begin():
        users = {}
        for name, role in [("thamdinh.lan", Role.reviewer), ("thamdinh.minh", Role.reviewer), ("giamsat.hoa", Role.supervisor), ("quantri", Role.admin)]:
            # argon2 is slow on purpose: hash once per test process, not four times per test
            user = User(username=name, password_hash=_password_hash(), role=role, display_name=None, active=True)
            s.add(user)
            s.flush()
            users[name] = user.id
        city = Outlet(slug="baohaiphong", name="Báo và PT-TH Hải Phòng", kind=OutletKind.press, tier=Tier.city, homepage="https://baohaiphong.vn", has_nq71_section=True)
        social = Outlet(slug="tiktok-hp", name="Trang TikTok “Hải Phòng 24h”", kind=OutletKind.social, tier=Tier.city, homepage="https://www.tiktok.com/@haiphong24h")
        national = Outlet(slug="vnexpress", name="VnExpress Giáo dục", kind=OutletKind.press, tier=Tier.national, homepage="https://vnexpress.net")
        s.add_all([city, social, national])
        s.flush()
        feed = Feed(outlet_id=city.id, url="https://baohaiphong.vn/rss/giao-duc.rss", kind=FeedKind.rss, status=FetchStatus.http_error,
                    http_status=503, status_message="HTTP 503 Service Unavailable", last_success_at=NOW - timedelta(days=2))
        s.add(feed)

        def article(outlet: Outlet, slug: str, title: str, text: str, days: int, cluster: int | None = None, copy_of: int | None = None) -> Article:
            a = Article(url=f"{outlet.homepage}/{slug}", outlet_id=outlet.id, title=title, text=text, published_at=NOW - timedelta(days=days),
                        date_source=DateSource.feed, cluster_id=cluster, copy_of_id=copy_of)
            s.add(a)
            s.flush()
            return a

        rumour = article(social, "video/7301", "Hải Phòng dừng bữa ăn bán trú ở trường tiểu học công lập?", RUMOUR_TEXT, 1, cluster=501)
        rumour_copy = article(city, "xac-minh-tin-dung-ban-tru", "Xác minh tin đồn dừng bữa ăn bán trú", RUMOUR_TEXT, 0, cluster=501, copy_of=rumour.id)
        merger = article(national, "danh-sach-sap-nhap-dai-hoc", "Lan truyền danh sách sáp nhập trường đại học", MERGER_TEXT, 3)
        allowance = article(city, "phu-cap-giao-vien-70", "Phụ cấp ưu đãi giáo viên tăng lên tối thiểu 70%", ALLOWANCE_TEXT, 5)
        claim = Claim(text="Hải Phòng dừng tổ chức bữa ăn bán trú tại các trường mầm non và tiểu học công lập.", verdict=Verdict.tin_gia,
                      refutation_url="https://haiphong.edu.vn/tin-tuc/bac-bo-tin-dung-ban-tru")
        s.add(claim)
        s.flush()
        s.add(ClaimMatch(claim_id=claim.id, article_id=rumour.id, similarity=0.82, level="auto"))

        def classify(a: Article, risk: float, themes: list[int], reasons: list[dict[str, object]]) -> None:
            s.add(Classification(article_id=a.id, model_version="test-1", is_education=True, education_score=0.97, relevance=Relevance.task,
                                 relevance_score=0.8, theme_mask=Classification.mask_of(themes), risk_score=risk, reasons=reasons,
                                 evidence={"phrases": [span(a.text, "Hải Phòng")]} if "Hải Phòng" in a.text else {}))

        classify(rumour, 0.91, [6], [
            {"code": "unverified_claim", "label": "Khẳng định chưa có nguồn chính thức", "weight": 0.6, "evidence": [span(RUMOUR_TEXT, "dừng tổ chức bữa ăn bán trú")]},
            {"code": "social_origin", "label": "Nguồn mạng xã hội", "weight": 0.3, "evidence": [span(RUMOUR_TEXT, "phụ huynh phải tự mang cơm cho con")]},
        ])
        classify(merger, 0.55, [7], [{"code": "list_rumour", "label": "Danh sách chưa được công bố", "weight": 0.5, "evidence": [span(MERGER_TEXT, "danh sách sáp nhập")]}])
        classify(allowance, 0.2, [5], [])
        items = {}
        for a, prio, status in [(rumour, 0.95, ReviewStatus.new), (merger, 0.6, ReviewStatus.new), (allowance, 0.3, ReviewStatus.new)]:
            item = ReviewItem(article_id=a.id, priority=prio, status=status, created_at=NOW)
            s.add(item)
            s.flush()
            items[a.id] = item.id
        resolved = ReviewItem(article_id=rumour_copy.id, priority=0.4, status=ReviewStatus.resolved, verdict=Verdict.tin_gia,
                              assignee_id=users["thamdinh.lan"], created_at=NOW, resolved_at=NOW, note="Trùng tin đồn đã bác bỏ.")
        s.add(resolved)
        s.flush()
        return World(users["thamdinh.lan"], users["thamdinh.minh"], users["giamsat.hoa"], users["quantri"], items[rumour.id], items[merger.id],
                     items[allowance.id], resolved.id, city.id, social.id, feed.id, claim.id)


CSRF_RE = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token in a rendered page."""
    m = CSRF_RE.search(html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token."""
    page = client.get("/login")
    r = client.post("/login", data={"username": username, "password": password, "csrf": csrf_of(page.text), "next": "/queue"})
    assert r.status_code == 303, r.text
    return csrf_of(client.get("/queue").text)


def snapshot(sessions: sessionmaker[Session]) -> dict[str, object]:
    """Everything a review action could change, to prove a refused action changed nothing."""
    from sqlalchemy import select

    from store.models import ReviewEvent, User

    with sessions() as s:
        return {
            "items": [tuple(r) for r in s.execute(select(ReviewItem.id, ReviewItem.version, ReviewItem.status, ReviewItem.verdict, ReviewItem.assignee_id, ReviewItem.note).order_by(ReviewItem.id))],
            "events": [tuple(r) for r in s.execute(select(ReviewEvent.id, ReviewEvent.action).order_by(ReviewEvent.id))],
            "claims": [tuple(r) for r in s.execute(select(Claim.id, Claim.text).order_by(Claim.id))],
            "users": [tuple(r) for r in s.execute(select(User.username, User.role, User.active).order_by(User.id))],
            "feeds": [tuple(r) for r in s.execute(select(Feed.id, Feed.paused).order_by(Feed.id))],
        }


def item_version(sessions: sessionmaker[Session], item_id: int) -> int:
    """The item's current version (what a page would carry in its forms)."""
    with sessions() as s:
        item = s.get(ReviewItem, item_id)
        assert item is not None
        return item.version


def post_action(client: TestClient, csrf: str, item_id: int, action: str, version: int | None, **fields: str) -> Any:
    """Submit an item action form the way the page does."""
    data = {"csrf": csrf, **fields}
    if version is not None:
        data["version"] = str(version)
    return client.post(f"/items/{item_id}/{action}", data=data)
