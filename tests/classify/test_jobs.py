"""jobs.py on the real test database: classifications, claim matches, review queue, backlog, claims, stories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import jobs
from settings import Settings
from store.classifications import add_claim
from store.models import (
    Article,
    ClaimMatch,
    Classification,
    Outlet,
    OutletKind,
    ReviewEvent,
    ReviewItem,
    Tier,
)

NOW = datetime.now(UTC)

RUMOUR = dict(
    title="CHIA SẺ GẤP: Hải Phòng dừng bữa ăn bán trú ở tất cả trường tiểu học!!!",
    summary="Nghe nói từ tháng sau các trường mầm non, tiểu học công lập sẽ dừng tổ chức bán trú, phụ huynh phải tự đón con buổi trưa.",
)
POLICY = dict(
    title="Hải Phòng miễn học phí cho học sinh THCS từ năm học 2025-2026",
    summary="HĐND thành phố thông qua nghị quyết miễn học phí cho học sinh trung học cơ sở công lập, ngân sách thành phố chi trả.",
)
OTHER = dict(
    title="Giá thuê kho xưởng ở khu công nghiệp Hải Phòng tăng mạnh",
    summary="Nhu cầu thuê kho bãi tăng khiến giá thuê tại các khu công nghiệp ven biển tăng 10% so với cùng kỳ.",
)


def outlet(session: Session, slug: str, kind: OutletKind, tier: Tier) -> Outlet:
    o = Outlet(slug=slug, name=slug.replace("-", " ").title(), kind=kind, tier=tier, homepage=f"https://{slug}.vn")
    session.add(o)
    session.flush()
    return o


def article(session: Session, o: Outlet, n: int, fields: dict[str, str], hours_ago: float = 2,
            engagement: dict[str, int] | None = None) -> Article:
    a = Article(url=f"https://{o.slug}.vn/bai-{n}", outlet_id=o.id, published_at=NOW - timedelta(hours=hours_ago),
                engagement=engagement, **fields)
    session.add(a)
    session.flush()
    return a


def test_classify_articles_stores_results_and_queues_risky_education_items_once(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with sessions() as s, s.begin():
        social = outlet(s, "hoi-phu-huynh", OutletKind.social, Tier.city)
        press = outlet(s, "bao-hai-phong", OutletKind.press, Tier.city)
        rumour_viral = article(s, social, 1, RUMOUR, engagement={"shares": 5000, "comments": 800, "likes": 12000})
        rumour_quiet = article(s, social, 2, {**RUMOUR, "title": RUMOUR["title"] + " (đăng lại)"}, hours_ago=24 * 9)
        policy = article(s, press, 3, POLICY)
        other = article(s, press, 4, OTHER)
        ids = [rumour_viral.id, rumour_quiet.id, policy.id, other.id]
        clf = jobs.load_classifier(s, settings)
        assert jobs.classify_articles(s, clf, [s.get_one(Article, i) for i in ids], settings) == 4
    with sessions() as s:
        rows = {c.article_id: c for c in s.scalars(select(Classification))}
        assert set(rows) == set(ids)
        assert rows[policy.id].relevance.value == "task" and 6 in rows[policy.id].themes
        assert rows[policy.id].theme_mask == Classification.mask_of(rows[policy.id].themes)
        assert not rows[other.id].is_education and rows[other.id].relevance.value == "none"
        assert rows[rumour_viral.id].risk_score >= settings.review_threshold
        assert {r["code"] for r in rows[rumour_viral.id].reasons} >= {"rumour_marker", "sensational", "source_kind"}
        items = {i.article_id: i for i in s.scalars(select(ReviewItem))}
        assert set(items) == {rumour_viral.id, rumour_quiet.id}  # calm and non-education items are not queued
        # viral and fresh outranks the quiet repost from nine days ago
        assert items[rumour_viral.id].priority > items[rumour_quiet.id].priority > 0
        events = list(s.scalars(select(ReviewEvent)))
        assert {(e.action, e.user_id) for e in events} == {("created", None)} and len(events) == 2
        # the queueing note is in the reviewers' words: risk as a percentage, top reasons as the item page says them
        assert all((e.note or "").startswith("Rủi ro ") and "risk" not in (e.note or "") for e in events), [e.note for e in events]
        version = rows[policy.id].model_version
    # re-running never duplicates a review item nor a classification
    with sessions() as s, s.begin():
        clf = jobs.load_classifier(s, settings)
        jobs.classify_articles(s, clf, [s.get_one(Article, i) for i in ids], settings)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(ReviewItem)) == 2
        assert s.scalar(select(func.count()).select_from(ReviewEvent)) == 2
        assert s.scalar(select(func.count()).select_from(Classification)) == 4
        assert s.scalar(select(Classification.model_version).where(Classification.article_id == policy.id)) == version


def test_backlog_then_claim_recheck(sessions: sessionmaker[Session], settings: Settings) -> None:
    with sessions() as s, s.begin():
        social = outlet(s, "trang-tin-hp", OutletKind.social, Tier.city)
        for n in range(5):
            article(s, social, n, {**OTHER, "title": f"{OTHER['title']} ({n})"}, hours_ago=n)
        article(s, social, 10, RUMOUR, hours_ago=30)
    seen: list[tuple[int, int]] = []
    assert jobs.classify_backlog(sessions, settings, batch=2, progress=lambda d, t: seen.append((d, t))) == 6
    assert seen[-1] == (6, 6) and len(seen) == 3
    assert jobs.classify_backlog(sessions, settings) == 0  # nothing left at this model version
    with sessions() as s, s.begin():
        claim = add_claim(s, "Hải Phòng dừng tổ chức bữa ăn bán trú tại các trường mầm non và tiểu học công lập.",
                          "tin_gia", "https://haiphong.edu.vn/bac-bo")
        clf = jobs.load_classifier(s, settings)
        assert jobs.recheck_claim(s, clf, claim.id, settings) == 1
        claim_id = claim.id
    with sessions() as s:
        match = s.scalars(select(ClaimMatch)).one()
        assert match.claim_id == claim_id and match.level in ("suggest", "auto")
        c = s.scalar(select(Classification).where(Classification.article_id == match.article_id))
        assert c is not None and c.claim_matches[0]["claim_id"] == claim_id
        assert "claim_match" in {r["code"] for r in c.reasons}


def test_story_clusters_join_paraphrases_and_keep_copies_with_their_original(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with sessions() as s, s.begin():
        a_out = outlet(s, "bao-a", OutletKind.press, Tier.national)
        b_out = outlet(s, "bao-b", OutletKind.press, Tier.city)
        c_out = outlet(s, "cong-c", OutletKind.portal, Tier.city)
        first = article(s, a_out, 1, dict(
            title="Bộ GD&ĐT chốt dùng một bộ sách giáo khoa thống nhất từ năm học 2026-2027",
            summary="Bộ Giáo dục và Đào tạo cho biết một bộ sách giáo khoa thống nhất toàn quốc sẽ dùng từ năm học 2026-2027."), hours_ago=10)
        para = article(s, b_out, 2, dict(
            title="Từ năm học 2026-2027, cả nước dùng một bộ sách giáo khoa thống nhất",
            summary="Theo Bộ Giáo dục và Đào tạo, bộ sách giáo khoa thống nhất toàn quốc được đưa vào sử dụng từ năm học 2026-2027."), hours_ago=5)
        copy = article(s, c_out, 3, dict(title=para.title, summary=para.summary), hours_ago=4)
        copy.copy_of_id, copy.cluster_id = para.id, para.id  # the crawler's MinHash copy link
        unrelated = article(s, b_out, 4, OTHER, hours_ago=3)
        first.cluster_id = first.id
        s.flush()
        clf = jobs.load_classifier(s, settings)
        jobs.classify_articles(s, clf, [para, copy, unrelated], settings)
        ids = (first.id, para.id, copy.id, unrelated.id)
    with sessions() as s:
        clusters = {a.id: a.cluster_id for a in s.scalars(select(Article))}
        assert clusters[ids[1]] == ids[0]  # paraphrased headline joins the earlier story
        assert clusters[ids[2]] == ids[0]  # the copy follows its original into the story
        assert clusters[ids[3]] == ids[3]


def test_cached_classifier_is_reused_and_sees_new_claims(sessions: sessionmaker[Session], settings: Settings) -> None:
    with sessions() as s, s.begin():
        first = jobs.cached_classifier(s, settings)
        assert jobs.cached_classifier(s, settings) is first and first.matcher.claims == []
        add_claim(s, "Tất cả trường tư thục sẽ bị giải thể từ năm học tới.", "tin_gia")
    with sessions() as s:
        again = jobs.cached_classifier(s, settings)
        assert again is first and [c.text for c in again.matcher.claims] == ["Tất cả trường tư thục sẽ bị giải thể từ năm học tới."]
