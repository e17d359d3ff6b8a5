"""Machine words a reviewer would otherwise read (event codes, feed statuses, crawler notes) in plain Vietnamese."""

from __future__ import annotations

import re

from classify.api import risk_note
from store.feeds import SUCCESS
from store.models import Feed, FeedKind, FetchStatus

FETCH_STATUS_LABELS: dict[FetchStatus, str] = {
    FetchStatus.ok: "Hoạt động tốt",
    FetchStatus.not_modified: "Không có gì mới",
    FetchStatus.same_hash: "Không có gì mới",
    FetchStatus.http_error: "Lỗi HTTP",
    FetchStatus.timeout: "Quá thời gian chờ",
    FetchStatus.dns_error: "Không tìm thấy tên miền",
    FetchStatus.tls_error: "Lỗi chứng chỉ bảo mật",
    FetchStatus.connection_error: "Không kết nối được",
    FetchStatus.not_a_feed: "Không phải nguồn cấp tin",
    FetchStatus.empty: "Trả về rỗng",
    FetchStatus.parse_error: "Không đọc được nội dung",
    FetchStatus.too_large: "Dữ liệu quá lớn",
    FetchStatus.robots_denied: "Trang cấm thu thập (robots.txt)",
    FetchStatus.bad_link: "Liên kết bị từ chối",
    FetchStatus.never: "Chưa thu thập",
}
FEED_KIND_LABELS: dict[FeedKind, str] = {
    FeedKind.rss: "RSS", FeedKind.atom: "Atom", FeedKind.jsonfeed: "JSON Feed", FeedKind.sitemap: "Sơ đồ trang",
    FeedKind.listing: "Trang danh sách", FeedKind.social: "Mạng xã hội",
}
# the crawler's success notes ("rss20: 9 items, 2 skipped"): what was read, how many entries
_COUNT_NOTE = re.compile(r"^(?P<what>.+?): (?P<n>\d+) (?P<unit>items|links|recent urls|recent sitemaps)(?P<rest>.*)$")
_UNITS = {"items": "tin", "links": "liên kết", "recent urls": "địa chỉ mới", "recent sitemaps": "sơ đồ trang mới"}
_FORMATS = {"rss20": "RSS 2.0", "rss10": "RSS 1.0", "rss092": "RSS 0.92", "rss091u": "RSS 0.91", "rss091n": "RSS 0.91",
            "atom10": "Atom 1.0", "atom03": "Atom 0.3", "listing": "Trang danh sách", "sitemap": "Sơ đồ trang",
            "sitemap index": "Mục lục sơ đồ trang"}
_SKIPPED = re.compile(r", (\d+) skipped")
_OLDER = re.compile(r" \((\d+) older than (\d+) days skipped\)")
# the note older crawls wrote on an item's "created" event: "risk 0.84: learned, unsourced_policy"
_RISK_NOTE = re.compile(r"^risk (?P<risk>[01](?:\.\d+)?): ?(?P<codes>[a-z_, ]*)$")
_REFUSED = " | bad_link: "


def fetch_status_label(feed: Feed) -> str:
    """The feed's state in a word: paused, or how its last fetch ended."""
    return "Tạm dừng" if feed.paused else FETCH_STATUS_LABELS.get(feed.status, str(feed.status))


def feed_problem(feed: Feed) -> str | None:
    """The feed's last real error: a failed fetch's message, or links refused on a good one; None when all is well."""
    message = feed.status_message or ""
    if feed.status not in SUCCESS:
        return message or None
    refused = message.partition(_REFUSED)[2]
    return f"bad_link: {refused}" if refused else None


def feed_note(feed: Feed) -> str | None:
    """What a good fetch read ("RSS 2.0: 9 tin"), in Vietnamese; None after a failure (that is a problem, not a note)."""
    if feed.status not in SUCCESS or not feed.status_message:
        return None
    return crawl_note(feed.status_message.partition(_REFUSED)[0])


def crawl_note(message: str) -> str:
    """A crawler success note in Vietnamese; a message of another shape is shown as written."""
    m = _COUNT_NOTE.match(message)
    if not m:
        return message
    what = _FORMATS.get(m["what"], m["what"])
    rest = _SKIPPED.sub(lambda s: f", bỏ qua {s.group(1)}", m["rest"])
    rest = _OLDER.sub(lambda s: f" (bỏ qua {s.group(1)} địa chỉ cũ hơn {s.group(2)} ngày)", rest)
    return f"{what}: {m['n']} {_UNITS[m['unit']]}{rest}"


def event_note(note: str | None) -> str | None:
    """An event's note as a reviewer reads it: the old English risk note becomes Vietnamese; others unchanged."""
    if not note:
        return note
    m = _RISK_NOTE.match(note.strip())
    if not m:
        return note
    return risk_note(float(m["risk"]), [c.strip() for c in m["codes"].split(",") if c.strip()])
