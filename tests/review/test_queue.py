"""The queue page: priority order, filters, full-text search with or without diacritics, counts, pagination; the item page."""

from __future__ import annotations

import unicodedata
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from store.models import Article, Classification, Relevance, ReviewItem
from tests.review.support import NOW, World, login, post_action


def _titles(html: str) -> list[str]:
    import re

    return re.findall(r'<a href="/items/\d+">([^<]+)</a>', html)


def test_queue_is_sorted_by_priority_with_counts_per_status(client: TestClient, world: World) -> None:
    login(client, "thamdinh.lan")
    html = client.get("/queue?status=all").text
    assert _titles(html) == [
        "Hải Phòng dừng bữa ăn bán trú ở trường tiểu học công lập?",
        "Lan truyền danh sách sáp nhập trường đại học",
        "Xác minh tin đồn dừng bữa ăn bán trú",
        "Phụ cấp ưu đãi giáo viên tăng lên tối thiểu 70%",
    ]
    assert "Mới <b>3</b>" in html and "Đã xử lý <b>1</b>" in html and "Tất cả <b>4</b>" in html


def test_the_default_view_is_the_work_still_to_do(client: TestClient, world: World) -> None:
    token = login(client, "thamdinh.lan")
    post_action(client, token, world.merger_item, "escalate", 1, note="Đề nghị Sở xác nhận danh sách sáp nhập.")
    html = client.get("/queue").text
    # new, in progress and escalated; the resolved copy waits under its own tab and under "Tất cả"
    assert _titles(html) == [
        "Hải Phòng dừng bữa ăn bán trú ở trường tiểu học công lập?",
        "Lan truyền danh sách sáp nhập trường đại học",
        "Phụ cấp ưu đãi giáo viên tăng lên tối thiểu 70%",
    ]
    assert 'id="tab-open" aria-current="page">Cần xử lý <b>3</b>' in html and "Tất cả <b>4</b>" in html
    assert _titles(client.get("/queue?status=resolved").text) == ["Xác minh tin đồn dừng bữa ăn bán trú"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=resolved", ["Xác minh tin đồn dừng bữa ăn bán trú"]),
        ("theme=7", ["Lan truyền danh sách sáp nhập trường đại học"]),
        ("risk=high", ["Hải Phòng dừng bữa ăn bán trú ở trường tiểu học công lập?"]),
        ("risk=low", ["Phụ cấp ưu đãi giáo viên tăng lên tối thiểu 70%"]),
        ("from=2026-11-19&to=2026-11-20", ["Hải Phòng dừng bữa ăn bán trú ở trường tiểu học công lập?", "Xác minh tin đồn dừng bữa ăn bán trú"]),
        ("from=2026-11-16&to=2026-11-16", []),
        ("assignee=none", ["Hải Phòng dừng bữa ăn bán trú ở trường tiểu học công lập?", "Lan truyền danh sách sáp nhập trường đại học", "Phụ cấp ưu đãi giáo viên tăng lên tối thiểu 70%"]),
        ("mine=1", ["Xác minh tin đồn dừng bữa ăn bán trú"]),
        ("q=bán trú", ["Hải Phòng dừng bữa ăn bán trú ở trường tiểu học công lập?", "Xác minh tin đồn dừng bữa ăn bán trú"]),
        ("q=BÁN TRÚ tiktok", ["Hải Phòng dừng bữa ăn bán trú ở trường tiểu học công lập?", "Xác minh tin đồn dừng bữa ăn bán trú"]),
        ("q=bán trú đại học", []),
        ("q=ban tru", ["Hải Phòng dừng bữa ăn bán trú ở trường tiểu học công lập?", "Xác minh tin đồn dừng bữa ăn bán trú"]),
        ("q=sap nhap", ["Lan truyền danh sách sáp nhập trường đại học"]),
        ("q=DAI HOC", ["Lan truyền danh sách sáp nhập trường đại học"]),  # đ typed as d
        ("q=đai hoc", ["Lan truyền danh sách sáp nhập trường đại học"]),  # half the marks typed
        ("q=phu cap giao vien", ["Phụ cấp ưu đãi giáo viên tăng lên tối thiểu 70%"]),
        ('q="ban tru"', []),  # quotes search exactly: "ban tru" is other words
        ('q="đại học" sap', ["Lan truyền danh sách sáp nhập trường đại học"]),
        ('q="sáp nhập"', ["Lan truyền danh sách sáp nhập trường đại học"]),
        ("q=phụ cấp&risk=low", ["Phụ cấp ưu đãi giáo viên tăng lên tối thiểu 70%"]),
    ],
)
def test_filters_and_search(client: TestClient, world: World, query: str, expected: list[str]) -> None:
    login(client, "thamdinh.lan")
    r = client.get(f"/queue?status=all&{query}" if "status=" not in query else f"/queue?{query}")
    assert r.status_code == 200
    assert _titles(r.text) == expected


def test_outlet_and_assignee_filters(client: TestClient, world: World) -> None:
    token = login(client, "thamdinh.lan")
    assert _titles(client.get(f"/queue?outlet={world.outlet_social}").text) == ["Hải Phòng dừng bữa ăn bán trú ở trường tiểu học công lập?"]
    post_action(client, token, world.merger_item, "take", 1)
    assert _titles(client.get(f"/queue?assignee={world.reviewer}&status=in_progress").text) == ["Lan truyền danh sách sáp nhập trường đại học"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("status=xong", "Trạng thái không hợp lệ"),
        ("outlet=abc", "Nguồn tin phải là một số nguyên"),
        ("outlet=9999", "Không có nguồn tin số 9999"),
        ("theme=9", "Nhóm nhiệm vụ phải từ 1 đến 8"),
        ("risk=rat-cao", "Mức rủi ro"),
        ("from=31/02/2026", "ngày/tháng/năm"),
        ("from=2026-11-20&to=2026-11-01", "Đến ngày phải sau"),
        ("assignee=777", "Không có người dùng số 777"),
        ("q=" + "a" * 201, "dài quá 200"),
        ("q=%22%22%20!!", "không có chữ nào"),
        ("page=0", "Trang phải từ 1"),
    ],
)
def test_bad_filters_get_a_message(client: TestClient, world: World, query: str, message: str) -> None:
    login(client, "thamdinh.lan")
    r = client.get(f"/queue?{query}")
    assert r.status_code == 400 and message in r.text
    assert "Hàng đợi thẩm định" in r.text  # still a usable page


def test_pagination(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        for n in range(60):
            a = Article(url=f"https://baohaiphong.vn/tin-truong-hoc-{n}", outlet_id=world.outlet_city, title=f"Trường Tiểu học số {n} ở Kiến An tổ chức học trải nghiệm",
                        text="Học sinh tham gia hoạt động trải nghiệm về an toàn giao thông.", published_at=NOW - timedelta(days=1))
            s.add(a)
            s.flush()
            s.add(Classification(article_id=a.id, model_version="test-1", is_education=True, education_score=0.9, relevance=Relevance.none,
                                 relevance_score=0.1, risk_score=0.1))
            s.add(ReviewItem(article_id=a.id, priority=0.01 + n / 10000))
    login(client, "thamdinh.lan")
    first = client.get("/queue?status=new")
    assert "63 mục · trang 1/2" in first.text and len(_titles(first.text)) == 50
    second = client.get("/queue?status=new&page=2")
    assert len(_titles(second.text)) == 13 and "Trang trước" in second.text and "Trang sau" not in second.text
    beyond = client.get("/queue?status=new&page=99")
    assert "trang 2/2" in beyond.text


def test_item_page_shows_evidence_reasons_claims_story_and_history(client: TestClient, world: World) -> None:
    login(client, "thamdinh.lan")
    html = client.get(f"/items/{world.rumour_item}").text
    assert ('<mark class="k-r1" title="Khẳng định chưa có nguồn chính thức">dừng tổ chức bữa ăn bán trú<sup class="key">1</sup></mark>'
            in html)
    assert '<mark class="k-r2" title="Nguồn mạng xã hội">phụ huynh phải tự mang cơm cho con<sup class="key">2</sup></mark>' in html
    assert "Khẳng định chưa có nguồn chính thức" in html and "tăng rủi ro, trọng số 0,60" in html
    assert "82%" in html and "Hải Phòng dừng tổ chức bữa ăn bán trú tại các trường mầm non" in html and "tự động" in html
    assert "Báo và PT-TH Hải Phòng" in html and "bản sao" in html and "Xác minh tin đồn dừng bữa ăn bán trú" in html
    assert "Đưa vào hàng đợi" in html


def test_article_text_is_escaped(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        a = Article(url="https://x.vn/xss", outlet_id=world.outlet_city, title="<script>alert('x')</script> Tin lạ", text="<img src=x onerror=alert(1)> nội dung")
        s.add(a)
        s.flush()
        item = ReviewItem(article_id=a.id, priority=0.5)
        s.add(item)
        s.flush()
        item_id = item.id
    login(client, "thamdinh.lan")
    html = client.get(f"/items/{item_id}").text
    assert "&lt;script&gt;" in html and "<img src=x" not in html


def test_filter_copies_follow_later_changes_to_articles_and_classifications(
    client: TestClient, world: World, sessions: sessionmaker[Session]
) -> None:
    """Outlet, date, risk and theme are copied onto review_item by triggers; later edits must reach the queue."""
    from sqlalchemy import select

    with sessions() as s, s.begin():
        item = s.get(ReviewItem, world.allowance_item)
        assert item is not None
        article = s.get(Article, item.article_id)
        assert article is not None
        article.outlet_id = world.outlet_social
        article.published_at = NOW - timedelta(days=40)
        c = s.scalar(select(Classification).where(Classification.article_id == article.id))
        assert c is not None
        c.risk_score = 0.95
        c.theme_mask = Classification.mask_of([2, 5])
    login(client, "thamdinh.lan")
    title = "Phụ cấp ưu đãi giáo viên tăng lên tối thiểu 70%"
    assert title in _titles(client.get(f"/queue?outlet={world.outlet_social}&risk=high&theme=2&from=2026-10-01&to=2026-10-15").text)
    assert title not in _titles(client.get("/queue?risk=low").text)
    with sessions() as s, s.begin():
        c = s.scalar(select(Classification).join(ReviewItem, ReviewItem.article_id == Classification.article_id).where(ReviewItem.id == world.allowance_item))
        assert c is not None
        s.delete(c)
    assert title not in _titles(client.get("/queue?risk=high").text)
    assert title in _titles(client.get("/queue").text)


def test_a_very_common_search_word_is_counted_up_to_a_cap(client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past SEARCH_CAP hits the counts stop ("Hơn N mục") and the page walks the queue in priority order."""
    from store import queue

    monkeypatch.setattr(queue, "SEARCH_CAP", 1)
    login(client, "thamdinh.lan")
    html = client.get("/queue?status=all&q=Hải Phòng").text
    assert "Hơn 2 mục khớp" in html
    assert _titles(html) == [
        "Hải Phòng dừng bữa ăn bán trú ở trường tiểu học công lập?",
        "Lan truyền danh sách sáp nhập trường đại học",
        "Xác minh tin đồn dừng bữa ăn bán trú",
        "Phụ cấp ưu đãi giáo viên tăng lên tối thiểu 70%",
    ]
    assert client.get("/api/queue", params={"q": "Hải Phòng"}).json()["capped"] is True


def test_search_follows_an_edited_article(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    """Outlets revise articles: the search index (FTS5 triggers / PostgreSQL copy) must follow."""
    with sessions() as s, s.begin():
        item = s.get(ReviewItem, world.merger_item)
        assert item is not None
        article = s.get(Article, item.article_id)
        assert article is not None
        article.title = "Bộ GD&ĐT bác bỏ danh sách giải thể trường đại học"
    login(client, "thamdinh.lan")
    assert _titles(client.get("/queue?q=giải thể").text) == ["Bộ GD&amp;ĐT bác bỏ danh sách giải thể trường đại học"]
    assert _titles(client.get('/queue?q="truyền danh sách"').text) == []


def test_counts_are_reused_for_a_few_seconds_but_an_action_shows_at_once(
    client: TestClient, world: World, sessions: sessionmaker[Session]
) -> None:
    login(client, "thamdinh.lan")
    first = client.get("/api/queue").json()["counts"]
    with sessions() as s, s.begin():  # written behind the app's back (another worker): shown within 5 s
        item = s.get(ReviewItem, world.allowance_item)
        assert item is not None
        s.delete(item)
    assert client.get("/api/queue").json()["counts"] == first
    token = client.get("/api/me").json()["csrf_token"]
    r = client.post(f"/api/items/{world.rumour_item}/actions", json={"action": "take", "version": 1}, headers={"X-CSRF-Token": token})
    assert r.status_code == 200
    after = client.get("/api/queue").json()["counts"]
    assert after["new"] == first["new"] - 2 and after["in_progress"] == first["in_progress"] + 1


def test_search_without_diacritics_ranks_exact_matches_first(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    """Typed as "thí", an item with "thí" comes before a higher-priority one that only has "thi"."""
    with sessions() as s, s.begin():
        for slug, title, text_nfd, prio in [
            ("ky-thi-lop-10", "Lịch thi vào lớp 10 năm 2027 ở Hải Phòng", "Kỳ thi diễn ra trong hai ngày đầu tháng Sáu.", 0.9),
            # written in NFD, as some CMSs send it: the search must not care
            ("thi-diem-sach", "Trường tiểu học thí điểm sách giáo khoa điện tử", "Mười trường được chọn thí điểm.", 0.1),
        ]:
            a = Article(url=f"https://baohaiphong.vn/{slug}", outlet_id=world.outlet_city, title=title,
                        text=unicodedata.normalize("NFD", text_nfd), published_at=NOW)
            s.add(a)
            s.flush()
            s.add(ReviewItem(article_id=a.id, priority=prio, created_at=NOW))
    login(client, "thamdinh.lan")
    assert _titles(client.get("/queue?q=thí").text) == [
        "Trường tiểu học thí điểm sách giáo khoa điện tử", "Lịch thi vào lớp 10 năm 2027 ở Hải Phòng"]
    assert _titles(client.get("/queue?q=thi").text) == [
        "Lịch thi vào lớp 10 năm 2027 ở Hải Phòng", "Trường tiểu học thí điểm sách giáo khoa điện tử"]
    assert _titles(client.get('/queue?q="thí điểm"').text) == ["Trường tiểu học thí điểm sách giáo khoa điện tử"]
    assert _titles(client.get("/queue?q=" + unicodedata.normalize("NFD", "diễn ra")).text) == [
        "Lịch thi vào lớp 10 năm 2027 ở Hải Phòng"]
    api = client.get("/api/queue", params={"q": "thi diem"}).json()
    assert [row["title"] for row in api["items"]] == ["Trường tiểu học thí điểm sách giáo khoa điện tử"]
    assert "không cần dấu" in client.get("/queue").text  # the search box says so


def test_evidence_has_a_visible_legend_numbered_marks_and_nq71_in_its_own_colour(client: TestClient, world: World) -> None:
    login(client, "thamdinh.lan")
    html = client.get(f"/items/{world.rumour_item}").text
    legend = html[html.index('id="legend"'):html.index("</ol>", html.index('id="legend"'))]
    # each reason numbered with its colour, the marks in the text carry the same number (no hover needed)
    assert '<li class="k-r1"><span class="key" aria-hidden="true">1</span> <b>Khẳng định chưa có nguồn chính thức</b>' in legend
    assert '<li class="k-r2"><span class="key" aria-hidden="true">2</span> <b>Nguồn mạng xã hội</b>' in legend
    assert '<li class="k-nq">' in legend and "Nghị quyết 71" in legend
    assert '<mark class="k-nq" title="Bằng chứng liên quan Nghị quyết 71">Hải Phòng<sup class="key">NQ</sup></mark>' in html
    # how the weights combine, with the figure they give: 1 − (1 − 0.6)(1 − 0.3) = 72 %
    assert "rủi ro = 1 − (1 − w₁)(1 − w₂)" in html and "Từ các trọng số trên: <b>72%</b>" in html


def test_queue_rows_show_reach_spread_top_reason_and_source_link(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():  # a third outlet carries the rumour as another copy of the text
        rumour = s.get(ReviewItem, world.rumour_item)
        assert rumour is not None
        s.add(Article(url="https://vnexpress.net/tin-don-ban-tru", outlet_id=rumour.article.outlet_id + 1, title="Tin đồn bán trú lan sang báo",
                      text="Nội dung chép lại.", published_at=NOW, cluster_id=501, copy_of_id=rumour.article_id))
    login(client, "thamdinh.lan")
    html = client.get("/queue?status=all").text
    rows = html.split("<tr>")[2:]
    first = next(r for r in rows if "Hải Phòng dừng bữa ăn bán trú" in r)
    assert "3 nguồn · 2 bản sao" in first  # TikTok, Báo Hải Phòng, VnExpress; two copies of the rumour
    assert "Lý do chính: Khẳng định chưa có nguồn chính thức" in first
    assert 'href="https://www.tiktok.com/@haiphong24h/video/7301"' in first and "Thành phố" in first
    merger = next(r for r in rows if "sáp nhập trường đại học" in r)
    assert "Toàn quốc" in merger and "1 nguồn<" in merger and "bản sao" not in merger
    assert "Ưu tiên</b> = rủi ro × độ phủ × độ mới" in html and "báo toàn quốc ×1,5" in html
    assert "(1,26) xếp trên hai tin 90%" in html


def test_story_counts_take_a_fixed_number_of_queries(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    from sqlalchemy import event

    from store.queue import QueueFilter, queue_page

    def count(extra: int) -> int:
        with sessions() as s, s.begin():
            for i in range(extra):
                a = Article(url=f"https://baohaiphong.vn/ban-tin-{extra}-{i}", outlet_id=world.outlet_city, title=f"Bản tin giáo dục số {i}",
                            text="Nội dung.", published_at=NOW, cluster_id=900 + i)
                s.add(a)
                s.flush()
                s.add(ReviewItem(article_id=a.id, priority=0.1))
        seen: list[str] = []

        def record(*args: Any) -> None:
            seen.append(str(args[2]))

        with sessions() as s:
            bind = s.get_bind()
            event.listen(bind, "before_cursor_execute", record)
            try:
                rows = queue_page(s, QueueFilter()).rows
                assert len(rows) >= 4 + extra and {r.outlets for r in rows if r.title.startswith("Bản tin")} == {1}
            finally:
                event.remove(bind, "before_cursor_execute", record)
        return len([q for q in seen if "SELECT" in q.upper()])

    few = count(1)
    many = count(20)
    assert few == many  # one grouped query for the page, whatever the number of rows
