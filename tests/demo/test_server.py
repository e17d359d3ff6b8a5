"""The fixture server itself: sites under path prefixes, fresh dates, conditional GET and hostile routes."""

from __future__ import annotations

import tomllib
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from email.utils import parsedate_to_datetime

import pytest
from scrapy.exceptions import IgnoreRequest

from crawler.errors import HostDownError, classify_failure, retry_after_seconds
from crawler.middlewares import HostGuardMiddleware
from demo.server import SiteServer, fixture_date, format_date, render_sources, render_text, start_site_server
from store.models import FetchStatus


@pytest.fixture(scope="module")
def server() -> Iterator[SiteServer]:
    with start_site_server() as s:
        yield s


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_dates_are_filled_relative_to_today() -> None:
    today = datetime(2026, 11, 26, 10, 0).astimezone()
    assert render_text("{{date -2 09:15 vn}} {base}/x", "http://h:1", today) == "Thứ ba, 24/11/2026 - 09:15 http://h:1/x"
    assert format_date(fixture_date(0, 9, 15, today), "gmt7") == "26/11/2026 09:15 (GMT+7)"
    assert format_date(fixture_date(0, 9, 15, today), "long") == "26 tháng 11 năm 2026"
    assert parsedate_to_datetime(format_date(fixture_date(-1, 8, 0, today), "rfc822")) == fixture_date(-1, 8, 0, today)


def test_sources_template_renders_and_parses(server: SiteServer) -> None:
    text = render_sources(server.base_url)
    data = tomllib.loads(text)
    assert "{base}" not in text and len(data["outlet"]) == 8
    urls = [f["url"] for o in data["outlet"] for f in o.get("feed", [])]
    assert any(u.startswith("https://127.0.0.1:") for u in urls) and "http://127.0.0.1:1/hostile/rss/tin-moi.rss" in urls


def test_conditional_get_on_sites_that_support_it(server: SiteServer) -> None:
    status, headers, body = get(server.base_url + "/baohaiphong/rss/giao-duc.rss")
    assert status == 200 and headers["ETag"] and headers["Last-Modified"] and b"{base}" not in body and b"{{date" not in body
    status, _, body = get(server.base_url + "/baohaiphong/rss/giao-duc.rss", {"If-None-Match": headers["ETag"]})
    assert status == 304 and body == b""
    status, headers, _ = get(server.base_url + "/vnexpress/rss/giao-duc.rss")
    assert status == 200 and "ETag" not in headers  # this one only changes its body (same-hash check)


def test_hostile_routes(server: SiteServer) -> None:
    base = server.base_url
    assert get(base + "/hostile/rss/rong.rss")[:1] == (200,) and get(base + "/hostile/rss/rong.rss")[2] == b""
    status, headers, _ = get(base + "/hostile/rss/qua-tai.rss")
    assert status == 429 and headers["Retry-After"] == "7200"
    assert get(base + "/hostile/rss/loi-500.rss")[0] == 500
    assert get(base + "/hostile/rss/html-thay-rss.rss")[2].startswith(b"<!DOCTYPE html>")
    with pytest.raises(urllib.error.HTTPError, match="redirect"):
        urllib.request.urlopen(base + "/hostile/rss/vong-lap.rss", timeout=5)
    assert b"Disallow: /hostile/private/" in get(base + "/robots.txt")[2]
    legacy = get(base + "/hostile/tin/phu-huynh-tien-lang-gop-y-bua-an-ban-tru.html")
    assert legacy[1]["Content-Type"] == "text/html" and b"windows-1258" in legacy[2]
    assert get(base + "/khong-co-trang-nay.html")[0] == 404 and get(base + "/_content.py")[0] == 404


def test_fix_and_swap(server: SiteServer) -> None:
    base = server.base_url
    page = "/hostile/tin/trang-dang-bao-tri.html"
    assert get(base + page)[0] == 500
    server.fix(page)
    status, _, body = get(base + page)
    assert status == 200 and "Do ảnh hưởng của cơn bão".encode() in body
    server.swap("/giaoducthoidai/atom/giao-duc.xml", "/giaoducthoidai/atom/giao-duc.v2.xml")
    assert get(base + "/giaoducthoidai/atom/giao-duc.xml")[2] == get(base + "/giaoducthoidai/atom/giao-duc.v2.xml")[2]
    assert server.count(page) == 2


def test_host_guard_defers_a_host_after_a_connection_failure() -> None:
    from scrapy import Request
    from scrapy.exceptions import CannotResolveHostError, DownloadConnectionRefusedError

    guard = HostGuardMiddleware(down_seconds=600, max_bytes=5 * 1024 * 1024)
    guard.process_request(Request("http://a.vn/1"))  # not down: passes
    guard.process_exception(Request("http://a.vn/1"), DownloadConnectionRefusedError("Connection was refused"))
    with pytest.raises(HostDownError) as info:
        guard.process_request(Request("http://a.vn/2"))
    status, message = classify_failure(info.value, 5 * 1024 * 1024)
    assert status is FetchStatus.connection_error and "host a.vn treated as down for 10 min" in message
    guard.process_request(Request("http://b.vn/1"))  # other hosts are unaffected
    guard.process_exception(Request("http://c.vn/1"), CannotResolveHostError("DNS lookup failed: c.vn"))
    with pytest.raises(IgnoreRequest) as dns:
        guard.process_request(Request("http://c.vn/2"))
    assert classify_failure(dns.value, 1)[0] is FetchStatus.dns_error


def test_retry_after_header_forms() -> None:
    assert retry_after_seconds(b"120") == 120.0
    assert retry_after_seconds("Thu, 26 Nov 2026 10:02:00 GMT", now=parsedate_to_datetime("Thu, 26 Nov 2026 10:00:00 GMT")) == 120.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
