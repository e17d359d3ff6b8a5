"""Bản lưu pages: the saved copy of an item's article, shown safely.

The saved page is someone else's HTML: it is never served as HTML from this origin. Our template shows the
extracted text; the bytes as fetched come only as sandboxed, unsniffed text/plain.
"""

from __future__ import annotations

from fastapi.responses import Response
from sqlalchemy.orm import Session

from review.present import parse_int
from store.queue import NotFound, ReviewError
from store.models import ArticleSnapshot, ReviewItem
from store.snapshots import raw_bytes, snapshot_of

RAW_HEADERS = {"Content-Security-Policy": "sandbox; default-src 'none'", "X-Content-Type-Options": "nosniff"}
KIND_LABELS = {"page": "Trang bài viết như đã tải về", "feed_entry": "Mục tin trong nguồn cấp (trang bài không tải được)"}


def chosen_copy(session: Session, item: ReviewItem, raw_id: str) -> ArticleSnapshot:
    """One saved copy of the item's article by its id in the URL; a 404 naming the item otherwise."""
    try:
        snapshot_id = parse_int(raw_id, "Mã bản lưu")
    except ReviewError:
        snapshot_id = 0
    snapshot = snapshot_of(session, item.article_id, snapshot_id)
    if snapshot is None:
        raise NotFound(f"Mục #{item.id} không có bản lưu số {raw_id[:20]!r}.")
    return snapshot


def raw_response(item: ReviewItem, snapshot: ArticleSnapshot) -> Response:
    """The bytes as fetched, as a sandboxed text/plain file (no script, no sniffing into HTML)."""
    raw = raw_bytes(snapshot)
    try:
        raw.decode("utf-8")
        media = "text/plain; charset=utf-8"
    except UnicodeDecodeError:
        media = "text/plain"  # a legacy charset (windows-1258): the browser picks one, still as text
    name = f"ban-luu-{item.id}-{snapshot.id}.txt"
    return Response(raw, media_type=media, headers={**RAW_HEADERS, "Content-Disposition": f'inline; filename="{name}"'})
