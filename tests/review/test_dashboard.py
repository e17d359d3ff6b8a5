"""The dashboard shows the report room's weekly coverage table, chart and alerts."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from store.models import Alert
from tests.review.support import World, login


def test_dashboard_table_chart_and_alerts(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        s.add(Alert(kind="feed_failing", outlet_id=world.outlet_city, feed_id=world.feed, period="2026-11-20",
                    message="Nguồn cấp RSS Giáo dục của Báo và PT-TH Hải Phòng lỗi HTTP 503 liên tục 2 ngày."))
    login(client, "thamdinh.lan")
    html = client.get("/dashboard?week=2026-W47").text
    assert "Tổng quan tuần 2026-W47" in html
    assert "Báo và PT-TH Hải Phòng" in html and "Tin NQ71" in html
    assert "lỗi HTTP 503 liên tục 2 ngày" in html
    chart = client.get("/dashboard/chart.png")
    assert chart.status_code == 200 and chart.content.startswith(b"\x89PNG")
    bad = client.get("/dashboard?week=tuần-47")
    assert bad.status_code == 400 and 'role="alert"' in bad.text


def test_dashboard_needs_a_login(client: TestClient, world: World) -> None:
    assert client.get("/dashboard").status_code == 303
    assert client.get("/dashboard/chart.png").status_code == 303
