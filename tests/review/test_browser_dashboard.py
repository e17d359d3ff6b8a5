"""The dashboard in a real headless Chromium: weeks by name, a week's file downloaded by one click, a count opened."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook
from playwright.sync_api import Browser, expect

from tests.review.support import World
from tests.review.test_browser import browser, log_in, pytestmark, server, shot

__all__ = ["browser", "pytestmark", "server"]  # fixtures and the browser mark, shared with test_browser


def test_reviewer_moves_between_weeks_downloads_the_xlsx_and_opens_a_count(
    server: str, browser: Browser, world: World, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN", accept_downloads=True)
    log_in(page, server, "thamdinh.lan")
    page.goto(f"{server}/dashboard?week=2026-W47")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tổng quan Tuần 47 (16/11–22/11/2026)")
    page.get_by_role("link", name="Tuần 48 (23/11–29/11/2026) →").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tổng quan Tuần 48 (23/11–29/11/2026)")
    page.get_by_role("link", name="← Tuần 47 (16/11–22/11/2026)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tổng quan Tuần 47 (16/11–22/11/2026)")
    chart = page.locator("img.chart")
    expect(chart).to_have_attribute("src", "/dashboard/chart.png?week=2026-W47")  # the chart follows the week
    page.wait_for_function("document.querySelector('img.chart').naturalWidth > 0")
    shot(page, "dashboard.png", docs=True)

    with page.expect_download() as info:
        page.get_by_role("link", name="Excel (XLSX)").click()
    download = info.value
    assert download.suggested_filename == "bao-cao-nq71-2026-W47.xlsx"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    summary = {row[0]: row[1] for row in load_workbook(saved)["Tổng hợp"].iter_rows(min_row=2, values_only=True)}
    assert summary["Kỳ báo cáo"] == "Tuần 47 (16/11–22/11/2026)"

    city = page.locator("#coverage tbody tr", has_text="Báo và PT-TH Hải Phòng")
    city.locator('td[data-h="Tin giả"] a').click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Kết luận tin giả · Báo và PT-TH Hải Phòng · Tuần 47 (16/11–22/11/2026)")
    expect(page.locator("#articles tbody tr")).to_have_count(1)
    expect(page.get_by_role("link", name="Xác minh tin đồn dừng bữa ăn bán trú")).to_be_visible()
