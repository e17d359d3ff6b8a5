"""The review app in a real headless Chromium (Debian's /usr/bin/chromium driven by Playwright).

These tests fail, never skip, when Chromium is missing: `make browser` installs it.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from review.app import create_app
from settings import Settings
from tests.review.support import PASSWORD, World

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
DOC_IMAGES = ROOT / "docs" / "img"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.browser


@pytest.fixture
def server(app_settings: Settings, world: World) -> Iterator[str]:
    """The app served by uvicorn in a thread on a free 127.0.0.1 port."""
    app = create_app(app_settings)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)
    app.state.engine.dispose()


@pytest.fixture
def browser() -> Iterator[Browser]:
    """Headless Chromium; a missing binary is a failure with the fix in the message."""
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def shot(page: Page, name: str, docs: bool = False) -> None:
    """Save a screenshot as a test artefact; with UPDATE_DOC_IMAGES=1 also refresh the README's copy
    (a plain test run must not change tracked files)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5000
    if docs and os.environ.get("UPDATE_DOC_IMAGES") == "1":
        DOC_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOC_IMAGES / name)


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/queue")
    expect(page).to_have_url(f"{base}/login?next=/queue")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", name="Hàng đợi thẩm định")).to_be_visible()


def test_reviewer_filters_opens_takes_decides_and_logs_out(server: str, browser: Browser, world: World) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    log_in(page, server, "thamdinh.lan")
    rows = page.locator("table.queue tbody tr")
    expect(rows).to_have_count(3)  # the work still to do: the resolved item waits under "Đã xử lý" and "Tất cả"
    # filter: risk band (the select submits by itself) then a search that keeps diacritics
    page.get_by_label("Mức rủi ro").select_option("high")
    expect(page).to_have_url(f"{server}/queue?q=&outlet=&theme=&risk=high&assignee=&from=&to=")
    expect(rows).to_have_count(1)
    page.goto(f"{server}/queue")
    page.get_by_label("Tìm kiếm").fill("bán trú")
    page.get_by_role("button", name="Lọc").click()
    expect(rows).to_have_count(1)  # in the work still to do; the resolved copy is under "Tất cả"
    expect(page.get_by_text("1 mục · trang 1/1")).to_be_visible()
    page.locator("#tab-all").click()
    expect(rows).to_have_count(2)
    shot(page, "queue.png", docs=True)
    page.get_by_role("link", name="Hải Phòng dừng bữa ăn bán trú ở trường tiểu học công lập?").click()
    expect(page.get_by_role("heading", name="Hải Phòng dừng bữa ăn bán trú ở trường tiểu học công lập?")).to_be_visible()
    expect(page.locator("mark").first).to_be_visible()
    expect(page.get_by_text("82%")).to_be_visible()
    shot(page, "item.png", docs=True)
    page.get_by_role("button", name="Nhận xử lý").click()
    expect(page.get_by_text("Bạn đã nhận xử lý mục này.")).to_be_visible()
    expect(page.locator(".meta b")).to_have_text("thamdinh.lan")
    page.get_by_role("radio", name="Tin giả", exact=True).check()
    note = "Sở GD&ĐT Hải Phòng xác nhận không dừng bữa ăn bán trú; đây là tin bịa đặt."
    page.get_by_label("Ghi chú (bắt buộc với Tin giả, Tin sai sự thật)").fill(note)
    page.get_by_role("button", name="Lưu kết luận").click()
    expect(page.get_by_text("Đã lưu kết luận.")).to_be_visible()
    history = page.locator("ol.history")
    expect(history).to_contain_text(note)
    expect(history).to_contain_text("Đang xử lý → Đã xử lý")
    expect(page.locator(".meta .v-tin_gia")).to_have_text("Tin giả")
    shot(page, "item-decided.png")
    page.get_by_role("button", name="Đăng xuất").click()
    expect(page.get_by_text("Đã đăng xuất.")).to_be_visible()
    page.goto(f"{server}/queue")
    expect(page).to_have_url(f"{server}/login?next=/queue")


def test_a_reviewer_is_refused_a_supervisor_action(server: str, browser: Browser, world: World) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(page, server, "thamdinh.lan")
    page.goto(f"{server}/items/{world.resolved_item}")
    expect(page.get_by_role("button", name="Mở lại")).to_have_count(0)  # not offered...
    # ...and refused by the server when forced with a hand-made form carrying a valid CSRF token
    page.evaluate(
        """([itemId]) => {
            const token = document.querySelector('input[name=csrf]').value;
            const f = document.createElement('form');
            f.method = 'post'; f.action = `/items/${itemId}/reopen`;
            for (const [k, v] of [['csrf', token], ['version', '1'], ['note', 'thử mở lại']]) {
                const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; f.appendChild(i);
            }
            document.body.appendChild(f); f.submit();
        }""",
        [world.resolved_item],
    )
    expect(page.get_by_role("alert")).to_contain_text("Bạn không có quyền mở lại mục này")
    expect(page.locator(".meta .st")).to_have_text("Đã xử lý")  # nothing changed
    page.goto(f"{server}/users")
    expect(page.get_by_role("heading", name="Không được phép")).to_be_visible()


def test_queue_on_a_phone(server: str, browser: Browser, world: World) -> None:
    page = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True)
    log_in(page, server, "giamsat.hoa")
    # no horizontal scrolling on a phone: the table turns into cards
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, width
    shot(page, "queue-phone.png", docs=True)


def tab_to(page: Page, test: str, limit: int = 120) -> None:
    """Press Tab until the focused element passes a JavaScript test on ``el`` (keyboard only, no clicks)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return !!el && ({test}); }})()"):
            return
    raise AssertionError(f"Tab never reached an element where {test}")


def test_keyboard_only_triage_of_one_item_with_the_evidence_legend(server: str, browser: Browser, world: World) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    log_in(page, server, "thamdinh.lan")
    expect(page.locator("#prio-legend")).to_contain_text("rủi ro × độ phủ × độ mới")
    title = "Lan truyền danh sách sáp nhập trường đại học"
    tab_to(page, f"el.textContent.trim() === {title!r}")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name=title)).to_be_visible()
    # the legend and the numbered marks are visible text: nothing needs a mouse to hover
    legend = page.locator("#legend")
    expect(legend).to_be_visible()
    expect(legend.locator("li").first).to_contain_text("1 Danh sách chưa được công bố")
    expect(page.locator("mark.k-r1 sup")).to_have_text("1")
    expect(page.locator("#how-risk")).to_contain_text("Từ các trọng số trên: 50%")
    tab_to(page, "el.tagName === 'BUTTON' && el.textContent.trim() === 'Nhận xử lý'")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Bạn đã nhận xử lý mục này.")).to_be_visible()
    expect(page.get_by_role("button", name="Nhận xử lý")).to_have_count(0)  # not offered to the holder
    tab_to(page, "el.type === 'radio' && el.name === 'verdict'")
    while page.evaluate("document.activeElement.value") != "tin_sai_su_that":
        page.keyboard.press("ArrowRight")  # arrows move within the radio group and check the choice
    tab_to(page, "el.tagName === 'TEXTAREA' && el.closest('form').id === 'verdict-form'")
    note = "Bộ GD&ĐT cho biết đề án còn lấy ý kiến; danh sách lan truyền là bịa đặt một phần."
    page.keyboard.type(note)
    tab_to(page, "el.tagName === 'BUTTON' && el.textContent.trim() === 'Lưu kết luận'")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Đã lưu kết luận.")).to_be_visible()
    expect(page.locator(".meta .v-tin_sai_su_that")).to_have_text("Tin sai sự thật")
    expect(page.locator("ol.history")).to_contain_text(note)
    shot(page, "item-keyboard.png", docs=True)
