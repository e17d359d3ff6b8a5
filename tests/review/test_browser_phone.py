"""At phone width in a real headless Chromium: the skip link, filters folded behind a button, the coverage table
scrolling inside its own box."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from tests.review.support import World
from tests.review.test_browser import browser, log_in, pytestmark, server, shot

__all__ = ["browser", "pytestmark", "server"]  # fixtures and the browser mark, shared with test_browser

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def test_phone_width_skip_link_folded_filters_and_scrolling_coverage_then_wide_screen(server: str, browser: Browser, world: World) -> None:
    page = browser.new_page(**PHONE, locale="vi-VN")  # type: ignore[arg-type]
    log_in(page, server, "thamdinh.lan")
    page.goto(f"{server}/queue")
    page.keyboard.press("Tab")  # the first Tab lands on the skip link, which then moves focus to the content
    skip = page.get_by_role("link", name="Chuyển đến nội dung chính")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    risk = page.get_by_label("Mức rủi ro")
    expect(risk).to_be_hidden()  # folded behind "Bộ lọc"
    page.get_by_text("Bộ lọc", exact=True).click()
    expect(risk).to_be_visible()
    page.get_by_label("Từ", exact=True).fill("19/11/2026")
    page.get_by_role("button", name="Lọc").click()
    expect(page.locator("summary")).to_have_text("Bộ lọc (1 đang dùng)")
    expect(page.get_by_label("Từ", exact=True)).to_have_value("19/11/2026")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "queue-phone-filters.png")

    page.goto(f"{server}/dashboard?week=2026-W47")
    box = page.get_by_role("region", name="Bảng độ phủ theo cơ quan")
    labels, totals = page.locator("#coverage thead th"), page.locator("#coverage tbody tr").last.locator("th")
    expect(totals.first).to_have_text("Tổng")
    expect(labels.nth(1)).to_be_visible()  # the totals keep their column labels (no card layout hiding thead)
    expect(labels).to_have_count(totals.count())
    widths = box.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert widths[0] > widths[1], widths  # the table is wider than its box ...
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # ... but not than the page
    box.focus()  # the box scrolls by keyboard too
    page.keyboard.press("End")
    page.keyboard.press("ArrowRight")
    for _ in range(50):  # keyboard scrolling is smooth: wait for it to move
        if box.evaluate("el => el.scrollLeft") > 0:
            break
        page.wait_for_timeout(100)
    assert box.evaluate("el => el.scrollLeft") > 0
    heat = page.locator(".chart-box")  # the weekly heat map keeps a legible size and scrolls the same way
    page.wait_for_function("document.querySelector('img.chart').naturalWidth > 0")
    widths = heat.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert widths[0] > widths[1] and page.evaluate("document.documentElement.scrollWidth") <= 390, widths
    shot(page, "dashboard-phone.png", docs=True)

    page.set_viewport_size({"width": 1280, "height": 900})  # a wide screen shows the filters open, no button
    page.goto(f"{server}/queue")
    expect(page.get_by_label("Mức rủi ro")).to_be_visible()
    expect(page.locator("summary")).to_be_hidden()
