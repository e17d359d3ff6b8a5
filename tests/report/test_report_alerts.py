"""Alerts: volume bounds of the trailing 8 weeks, zero items, failing feeds; stored once; e-mailed via real SMTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from report.alerts import AlertMailError, check_alerts, recent_alerts, send_pending, volume_bounds
from report.weeks import parse_week, weeks_ending
from settings import Settings
from store.models import Alert, Article, FetchStatus, OutletKind, Tier
from tests.report.report_data import Builder, add_feed
from tests.report.smtp_testserver import SMTPServer

HISTORY = [10, 12, 11, 9, 10, 13, 11, 12]  # mean 11, population σ ≈ 1.22 → bounds 9.16 .. 13.45
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wednesday of W48: the last complete week is W47


def _fill(session: Session, settings: Settings) -> Builder:
    b = Builder(session)
    b.outlet("bao-hai-phong", "Báo và Phát thanh, Truyền hình Hải Phòng", OutletKind.press, Tier.city, True)
    b.outlet("cong-tt-hai-phong", "Cổng Thông tin điện tử thành phố Hải Phòng", OutletKind.portal, Tier.city, False)
    b.outlet("so-gddt-hai-phong", "Sở Giáo dục và Đào tạo Hải Phòng", OutletKind.agency, Tier.city, True)
    b.outlet("bao-an-ninh-hai-phong", "Báo An ninh Hải Phòng", OutletKind.press, Tier.city, False)
    b.outlet("thcs-le-chan", "Trường THCS Lê Chân", OutletKind.school, Tier.city, False)
    weeks = weeks_ending(parse_week("2026-W47", settings.timezone), 9, settings.timezone)
    current = {"bao-hai-phong": 3, "cong-tt-hai-phong": 20, "so-gddt-hai-phong": 11, "bao-an-ninh-hai-phong": 0}
    n = 0
    for slug, now_volume in current.items():
        for week, volume in zip(weeks, HISTORY + [now_volume], strict=True):
            for i in range(volume):
                n += 1
                b.article(f"a{n}", slug, f"Tin giáo dục số {n} của {slug}", week.start + timedelta(hours=3 + 10 * i))
    return b


def test_volume_bounds_use_mean_and_population_sigma() -> None:
    mean, sigma, low, high = volume_bounds(HISTORY)
    assert mean == 11 and round(sigma, 4) == 1.2247
    assert round(low, 2) == 9.16 and round(high, 2) == 13.45
    assert volume_bounds([5] * 8)[2:] == (3.5, 7.0)  # σ = 0 is floored at one item


def test_alerts_for_low_high_and_zero_volume_and_failing_feed(sessions: sessionmaker[Session], settings: Settings) -> None:
    with sessions() as s, s.begin():
        b = _fill(s, settings)
        add_feed(s, b.outlets["bao-hai-phong"], "https://baohaiphong.vn/rss/giao-duc.rss", FetchStatus.timeout,
                 NOW - timedelta(hours=30), NOW - timedelta(minutes=10), NOW - timedelta(days=60))
        add_feed(s, b.outlets["cong-tt-hai-phong"], "https://haiphong.gov.vn/rss", FetchStatus.http_error,
                 NOW - timedelta(hours=2), NOW - timedelta(minutes=5), NOW - timedelta(days=60))  # failing 2 h only
        add_feed(s, b.outlets["so-gddt-hai-phong"], "https://haiphong.edu.vn/rss", FetchStatus.dns_error,
                 NOW - timedelta(days=5), NOW - timedelta(minutes=5), NOW - timedelta(days=60), paused=True)
        add_feed(s, b.outlets["thcs-le-chan"], "https://thcslechan.haiphong.edu.vn/rss", FetchStatus.not_a_feed,
                 None, NOW - timedelta(hours=1), NOW - timedelta(days=3))  # never worked since added 3 days ago
    with sessions() as s, s.begin():
        new = check_alerts(s, settings, now=NOW)
    got = {(a.kind, a.details.get("outlet")) for a in new}
    assert got == {
        ("volume_low", "bao-hai-phong"),
        ("volume_high", "cong-tt-hai-phong"),
        ("zero_items", "bao-an-ninh-hai-phong"),
        ("zero_items", "thcs-le-chan"),
        ("feed_failing", "bao-hai-phong"),
        ("feed_failing", "thcs-le-chan"),
    }
    by_kind = {(a.kind, a.details.get("outlet")): a for a in new}
    assert by_kind[("volume_low", "bao-hai-phong")].period == "2026-W47"
    assert by_kind[("volume_low", "bao-hai-phong")].details["history"] == HISTORY
    assert by_kind[("feed_failing", "bao-hai-phong")].period == "2026-11-25"
    assert "Báo và Phát thanh" in by_kind[("volume_low", "bao-hai-phong")].message
    zero = by_kind[("zero_items", "thcs-le-chan")].message
    assert "không có tin nào trong tuần 47 (16/11–22/11/2026)" in zero and "no items" not in zero
    assert "(giờ Việt Nam, UTC+07:00)" in by_kind[("feed_failing", "bao-hai-phong")].message
    # a second run the same day stores nothing new, although outlet/feed ids are NULL in half the rows
    with sessions() as s, s.begin():
        assert check_alerts(s, settings, now=NOW + timedelta(hours=3)) == []
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Alert)) == 6
        assert [a.id for a in recent_alerts(s, limit=2)] == sorted((a.id for a in new), reverse=True)[:2]


def test_new_outlet_without_history_gets_no_volume_alert(sessions: sessionmaker[Session], settings: Settings) -> None:
    with sessions() as s, s.begin():
        b = Builder(s)
        b.outlet("bao-moi", "Báo Mới Hải Phòng", OutletKind.press, Tier.city, False)
        for i in range(30):
            b.article(f"n{i}", "bao-moi", f"Tin thứ {i}", parse_week("2026-W47", settings.timezone).start + timedelta(hours=i))
    with sessions() as s, s.begin():
        assert check_alerts(s, settings, now=NOW) == []


def test_alerts_are_emailed_once_through_smtp(sessions: sessionmaker[Session], settings: Settings) -> None:
    with sessions() as s, s.begin():
        _fill(s, settings)
        check_alerts(s, settings, now=NOW)
    with SMTPServer() as smtp:
        cfg = settings.replace(smtp_host="127.0.0.1", smtp_port=smtp.port, alert_emails="vhttdl@haiphong.gov.vn; gddt@haiphong.edu.vn")
        with sessions() as s, s.begin():
            assert send_pending(s, cfg, now=NOW) == 4
        with sessions() as s, s.begin():
            assert send_pending(s, cfg, now=NOW) == 0  # nothing left unsent
        assert len(smtp.mailbox.messages) == 1
        mail = smtp.mailbox.messages[0]
        assert mail.recipients == ["vhttdl@haiphong.gov.vn", "gddt@haiphong.edu.vn"]
        body = mail.message.get_content()
        assert "Báo An ninh Hải Phòng" in body and "volume_low" in body
        assert "cảnh báo" in str(mail.message["Subject"])
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Alert).where(Alert.sent_at.is_(None))) == 0


def test_unreachable_smtp_keeps_alerts_unsent(sessions: sessionmaker[Session], settings: Settings) -> None:
    with sessions() as s, s.begin():
        _fill(s, settings)
        check_alerts(s, settings, now=NOW)
    with SMTPServer() as smtp:
        port = smtp.port  # a port that was just closed again
    cfg = settings.replace(smtp_host="127.0.0.1", smtp_port=port, alert_emails="vhttdl@haiphong.gov.vn")
    with pytest.raises(AlertMailError, match="cannot send"):
        with sessions() as s, s.begin():
            send_pending(s, cfg, now=NOW)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Alert).where(Alert.sent_at.is_(None))) == 4


def test_no_smtp_host_sends_nothing(sessions: sessionmaker[Session], settings: Settings) -> None:
    with sessions() as s, s.begin():
        _fill(s, settings)
        check_alerts(s, settings, now=NOW)
        assert send_pending(s, settings, now=NOW) == 0
    with sessions() as s:
        assert (s.scalar(select(func.count()).select_from(Article)) or 0) > 0
