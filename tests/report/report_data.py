"""A hand-checked week of Hải Phòng education coverage (2026-W47) with edge cases at the week boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy.orm import Session

from store.models import (
    Article,
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
    Tier,
    Verdict,
)

ICT = timezone(timedelta(hours=7))
WEEK = "2026-W47"  # Monday 16/11/2026 .. Sunday 22/11/2026 in Asia/Ho_Chi_Minh


def ict(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    """A wall-clock time in Hải Phòng (UTC+7) in November 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=ICT)


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


OUTLETS = [
    ("bao-hai-phong", "Báo và Phát thanh, Truyền hình Hải Phòng", OutletKind.press, Tier.city, True),
    ("bao-an-ninh-hai-phong", "Báo An ninh Hải Phòng", OutletKind.press, Tier.city, False),
    ("cong-tt-hai-phong", "Cổng Thông tin điện tử thành phố Hải Phòng", OutletKind.portal, Tier.city, False),
    ("so-gddt-hai-phong", "Sở Giáo dục và Đào tạo Hải Phòng", OutletKind.agency, Tier.city, True),
    ("vnexpress-giao-duc", "VnExpress - Giáo dục", OutletKind.press, Tier.national, False),
    ("thcs-le-chan", "Trường THCS Lê Chân", OutletKind.school, Tier.city, False),
]


class Builder:
    """Adds outlets and articles with classifications; remembers ids by a short key."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self.outlets: dict[str, Outlet] = {}
        self.articles: dict[str, Article] = {}

    def outlet(self, slug: str, name: str, kind: OutletKind, tier: Tier, section: bool) -> Outlet:
        o = Outlet(slug=slug, name=name, kind=kind, tier=tier, homepage=f"https://{slug}.vn", has_nq71_section=section)
        self.s.add(o)
        self.s.flush()
        self.outlets[slug] = o
        return o

    def article(
        self,
        key: str,
        outlet: str,
        title: str,
        published: datetime | None,
        edu: bool | None = True,
        rel: Relevance = Relevance.none,
        themes: tuple[int, ...] = (),
        copy_of: str | None = None,
        collected: datetime | None = None,
    ) -> Article:
        a = Article(
            url=f"https://{outlet}.vn/{key}.html",
            outlet_id=self.outlets[outlet].id,
            title=title,
            text=title + ". Nội dung bài viết.",
            published_at=published,
            date_source=DateSource.page_meta if published else DateSource.none,
            collected_at=collected or (published + timedelta(hours=1) if published else utc(20, 3)),
            copy_of_id=self.articles[copy_of].id if copy_of else None,
        )
        self.s.add(a)
        self.s.flush()
        if edu is not None:  # None: not classified yet
            self.s.add(
                Classification(
                    article_id=a.id, model_version="test", is_education=edu, education_score=0.9 if edu else 0.1,
                    relevance=rel, relevance_score=0.8 if rel != Relevance.none else 0.1,
                    theme_mask=Classification.mask_of(list(themes)),
                )
            )
        self.articles[key] = a
        return a

    def review(self, key: str, created: datetime, resolved: datetime | None = None, verdict: Verdict | None = None) -> ReviewItem:
        item = ReviewItem(
            article_id=self.articles[key].id, priority=0.7, created_at=created,
            status=ReviewStatus.resolved if resolved else ReviewStatus.new, verdict=verdict, resolved_at=resolved,
        )
        self.s.add(item)
        self.s.flush()
        return item


def build_week(session: Session) -> Builder:
    """The W47 data set; the expected figures are in EXPECTED (worked out by hand)."""
    b = Builder(session)
    for spec in OUTLETS:
        b.outlet(*spec)
    T, X = Relevance.task, Relevance.explicit
    # Sở GD&ĐT: the original of a story two other outlets republish
    b.article("d0", "so-gddt-hai-phong", "Sở GD&ĐT tổng kết tháng hành động vì trẻ em", ict(15, 23, 50), rel=T, themes=(1,))  # Sunday W46
    b.article("d1", "so-gddt-hai-phong", "Sở GD&ĐT hướng dẫn tuyển sinh lớp 10 năm học 2027-2028", ict(16, 8), rel=T, themes=(4,))
    b.article("d2", "so-gddt-hai-phong", "Triển khai học bạ số tại các trường tiểu học Hải Phòng", ict(21, 9), rel=T, themes=(3,))
    # Báo Hải Phòng: first minutes of Monday (UTC still says Sunday), last minutes of Sunday, next Monday
    b.article("a1", "bao-hai-phong", "Hải Phòng quán triệt Nghị quyết 71-NQ/TW về đột phá phát triển giáo dục",
              ict(16, 0, 10), rel=X, themes=(1, 5))
    b.article("a2", "bao-hai-phong", "Giáo viên Hải Phòng được hưởng phụ cấp ưu đãi tối thiểu 70%", ict(18, 9), rel=T, themes=(5,))
    b.article("a3", "bao-hai-phong", "Học sinh Hải Phòng giành 5 huy chương Olympic Toán", ict(22, 23, 30))
    b.article("a4", "bao-hai-phong", "Khánh thành cầu Rào 1 mới", ict(19, 10), edu=False)
    b.article("a5", "bao-hai-phong", "Sở GD&ĐT hướng dẫn tuyển sinh lớp 10 năm học 2027-2028", ict(16, 15), rel=T, themes=(4,), copy_of="d1")
    b.article("a6", "bao-hai-phong", "Phường Ngô Quyền ra quân làm sạch môi trường", ict(17, 14), edu=None)
    b.article("a7", "bao-hai-phong", "Hải Phòng xây trường nội trú cho học sinh vùng biên", ict(23, 0, 30), rel=T, themes=(6,))  # W48
    b.article("u1", "bao-hai-phong", "Thông báo lịch tiếp công dân của Sở", None, edu=False, collected=utc(20, 3))
    b.article("u2", "bao-hai-phong", "Thông báo nghỉ Tết Dương lịch", None, edu=False, collected=utc(24, 3))  # collected in W48
    # Báo An ninh Hải Phòng: city press, education items but nothing on NQ71
    b.article("b1", "bao-an-ninh-hai-phong", "Công an phường Lê Chân tuyên truyền an toàn giao thông cho học sinh", ict(20, 8))
    b.article("b2", "bao-an-ninh-hai-phong", "Triệt phá đường dây đánh bạc qua mạng", ict(21, 20), edu=False)
    # city portal: runs the syndicated story and one explicit item
    b.article("c1", "cong-tt-hai-phong", "Sở GD&ĐT hướng dẫn tuyển sinh lớp 10 năm học 2027-2028", ict(17, 7), rel=T, themes=(4,), copy_of="d1")
    b.article("c2", "cong-tt-hai-phong", "HĐND thành phố thông qua chính sách miễn học phí theo Nghị quyết 71",
              ict(17, 16), rel=X, themes=(2, 6))
    # VnExpress: national press with rumours that reviewers decided
    b.article("e1", "vnexpress-giao-duc", "Sắp xếp các trường đại học theo Nghị quyết 71: lộ trình đến 2030", ict(19, 11), rel=X, themes=(7,))
    b.article("e2", "vnexpress-giao-duc", "Tin đồn các trường dừng bữa trưa bán trú từ tháng 12", ict(20, 12), rel=T, themes=(6,))
    b.article("e3", "vnexpress-giao-duc", "Phụ huynh bị phạt 5 triệu đồng nếu con mang điện thoại đến lớp?", ict(21, 10), rel=T, themes=(4,))
    b.article("e4", "vnexpress-giao-duc", "Mạng xã hội lan truyền clip bắt cóc học sinh", ict(22, 15))
    b.review("a2", utc(18, 10), utc(18, 14), Verdict.tin_xac_thuc)  # 4 h
    b.review("e2", utc(20, 5), utc(20, 7), Verdict.tin_gia)  # 2 h
    b.review("e3", utc(21, 3), utc(21, 13), Verdict.tin_sai_su_that)  # 10 h
    b.review("e4", utc(22, 9))  # still open
    b.review("a7", utc(23, 9), utc(23, 10), Verdict.tin_gia)  # W48: not in this week
    return b


# row figures: items, copies, education, explicit, task, nq71 share %, groups, flagged, gia, sai, median h, undated
EXPECTED: dict[str, dict[str, Any]] = {
    "bao-hai-phong": dict(items=6, copies=1, education=4, nq71_explicit=1, nq71_task=2, nq71=3, nq71_share=75.0,
                          g1=1, g4=1, g5=2, flagged=1, tin_gia=0, tin_sai_su_that=0, median_hours=4.0, undated=1),
    "bao-an-ninh-hai-phong": dict(items=2, copies=0, education=1, nq71_explicit=0, nq71_task=0, nq71=0, nq71_share=0.0,
                                  flagged=0, median_hours=None, undated=0),
    "cong-tt-hai-phong": dict(items=2, copies=1, education=2, nq71_explicit=1, nq71_task=1, nq71=2, nq71_share=100.0,
                              g2=1, g4=1, g6=1),
    "so-gddt-hai-phong": dict(items=2, copies=0, education=2, nq71_explicit=0, nq71_task=2, nq71=2, nq71_share=100.0, g3=1, g4=1),
    "vnexpress-giao-duc": dict(items=4, education=4, nq71_explicit=1, nq71_task=2, nq71=3, nq71_share=75.0, g4=1, g6=1, g7=1,
                               flagged=3, tin_gia=1, tin_sai_su_that=1, median_hours=6.0),
    "thcs-le-chan": dict(items=0, education=0, nq71=0, nq71_share=None, flagged=0, undated=0),
}
EXPECTED_TOTALS = dict(items=16, copies=2, stories=14, nq71_stories=8, education=13, nq71_explicit=3, nq71_task=7, nq71=10,
                       nq71_share=76.9, g1=1, g2=1, g3=1, g4=4, g5=2, g6=2, g7=1, g8=0, flagged=4, tin_gia=1,
                       tin_sai_su_that=1, median_hours=4.0, undated=1, outlets=6, outlets_with_nq71=4,
                       city_press=2, city_press_with_nq71=1, city_press_with_section=1, outlets_with_section=2)


def add_feed(session: Session, outlet: Outlet, url: str, status: FetchStatus, last_success: datetime | None,
             last_attempt: datetime | None, created: datetime, paused: bool = False) -> Feed:
    """A feed with a given health record."""
    f = Feed(outlet_id=outlet.id, url=url, kind=FeedKind.rss, status=status, last_success_at=last_success,
             last_attempt_at=last_attempt, created_at=created, paused=paused)
    session.add(f)
    session.flush()
    return f
