"""Bản lưu in a real headless Chromium: crawl a fixture outlet, take the live post down (404), and the item page
still opens the saved copy; a <script> in a saved page never runs on the app's origin."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Request, expect
from sqlalchemy import Engine, select

from report.weeks import local_text
from review.users import create_user
from store.classifications import ensure_review_item
from store.models import Article, ReviewItem, Role, SnapshotKind
from store.snapshots import latest_snapshot, save_snapshot
from tests.crawler.conftest import SiteCrawlFactory, site_crawl
from tests.review.support import PASSWORD
from tests.review.test_browser import browser, log_in, pytestmark, server, shot

__all__ = ["browser", "pytestmark", "server", "site_crawl"]  # fixtures and the browser mark, shared

PAGE = "/baohaiphong/giao-duc/khong-co-quy-dinh-phat-phu-huynh-khi-hoc-sinh-mang-dien-thoai-p-90377.html"
OTHER = "/baohaiphong/giao-duc/tap-huan-trien-khai-luat-nha-giao-cho-can-bo-quan-ly-p-90290.html"
# a saved page that tries to run: change the title, call our API with the reviewer's cookie, open a dialog
HOSTILE = (
    '<html><head><meta charset="utf-8"><title>Tin đồn</title><script>document.title = "ĐÃ CHẠY";'
    ' fetch("/api/queue?da-chay=1"); alert("xss");</script></head>'
    '<body onload="fetch(\'/api/queue?onload=1\')"><p>Phụ huynh bị phạt 5 triệu đồng?</p>'
    '<img src="/api/queue?anh=1" onerror="fetch(\'/api/queue?onerror=1\')"></body></html>'
).encode("utf-8")


@dataclass
class Crawled:
    """The item whose live post was taken down, its saved copy's time as shown, and an item with a hostile copy."""

    item: int
    live_url: str
    fetched: str
    hostile_item: int
    hostile_copy: int


def _queued(session: object, url_end: str) -> int:
    article = session.scalar(select(Article).where(Article.url.endswith(url_end)))  # type: ignore[attr-defined]
    assert article is not None, f"{url_end} was not crawled"
    ensure_review_item(session, article.id, 0.9)  # type: ignore[arg-type]
    return int(session.scalar(select(ReviewItem.id).where(ReviewItem.article_id == article.id)))  # type: ignore[attr-defined]


@pytest.fixture
def world(migrated_engine: Engine, tmp_path: Path, site_crawl: SiteCrawlFactory) -> Iterator[Crawled]:
    """Báo Hải Phòng crawled from the fixture server; then its page is deleted there (404) while the app runs."""
    with site_crawl(migrated_engine, tmp_path, NQ71_CONCURRENCY_PER_HOST="4") as site:
        result = site.run("--quiet", "--outlet", "bao-hai-phong")
        assert result.returncode == 0, result.stderr[-2000:]
        with site.sessions() as s, s.begin():
            item, hostile_item = _queued(s, PAGE), _queued(s, OTHER)
            article_id = s.get(ReviewItem, item).article_id  # type: ignore[union-attr]
            saved = latest_snapshot(s, article_id)
            assert saved is not None and saved.kind is SnapshotKind.page
            live_url, fetched = saved.url, local_text(saved.fetched_at, "Asia/Ho_Chi_Minh")
            other = s.get(ReviewItem, hostile_item).article_id  # type: ignore[union-attr]
            copy = save_snapshot(s, other, f"{site.server.base_url}{OTHER}", datetime.now(UTC), SnapshotKind.page,
                                 "text/html; charset=utf-8", HOSTILE, "Tin đồn", "Phụ huynh bị phạt 5 triệu đồng?")
            assert copy is not None
            s.flush()
            hostile_copy = copy.id
            create_user(s, "thamdinh.lan", PASSWORD, Role.reviewer)
        site.server.swap(PAGE, "/baohaiphong/da-go.html")  # the outlet took the post down
        assert httpx.get(live_url).status_code == 404
        yield Crawled(item, live_url, fetched, hostile_item, hostile_copy)


def test_the_saved_copy_outlives_the_live_post(server: str, browser: Browser, world: Crawled) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    log_in(page, server, "thamdinh.lan")
    page.goto(f"{server}/items/{world.item}")
    expect(page.get_by_role("link", name=world.live_url)).to_be_visible()  # the live link, now a 404
    saved = page.get_by_role("link", name=f"Bản lưu {world.fetched}")
    expect(saved).to_be_visible()
    assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}", world.fetched)
    saved.click()
    expect(page).to_have_url(f"{server}/items/{world.item}/ban-luu")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Bản lưu: Không có quy định phạt phụ huynh khi học sinh mang điện thoại đến trường")
    expect(page.locator("#saved-meta")).to_contain_text(f"tải về lúc {world.fetched}")
    expect(page.locator("#saved-text")).to_contain_text("khẳng định đây là thông tin sai sự thật")
    expect(page.locator("#saved-raw")).to_have_attribute("download", re.compile(r"^ban-luu-\d+-\d+\.txt$"))
    shot(page, "item-saved-copy.png", docs=True)


def test_a_script_in_a_saved_page_never_runs(server: str, browser: Browser, world: Crawled) -> None:
    page = browser.new_page(locale="vi-VN")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    log_in(page, server, "thamdinh.lan")
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/api/" in r.url else None)
    page.goto(f"{server}/items/{world.hostile_item}/ban-luu")
    expect(page.locator("#saved-text")).to_have_text("Phụ huynh bị phạt 5 triệu đồng?")
    response = page.goto(f"{server}/items/{world.hostile_item}/ban-luu/{world.hostile_copy}/goc")
    assert response is not None and response.headers["content-type"].startswith("text/plain")
    expect(page.locator("body")).to_contain_text('document.title = "ĐÃ CHẠY"')  # shown as text, not run
    page.wait_for_timeout(500)  # let a script that could run try its fetch, title and alert
    assert page.title() != "ĐÃ CHẠY" and dialogs == [] and asked == []
    assert page.locator("img").count() == 0 and page.locator("p").count() == 0  # no markup rendered at all
