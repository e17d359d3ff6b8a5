"""Weekly and period coverage against hand-computed figures (tests/report/data.py)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session, sessionmaker

from report.weekly import period_coverage, recent_weeks, weekly_coverage
from report.weeks import PeriodError, day_period, parse_week, week_of
from settings import Settings
from store.models import Relevance
from tests.report.report_data import EXPECTED, EXPECTED_TOTALS, WEEK, build_week, ict


def test_week_boundaries_follow_hai_phong_wall_clock() -> None:
    assert week_of(ict(22, 23, 30), "Asia/Ho_Chi_Minh") == "2026-W47"  # Sunday 23:30 ICT
    assert week_of(ict(23, 0, 30), "Asia/Ho_Chi_Minh") == "2026-W48"  # Monday 00:30 ICT (still Sunday in UTC)
    p = parse_week("2026-W47", "Asia/Ho_Chi_Minh")
    assert (p.first_day, p.last_day) == (date(2026, 11, 16), date(2026, 11, 22))
    assert p.start.isoformat() == "2026-11-15T17:00:00+00:00"
    assert p.end.isoformat() == "2026-11-22T17:00:00+00:00"
    assert parse_week("2026w5", "Asia/Ho_Chi_Minh").label == "2026-W05"


@pytest.mark.parametrize("bad", ["2026-47", "W47", "2026-W54", "tuần 47"])
def test_bad_week_is_a_one_line_user_error(bad: str) -> None:
    with pytest.raises(PeriodError, match="week"):
        parse_week(bad, "Asia/Ho_Chi_Minh")


def test_period_must_not_end_before_it_starts() -> None:
    with pytest.raises(PeriodError, match="swap"):
        day_period(date(2026, 9, 30), date(2026, 7, 1), "Asia/Ho_Chi_Minh")


def test_weekly_rows_match_hand_computed_figures(sessions: sessionmaker[Session], settings: Settings) -> None:
    with sessions() as s, s.begin():
        build_week(s)
    with sessions() as s:
        cov = weekly_coverage(s, WEEK, settings)
    rows = {r["outlet"]: r for r in cov.rows}
    assert set(rows) == set(EXPECTED)  # the school with no item at all is listed, not omitted
    for slug, expected in EXPECTED.items():
        for key, value in expected.items():
            assert rows[slug][key] == value, (slug, key)
        for n in range(1, 9):
            assert rows[slug][f"g{n}"] == expected.get(f"g{n}", 0), (slug, n)
    assert rows["bao-hai-phong"]["unclassified"] == 1
    for key, value in EXPECTED_TOTALS.items():
        assert cov.totals[key] == value, key
    assert cov.undated == 1
    # city press first, national last
    assert cov.rows[0]["tier"] == "city" and cov.rows[-1]["outlet"] == "vnexpress-giao-duc"


def test_zero_coverage_lists_outlets_and_flags_city_press(sessions: sessionmaker[Session], settings: Settings) -> None:
    with sessions() as s, s.begin():
        build_week(s)
    with sessions() as s:
        cov = weekly_coverage(s, WEEK, settings)
    zero = {z["outlet"]: z for z in cov.zero_coverage}
    assert set(zero) == {"bao-an-ninh-hai-phong", "thcs-le-chan"}
    assert zero["bao-an-ninh-hai-phong"]["city_press"] is True
    assert zero["thcs-le-chan"]["city_press"] is False
    assert zero["bao-an-ninh-hai-phong"]["items"] == 2


def test_flagged_items_of_the_week_only(sessions: sessionmaker[Session], settings: Settings) -> None:
    with sessions() as s, s.begin():
        build_week(s)
    with sessions() as s:
        cov = weekly_coverage(s, WEEK, settings)
    verdicts = sorted((f["verdict"] or "") for f in cov.flagged)
    assert verdicts == ["", "tin_gia", "tin_sai_su_that", "tin_xac_thuc"]
    assert all("xây trường nội trú" not in f["title"] for f in cov.flagged)


def test_next_week_holds_the_monday_item_and_the_late_undated_one(sessions: sessionmaker[Session], settings: Settings) -> None:
    with sessions() as s, s.begin():
        build_week(s)
    with sessions() as s:
        weeks = recent_weeks(s, "2026-W48", 3, settings)
    assert [w.label for w in weeks] == ["2026-W46", "2026-W47", "2026-W48"]
    w46, w47, w48 = ({r["outlet"]: r for r in w.rows} for w in weeks)
    assert w46["so-gddt-hai-phong"]["items"] == 1  # Sunday 23:50 ICT
    assert w47["bao-hai-phong"]["items"] == 6
    assert w48["bao-hai-phong"]["items"] == 1 and w48["bao-hai-phong"]["tin_gia"] == 1
    assert w48["bao-hai-phong"]["undated"] == 1
    assert weeks[2].totals["median_hours"] == 1.0


def test_period_report_sums_the_weeks(sessions: sessionmaker[Session], settings: Settings) -> None:
    with sessions() as s, s.begin():
        build_week(s)
    with sessions() as s:
        cov = period_coverage(s, date(2026, 11, 1), date(2026, 11, 30), settings)
    assert cov.label == "2026-11-01..2026-11-30"
    assert cov.totals["items"] == 16 + 1 + 1  # W47 + Sunday of W46 + Monday of W48
    assert cov.totals["stories"] == 14 + 2
    assert cov.totals["undated"] == 2
    assert cov.totals["tin_gia"] == 2
    assert cov.totals["median_hours"] == 3.0  # [4, 2, 10, 1]


def test_copy_of_an_older_story_counts_as_one_story_of_the_week(sessions: sessionmaker[Session], settings: Settings) -> None:
    with sessions() as s, s.begin():
        b = build_week(s)
        # W48: two outlets republish d2 (published in W47), one of them twice by URL variants
        b.article("x1", "cong-tt-hai-phong", "Triển khai học bạ số tại các trường tiểu học Hải Phòng", ict(24, 8), rel=Relevance.task, themes=(3,), copy_of="d2")
        b.article("x2", "bao-hai-phong", "Triển khai học bạ số tại các trường tiểu học Hải Phòng", ict(24, 9), rel=Relevance.task, themes=(3,), copy_of="d2")
        b.article("x3", "bao-an-ninh-hai-phong", "Triển khai học bạ số tại các trường tiểu học Hải Phòng", ict(25, 9), edu=False, copy_of="d2")
    with sessions() as s:
        w48 = weekly_coverage(s, "2026-W48", settings)
        w47 = weekly_coverage(s, WEEK, settings)
    assert w48.totals["items"] == 1 + 3 and w48.totals["copies"] == 3
    assert w48.totals["stories"] == 2  # a7, and d2 through its three copies
    assert w48.totals["nq71_stories"] == 2  # x3 is not NQ71, x1/x2 are
    assert w47.totals["stories"] == EXPECTED_TOTALS["stories"]


def test_stories_equal_a_distinct_count_of_originals(sessions: sessionmaker[Session], settings: Settings) -> None:
    """The fast stories figure equals the plain definition: distinct coalesce(copy_of_id, id) per period."""
    from sqlalchemy import distinct, func, select

    from store.models import Article

    with sessions() as s, s.begin():
        b = build_week(s)
        b.article("x1", "cong-tt-hai-phong", "Triển khai học bạ số tại các trường tiểu học Hải Phòng", ict(24, 8), copy_of="d2")
        b.article("x2", "bao-hai-phong", "Sở GD&ĐT tổng kết tháng hành động vì trẻ em", ict(17, 8), copy_of="d0")
    with sessions() as s:
        for cov in [*recent_weeks(s, "2026-W48", 3, settings), period_coverage(s, date(2026, 11, 1), date(2026, 11, 30), settings)]:
            story = func.coalesce(Article.copy_of_id, Article.id)
            plain = s.scalar(
                select(func.count(distinct(story))).where(Article.published_at >= cov.period.start, Article.published_at < cov.period.end)
            )
            assert cov.totals["stories"] == plain, cov.label
