"""Stories on the real test database: a story keeps its start, so it cannot creep forward window by window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

import jobs
from store.models import Article, Outlet, OutletKind, Tier

NOW = datetime.now(UTC)
TITLE = "Hải Phòng chốt lịch thi vào lớp 10 công lập năm học 2026-2027 vào ngày 3 và 4/6"
SUMMARY = "Sở GD&ĐT Hải Phòng cho biết kỳ thi vào lớp 10 công lập gồm ba môn Toán, Ngữ văn, Tiếng Anh."


def test_an_item_does_not_join_a_story_begun_more_than_three_days_before_it(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        outlets = []
        for slug in ("bao-a", "bao-b", "bao-c", "bao-d"):
            o = Outlet(slug=slug, name=slug, kind=OutletKind.press, tier=Tier.city, homepage=f"https://{slug}.vn")
            s.add(o)
            outlets.append(o)
        s.flush()

        def report(n: int, days_ago: float, cluster: int | None) -> Article:
            a = Article(url=f"https://{outlets[n].slug}.vn/lich-thi", outlet_id=outlets[n].id, title=TITLE,
                        summary=SUMMARY, published_at=NOW - timedelta(days=days_ago))
            s.add(a)
            s.flush()
            a.cluster_id = cluster or a.id
            return a

        first = report(0, 5.0, None)  # outside the new item's window: not loaded as a neighbour
        middle = report(1, 2.5, first.id)  # inside it, a member of the same story
        inside = report(3, 2.2, None)  # 2.8 days after the story began: the same words join it
        jobs.assign_story_clusters(s, [inside])
        assert inside.cluster_id == middle.cluster_id == first.id
        late = report(2, 0.0, None)  # its window holds only the story's later members
        jobs.assign_story_clusters(s, [late])
        assert late.cluster_id == late.id  # same words, but the story began five days earlier
