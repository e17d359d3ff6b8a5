"""One language, one clock: history, feed health and error pages in Vietnamese, times on Hải Phòng's clock."""

from __future__ import annotations

import html as html_lib
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from review.present import crawl_note
from store.models import Feed, FeedKind, FetchStatus, ReviewEvent
from tests.review.support import World, login

QUEUED_AT = datetime(2026, 11, 19, 18, 30, tzinfo=UTC)  # 01:30 on 20/11 in Hải Phòng: the day changes too


def _queued_event(sessions: sessionmaker[Session], item_id: int) -> None:
    """The "created" event an older crawl wrote, with its English note."""
    with sessions() as s, s.begin():
        s.add(ReviewEvent(review_item_id=item_id, user_id=None, action="created", before=None, at=QUEUED_AT,
                          after={"status": "new", "priority": 0.95}, note="risk 0.84: learned, unsourced_policy"))


def test_history_in_vietnamese_on_local_time(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    _queued_event(sessions, world.rumour_item)
    login(client, "thamdinh.lan")
    page = html_lib.unescape(client.get(f"/items/{world.rumour_item}").text)
    history = page[page.index("<h2>Lịch sử"):]
    history = history[: history.index("</section>")]
    assert "giờ Việt Nam" in history
    assert "created" not in history and "risk" not in history and "unsourced_policy" not in history
    assert "20/11/2026 01:30" in history and "hệ thống</b> — Đưa vào hàng đợi" in history
    assert "Rủi ro 84% — lý do chính: Giống những tin người thẩm định đã kết luận là sai; Nêu chính sách" in history
    assert history.count("Đưa vào hàng đợi") == 1  # the event, not a second line for the same moment

    [event] = client.get(f"/api/items/{world.rumour_item}").json()["history"]
    assert event["action"] == "created" and event["action_label"] == "Đưa vào hàng đợi"
    assert event["at_local"] == "20/11/2026 01:30" and event["clock"] == "giờ Việt Nam, UTC+07:00"
    assert event["note"].startswith("Rủi ro 84% — lý do chính: Giống những tin")


def test_sources_page_words(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        s.add(Feed(outlet_id=world.outlet_social, url="https://example.vn/rss/giao-duc.rss", kind=FeedKind.rss, status=FetchStatus.ok,
                   status_message="rss20: 9 items, 2 skipped", last_success_at=QUEUED_AT))
    login(client, "thamdinh.lan")
    page = html_lib.unescape(client.get("/sources").text)
    rows = {url: row for row in page.split("<tr")[1:] for url in ("example.vn", "baohaiphong.vn") if url in row}
    good, broken = rows["example.vn"], rows["baohaiphong.vn"]
    assert ">RSS<" in good
    assert "Hoạt động tốt" in good and "RSS 2.0: 9 tin, bỏ qua 2" in good and "items" not in good
    error_cell = good[good.index('data-h="Lỗi"'):]
    assert error_cell.startswith('data-h="Lỗi"></td>')  # a good fetch's note is not an error
    assert "Lỗi HTTP" in broken and "HTTP 503 Service Unavailable" in broken[broken.index('data-h="Lỗi"'):]
    assert "20/11/2026 01:30" in good and "giờ Việt Nam" in page


def test_unknown_page_is_a_vietnamese_page_api_stays_json(client: TestClient, world: World) -> None:
    for logged_in in (False, True):
        if logged_in:
            login(client, "thamdinh.lan")
        page = client.get("/khong-co-trang-nay")
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
        assert "Không tìm thấy" in page.text and "Không có trang này" in page.text and '{"detail"' not in page.text
    api = client.get("/api/khong-co")
    assert api.status_code == 404 and api.json() == {"detail": "Not Found"}
    wrong = client.put("/queue")
    assert wrong.status_code == 405 and "không nhận thao tác PUT" in wrong.text and "GET" in wrong.headers["allow"]
    assert client.put("/api/queue").json() == {"detail": "Method Not Allowed"}


def test_bad_week_in_vietnamese(client: TestClient, world: World) -> None:
    login(client, "thamdinh.lan")
    for url in ("/dashboard?week=49", "/dashboard/chart.png?week=49", "/dashboard/week.csv?week=49"):
        r = client.get(url)
        text = html_lib.unescape(r.text)
        assert r.status_code == 400 and "Tuần '49' không đúng" in text, url
        assert text.index("Tuần '49'") < text.index("is not an ISO week"), url  # Vietnamese first, English after


def test_crawler_notes_in_vietnamese() -> None:
    assert crawl_note("sitemap: 12 recent urls (3 older than 7 days skipped)") == "Sơ đồ trang: 12 địa chỉ mới (bỏ qua 3 địa chỉ cũ hơn 7 ngày)"
    assert crawl_note("JSON Feed 1.1: 5 items") == "JSON Feed 1.1: 5 tin"
    assert crawl_note("listing: 14 links") == "Trang danh sách: 14 liên kết"
    assert crawl_note("máy chủ trả lời lạ") == "máy chủ trả lời lạ"  # another shape is shown as written
