"""Constraints live in the database: uniqueness, enums, foreign keys, tz-aware times, optimistic locks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from store.models import Article, Classification, Outlet, OutletKind, ReviewItem, Tier


def _outlet(slug: str = "bao-hai-phong") -> Outlet:
    return Outlet(slug=slug, name="Báo Hải Phòng", kind=OutletKind.press, tier=Tier.city, homepage="https://baohaiphong.vn")


def test_outlet_slug_is_unique_in_the_database(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        s.add(_outlet())
    with pytest.raises(IntegrityError):
        with sessions() as s, s.begin():
            s.add(_outlet())


def test_article_url_unique_and_times_come_back_utc(sessions: sessionmaker[Session]) -> None:
    ict = timezone(timedelta(hours=7))
    with sessions() as s, s.begin():
        o = _outlet()
        s.add(o)
        s.flush()
        s.add(Article(url="https://baohaiphong.vn/a-1.html", outlet_id=o.id, title="Khai giảng năm học mới",
                      published_at=datetime(2026, 9, 5, 7, 30, tzinfo=ict)))
    with sessions() as s:
        a = s.scalars(select(Article)).one()
        assert a.published_at == datetime(2026, 9, 5, 0, 30, tzinfo=UTC)
        assert a.published_at.tzinfo is not None
        oid = a.outlet_id
    with pytest.raises(IntegrityError):
        with sessions() as s, s.begin():
            s.add(Article(url="https://baohaiphong.vn/a-1.html", outlet_id=oid, title="bản sao"))


def test_naive_datetime_is_refused(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        with sessions() as s, s.begin():
            o = _outlet()
            s.add(o)
            s.flush()
            s.add(Article(url="https://x.vn/1", outlet_id=o.id, published_at=datetime(2026, 1, 1)))


def test_enum_values_are_checked_by_the_database(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(IntegrityError):
        with sessions() as s, s.begin():
            s.execute(text("INSERT INTO outlet (slug, name, kind, tier, homepage, has_nq71_section, active, selectors, created_at, updated_at) "
                           "VALUES ('x', 'X', 'newspaper', 'city', 'https://x.vn', false, true, '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))


def test_foreign_keys_are_enforced(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(IntegrityError):
        with sessions() as s, s.begin():
            s.add(Article(url="https://x.vn/2", outlet_id=999_999, title="mồ côi"))


def test_theme_mask_round_trip() -> None:
    c = Classification(theme_mask=Classification.mask_of([2, 5, 8]))
    assert c.themes == [2, 5, 8]
    with pytest.raises(ValueError):
        Classification.mask_of([9])


def test_review_item_version_detects_concurrent_edit(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        o = _outlet()
        s.add(o)
        s.flush()
        a = Article(url="https://x.vn/3", outlet_id=o.id, title="Tin đồn sáp nhập trường")
        s.add(a)
        s.flush()
        s.add(ReviewItem(article_id=a.id, priority=0.8))
    first, second = sessions(), sessions()
    one = first.scalars(select(ReviewItem)).one()
    two = second.scalars(select(ReviewItem)).one()
    one.note = "tôi nhận"
    first.commit()
    two.note = "tôi cũng nhận"
    with pytest.raises(StaleDataError):
        second.commit()
    first.close()
    second.close()
