"""The queue in a real headless Chromium: search without diacritics (đ as d, exact matches first, quotes search
exactly, the box's hint) and the columns a triager reads (reach, spread, top reason, source link, publication time,
the "Ưu tiên" legend, the work still to do by default, whole titles at desktop width)."""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from store.models import Article, Classification, DateSource, Relevance, ReviewItem, ReviewStatus
from tests.review.support import NOW, World
from tests.review.test_browser import browser, log_in, pytestmark, server, shot

__all__ = ["browser", "pytestmark", "server"]  # fixtures and the browser mark, shared with test_browser

DESKTOP = {"width": 1280, "height": 900}
RUMOUR = "Hải Phòng dừng bữa ăn bán trú ở trường tiểu học công lập?"
RUMOUR_COPY = "Xác minh tin đồn dừng bữa ăn bán trú"
MERGER = "Lan truyền danh sách sáp nhập trường đại học"
ALLOWANCE = "Phụ cấp ưu đãi giáo viên tăng lên tối thiểu 70%"
# "sắp nhập học" (about to start school) folds to the same letters as "sáp nhập" (merger): a search typed with
# the merger's diacritics must put the merger first although this item has the higher priority
ENROL = ("Hơn 1.200 học sinh Trường Tiểu học Quán Toan sắp nhập học lại sau đợt sửa chữa trường, phụ huynh "
         "hỏi về xe đưa đón và suất ăn")
ENROL_TEXT = (
    "Sau ba tháng học nhờ, hơn 1.200 học sinh Trường Tiểu học Quán Toan (quận Hồng Bàng) sắp nhập học lại tại "
    "trường cũ. Phụ huynh hỏi nhà trường có bố trí xe đưa đón và giữ nguyên giá suất ăn hay không; "
    "trên nhóm Zalo của lớp có ý kiến cho rằng học phí sẽ tăng gấp đôi."
)


@pytest.fixture
def triage_world(sessions: sessionmaker[Session], world: World) -> World:
    """The seeded world plus one item of every open status and a long-titled item that folds like "sáp nhập"."""
    with sessions() as s, s.begin():
        enrol = Article(url="https://baohaiphong.vn/quan-toan-sap-nhap-hoc-lai", outlet_id=world.outlet_city, title=ENROL,
                        text=ENROL_TEXT, published_at=NOW - timedelta(hours=6), date_source=DateSource.feed)
        s.add(enrol)
        s.flush()
        s.add(Classification(article_id=enrol.id, model_version="test-1", is_education=True, education_score=0.95,
                             relevance=Relevance.task, relevance_score=0.6, theme_mask=Classification.mask_of([4]), risk_score=0.64,
                             reasons=[{"code": "unverified_claim", "label": "Khẳng định chưa có nguồn chính thức", "weight": 0.4,
                                       "evidence": []}]))
        s.add(ReviewItem(article_id=enrol.id, priority=0.64, status=ReviewStatus.new, created_at=NOW))
        # the work still to do is every open status, not only "Mới"
        s.execute(update(ReviewItem).where(ReviewItem.id == world.merger_item)
                  .values(status=ReviewStatus.in_progress, assignee_id=world.reviewer2))
        s.execute(update(ReviewItem).where(ReviewItem.id == world.allowance_item).values(status=ReviewStatus.escalated))
    return world


def search(page: Page, words: str) -> None:
    """Type into the search box and press Enter, as a reviewer does."""
    box = page.get_by_label("Tìm kiếm")
    box.fill("")
    box.press_sequentially(words)
    with page.expect_navigation():  # the list is read right after: wait for the new page, not the old one
        box.press("Enter")


def titles(page: Page) -> list[str]:
    """The item titles in the queue, top to bottom."""
    return [t.strip() for t in page.locator("table.queue tbody tr td:first-child + td a").all_inner_texts()]


def cell(page: Page, title: str, column: str) -> Locator:
    """The cell under the column headed ``column`` in the row of the item titled ``title``."""
    headers = [h.strip() for h in page.get_by_role("columnheader").all_inner_texts()]
    index = next(i for i, h in enumerate(headers) if h.startswith(column))
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=title, exact=True))
    expect(row).to_have_count(1)
    return row.get_by_role("cell").nth(index)


def test_search_without_diacritics_folds_d_ranks_exact_first_and_quotes_search_exactly(
    server: str, browser: Browser, triage_world: World
) -> None:
    page = browser.new_page(viewport=DESKTOP, locale="vi-VN")
    log_in(page, server, "thamdinh.lan")
    box = page.get_by_label("Tìm kiếm")
    # the hint is in the box itself, whole (not cut by the box's width), and in its tooltip
    expect(box).to_have_attribute("placeholder", re.compile(r"không cần dấu.*\"cụm có dấu\""))
    expect(box).to_have_attribute("title", re.compile("Gõ không dấu vẫn tìm được.*ngoặc kép.*chính xác"))
    hint_fits = box.evaluate(
        """el => { const s = getComputedStyle(el); const c = document.createElement('canvas').getContext('2d');
                   c.font = s.font; const pad = parseFloat(s.paddingLeft) + parseFloat(s.paddingRight);
                   return c.measureText(el.placeholder).width <= el.clientWidth - pad; }"""
    )
    assert hint_fits, "the search hint is cut off by the width of the search box"

    search(page, "bán trú")
    expect(page.get_by_text("1 mục · trang 1/1")).to_be_visible()
    assert titles(page) == [RUMOUR]
    search(page, "ban tru")  # no diacritics: the same item
    expect(page.get_by_text("1 mục · trang 1/1")).to_be_visible()
    assert titles(page) == [RUMOUR]
    expect(box).to_have_value("ban tru")
    page.get_by_role("link", name=re.compile("^Tất cả")).click()
    expect(page.get_by_text("2 mục · trang 1/1")).to_be_visible()
    assert titles(page) == [RUMOUR, RUMOUR_COPY]

    page.goto(f"{server}/queue")
    search(page, "dao tao")  # đ typed as d: "Sở Giáo dục và Đào tạo" is in two stories' text
    assert titles(page) == [RUMOUR, MERGER]
    search(page, "Đào tạo")
    assert titles(page) == [RUMOUR, MERGER]

    search(page, "sap nhap")  # both "sáp nhập" and "sắp nhập học" fold to it: priority decides
    assert titles(page) == [ENROL, MERGER]
    expect(page.get_by_text("2 mục · trang 1/1")).to_be_visible()
    shot(page, "queue-search-khong-dau.png", docs=True)
    search(page, "sáp nhập")  # typed with the merger's diacritics: the exact match comes first
    assert titles(page) == [MERGER, ENROL]
    search(page, unicodedata.normalize("NFD", "sáp nhập"))  # decomposed marks (some keyboards) mean the same
    assert titles(page) == [MERGER, ENROL]
    search(page, '"sáp nhập"')  # quotes search exactly, diacritics included
    assert titles(page) == [MERGER]
    search(page, '"sap nhap"')  # ... so a quoted phrase without diacritics is other words
    expect(page.get_by_text("0 mục · trang 1/1")).to_be_visible()
    expect(page.get_by_text("Không có mục nào khớp bộ lọc.")).to_be_visible()
    search(page, '"sáp nhập" danh sach')  # an exact phrase and a loose word together
    assert titles(page) == [MERGER]


def test_queue_columns_say_what_a_triager_needs_and_default_to_the_work_still_to_do(
    server: str, browser: Browser, triage_world: World
) -> None:
    page = browser.new_page(viewport=DESKTOP, locale="vi-VN")
    log_in(page, server, "thamdinh.lan")
    # the default view is the work still to do: new, in progress and escalated, not the resolved copy
    tabs = page.get_by_role("navigation", name="Trạng thái")
    expect(tabs.get_by_role("link", name="Cần xử lý 4")).to_have_attribute("aria-current", "page")
    assert titles(page) == [RUMOUR, ENROL, MERGER, ALLOWANCE]
    expect(cell(page, RUMOUR, "Trạng thái")).to_have_text("Mới")
    expect(cell(page, MERGER, "Trạng thái")).to_have_text("Đang xử lý")
    expect(cell(page, MERGER, "Người xử lý")).to_have_text("thamdinh.minh")
    expect(cell(page, ALLOWANCE, "Trạng thái")).to_have_text("Chuyển Sở GD&ĐT")
    expect(page.get_by_role("link", name=RUMOUR_COPY)).to_have_count(0)

    # reach, spread, top reason, source link, publication time, in the columns that name them
    expect(cell(page, RUMOUR, "Nguồn")).to_contain_text("Thành phố")
    expect(cell(page, MERGER, "Nguồn")).to_contain_text("Toàn quốc")
    expect(cell(page, RUMOUR, "Lan truyền")).to_have_text("2 nguồn · 1 bản sao")  # a TikTok post and the city paper's copy
    expect(cell(page, MERGER, "Lan truyền")).to_have_text("1 nguồn")
    expect(cell(page, RUMOUR, "Tiêu đề")).to_contain_text("Lý do chính: Khẳng định chưa có nguồn chính thức")
    expect(cell(page, MERGER, "Tiêu đề")).to_contain_text("Lý do chính: Danh sách chưa được công bố")
    expect(cell(page, ALLOWANCE, "Tiêu đề")).not_to_contain_text("Lý do chính")  # no reason raised its risk
    source = cell(page, RUMOUR, "Nguồn").get_by_role("link")
    expect(source).to_have_text("Trang TikTok “Hải Phòng 24h” ↗")
    expect(source).to_have_attribute("href", "https://www.tiktok.com/@haiphong24h/video/7301")
    expect(source).to_have_attribute("target", "_blank")
    expect(cell(page, RUMOUR, "Ngày đăng")).to_have_text("19/11/2026 10:00")  # 03:00 UTC on Hải Phòng's clock
    expect(cell(page, RUMOUR, "Rủi ro")).to_have_text("91%")
    expect(cell(page, RUMOUR, "Ưu tiên")).to_have_text("0,95")  # Vietnamese decimal comma

    # "Ưu tiên" is explained where a reviewer sees it, and its header points there for screen readers
    legend = page.locator("#prio-legend")
    expect(legend).to_be_in_viewport()
    expect(legend).to_contain_text("rủi ro × độ phủ × độ mới")
    expect(legend).to_contain_text(re.compile(r"tin rủi ro 84% .*\(1,26\) xếp trên hai tin 90% .*\(0,45\)", re.S))
    header = page.get_by_role("columnheader", name="Ưu tiên")
    expect(header).to_have_accessible_description(re.compile("rủi ro × độ phủ × độ mới"))

    # whole titles at desktop width: no title is clipped or cut short, and the page does not scroll sideways
    for title in titles(page):
        link = page.get_by_role("link", name=title, exact=True)
        clipped = link.evaluate(
            """a => { const td = a.closest('td'); const r = a.getBoundingClientRect(), c = td.getBoundingClientRect();
                      return td.scrollWidth > td.clientWidth || r.right > c.right + 0.5 || r.right > innerWidth; }"""
        )
        assert not clipped, title
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    shot(page, "queue-columns.png")
