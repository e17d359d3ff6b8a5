"""The dashboard shows the report room's weekly coverage table, chart and alerts; its files download and its counts open."""

from __future__ import annotations

import csv
import html as htmllib
import io
import re
import struct

import pytest
from docx import Document
from docx.oxml.ns import qn
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session, sessionmaker

from store.models import Alert
from tests.review.support import World, login


def test_dashboard_table_chart_and_alerts(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        s.add(Alert(kind="feed_failing", outlet_id=world.outlet_city, feed_id=world.feed, period="2026-11-20",
                    message="Nguồn cấp RSS Giáo dục của Báo và PT-TH Hải Phòng lỗi HTTP 503 liên tục 2 ngày."))
    login(client, "thamdinh.lan")
    html = client.get("/dashboard?week=2026-W47").text
    assert "Tổng quan Tuần 47 (16/11–22/11/2026)" in html
    assert "Báo và PT-TH Hải Phòng" in html and "Tin NQ71" in html
    assert "lỗi HTTP 503 liên tục 2 ngày" in html
    assert "· 20/11/2026</span>" in html  # the alert's day as people write it, not 2026-11-20
    chart = client.get("/dashboard/chart.png")
    assert chart.status_code == 200 and chart.content.startswith(b"\x89PNG")
    bad = client.get("/dashboard?week=tuần-47")
    assert bad.status_code == 400 and 'role="alert"' in bad.text


def test_dashboard_needs_a_login(client: TestClient, world: World) -> None:
    assert client.get("/dashboard").status_code == 303
    assert client.get("/dashboard/chart.png").status_code == 303


WEEK = "2026-W47"  # the seed's NOW (Friday 20/11/2026) falls in it
READABLE = "Tuần 47 (16/11–22/11/2026)"


def test_weeks_read_as_people_say_them_with_neighbours(client: TestClient, world: World) -> None:
    login(client, "thamdinh.lan")
    page = client.get(f"/dashboard?week={WEEK}").text
    assert f"<h1>Tổng quan {READABLE}</h1>" in page
    assert re.search(r'href="/dashboard\?week=2026-W46"[^>]*>← Tuần 46 \(09/11–15/11/2026\)</a>', page)
    assert re.search(r'href="/dashboard\?week=2026-W48"[^>]*>Tuần 48 \(23/11–29/11/2026\) →</a>', page)
    assert f'src="/dashboard/chart.png?week={WEEK}"' in page  # the chart follows the chosen week
    year_turn = client.get("/dashboard?week=2026-W01").text
    assert "Tổng quan Tuần 1 (29/12/2025–04/01/2026)" in year_turn and "Tuần 53 (22/12–28/12/2025)" not in year_turn
    assert "Tuần 52 (22/12–28/12/2025)" in year_turn


def test_numbers_are_written_the_vietnamese_way(client: TestClient, world: World) -> None:
    login(client, "thamdinh.lan")
    page = client.get(f"/dashboard?week={WEEK}").text
    # the social outlet's one education item is about NQ71: a share of 100 % written 100,0
    assert ">100,0<" in page and "100.0" not in page


def _downloads(client: TestClient) -> dict[str, str]:
    page = client.get(f"/dashboard?week={WEEK}").text
    block = page[page.index('id="downloads"'):]
    links = re.findall(r'href="(/dashboard/week\.(\w+)\?week=[^"]+)"', block[: block.index("</p>")])
    return {fmt: htmllib.unescape(url) for url, fmt in links}


def test_each_file_of_the_week_downloads_and_opens(client: TestClient, world: World) -> None:
    login(client, "thamdinh.lan")  # a reviewer, not only a supervisor
    links = _downloads(client)
    assert sorted(links) == ["csv", "docx", "png", "xlsx"]
    got = {fmt: client.get(url) for fmt, url in links.items()}
    assert all(r.status_code == 200 for r in got.values())
    assert got["xlsx"].headers["content-disposition"] == f'attachment; filename="bao-cao-nq71-{WEEK}.xlsx"'

    rows = list(csv.DictReader(io.StringIO(got["csv"].content.decode("utf-8-sig"))))
    city = next(r for r in rows if r["Mã cơ quan"] == "baohaiphong")
    assert city["Kỳ"] == WEEK and city["Tổng tin"] == "1" and city["Kết luận tin giả"] == "1"

    wb = load_workbook(io.BytesIO(got["xlsx"].content))
    summary = {row[0]: row[1] for row in wb["Tổng hợp"].iter_rows(min_row=2, values_only=True)}
    assert summary["Kỳ báo cáo"] == READABLE
    flagged = list(wb["Tin gắn cờ"].iter_rows(values_only=True))
    head = list(flagged[0])
    assert "Gắn cờ lúc (giờ Việt Nam, UTC+07:00)" in head
    resolved = next(r for r in flagged[1:] if r[head.index("Kết luận")] == "Tin giả")
    # created 03:00 UTC is 10:00 in Hải Phòng, and the status is the word the review app uses
    assert resolved[head.index("Gắn cờ lúc (giờ Việt Nam, UTC+07:00)")] == "20/11/2026 10:00"
    assert resolved[head.index("Trạng thái")] == "Đã xử lý"

    doc = Document(io.BytesIO(got["docx"].content))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "tuần 47 (16/11–22/11/2026)" in text and WEEK not in text
    heading = doc.styles["Heading 2"]
    fonts = heading.element.rPr.rFonts
    assert heading.font.name == "Times New Roman" and fonts.get(qn("w:asciiTheme")) is None
    assert str(heading.font.color.rgb) == "000000"
    shares = {r.cells[1].text: r.cells[6].text for r in doc.tables[2].rows[1:]}
    assert shares["Trang TikTok “Hải Phòng 24h”"] == "100,0"

    png = got["png"].content
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert width >= 800 and height >= 150


@pytest.mark.parametrize("url, code", [
    ("/dashboard/week.xlsx?week=2026-W54", 400), ("/dashboard/week.pdf?week=2026-W47", 404),
    ("/dashboard?week=49", 400),
])
def test_a_bad_week_or_file_kind_says_what_to_fix(client: TestClient, world: World, url: str, code: int) -> None:
    login(client, "thamdinh.lan")
    r = client.get(url)
    assert r.status_code == code
    assert ("chọn tuần trên lịch" in r.text) if code == 400 else ("chọn CSV, XLSX, DOCX hoặc PNG" in r.text)


def test_every_count_opens_the_articles_behind_it(client: TestClient, world: World) -> None:
    login(client, "thamdinh.lan")
    page = client.get(f"/dashboard?week={WEEK}").text
    table = page[page.index('id="coverage"'):page.index("</table>", page.index('id="coverage"'))]
    links = re.findall(r'<a href="(/articles\?[^"]+)"[^>]*>([\d.]+)</a>', table)
    assert len(links) >= 3 * 6  # six linked figures per outlet row and the total row
    for url, shown in links:
        listed = client.get(htmllib.unescape(url))
        assert listed.status_code == 200, url
        assert f'id="article-total">{shown} tin' in listed.text, url
    fake = next(htmllib.unescape(u) for u, _ in links if "what=tin_gia" in u and "outlet=baohaiphong" in u)
    fakes = client.get(fake).text
    assert "Xác minh tin đồn dừng bữa ăn bán trú" in fakes and f'href="/items/{world.resolved_item}"' in fakes
    assert "Lan truyền danh sách sáp nhập" not in fakes
    assert f"Kết luận tin giả · Báo và PT-TH Hải Phòng · {READABLE}" in fakes


@pytest.mark.parametrize("query", ["what=hack&from=2026-11-16&to=2026-11-22", "what=items&from=2026-11-22&to=2026-11-16",
                                   "what=items&from=16/11&to=2026-11-22"])
def test_a_bad_article_list_request_says_what_to_fix(client: TestClient, world: World, query: str) -> None:
    login(client, "thamdinh.lan")
    r = client.get(f"/articles?{query}")
    assert r.status_code == 400 and 'role="alert"' in r.text


def test_downloads_need_a_login(client: TestClient, world: World) -> None:
    assert client.get(f"/dashboard/week.csv?week={WEEK}").status_code == 303
    assert client.get("/articles?what=items&from=2026-11-16&to=2026-11-22").status_code == 303
