"""Feed, sitemap and listing parsing: each body ends in one status we decide ourselves."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from crawler.feeds import parse_feed, parse_listing, parse_sitemap
from store.models import FeedKind, FetchStatus

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
BASE = "https://bao.vn/rss/giao-duc.rss"


def test_bad_bodies_get_their_own_status() -> None:
    assert parse_feed(b"", BASE, FeedKind.rss, NOW).status is FetchStatus.empty
    assert parse_feed(b"  \n ", BASE, FeedKind.rss, NOW).status is FetchStatus.empty
    html = parse_feed("<!DOCTYPE html><html><body>Trang chủ</body></html>".encode(), BASE, FeedKind.rss, NOW)
    assert html.status is FetchStatus.not_a_feed and html.message == "got an HTML page where a feed was expected"
    xml = parse_feed(b"<?xml version='1.0'?><error><code>1</code></error>", BASE, FeedKind.rss, NOW)
    assert (xml.status, xml.message) == (FetchStatus.parse_error, "XML that is not RSS or Atom (root element <error>)")
    assert parse_feed(b"just some text", BASE, FeedKind.rss, NOW).status is FetchStatus.not_a_feed
    assert parse_feed(b'{"hello": 1}', BASE, FeedKind.jsonfeed, NOW).status is FetchStatus.not_a_feed
    assert parse_feed(b"{broken json", BASE, FeedKind.jsonfeed, NOW).status is FetchStatus.parse_error


RSS091 = """<?xml version="1.0" encoding="utf-8"?><rss version="0.91"><channel><title>Tin</title><link>https://bao.vn/</link>
<item><title>Khai giảng năm học mới</title><link>/tin/khai-giang.html?utm_campaign=rss</link><description>Học sinh trở lại trường.</description></item>
</channel></rss>"""

RSS10 = """<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="https://bao.vn/"><title>Tin</title><link>https://bao.vn/</link><description>d</description></channel>
<item rdf:about="https://bao.vn/a.html"><title>Tuyển sinh lớp 10</title><link>https://bao.vn/a.html</link><dc:date>2026-11-25T08:00:00+07:00</dc:date></item>
</rdf:RDF>"""

ATOM03 = """<?xml version="1.0" encoding="utf-8"?><feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>Tin</title>
<entry><title>Giáo viên nhận phụ cấp</title><link rel="alternate" type="text/html" href="https://bao.vn/b.html"/><issued>2026-11-24T07:00:00+07:00</issued><modified>2026-11-24T07:00:00+07:00</modified></entry></feed>"""


def test_rss_09x_10_and_atom_03_are_read_with_dates() -> None:
    r091 = parse_feed(RSS091.encode(), BASE, FeedKind.rss, NOW)
    assert r091.status is FetchStatus.ok and r091.message == "rss091u: 1 items"
    assert r091.entries[0].url == "https://bao.vn/tin/khai-giang.html" and r091.entries[0].published_at is None
    r10 = parse_feed(RSS10.encode(), BASE, FeedKind.rss, NOW)
    assert r10.message == "rss10: 1 items" and r10.entries[0].published_at == datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    a03 = parse_feed(ATOM03.encode(), BASE, FeedKind.atom, NOW)
    assert a03.message == "atom03: 1 items" and a03.entries[0].published_at == datetime(2026, 11, 24, 0, 0, tzinfo=UTC)


def test_future_feed_date_is_rejected_and_reported() -> None:
    body = """<rss version="2.0"><channel><title>t</title><item><title>Thông báo</title><link>https://x.vn/a</link>
    <pubDate>Sat, 15 Jun 2031 08:00:00 +0700</pubDate></item></channel></rss>""".encode()
    entry = parse_feed(body, BASE, FeedKind.rss, NOW).entries[0]
    assert entry.published_at is None and entry.rejected_date == datetime(2031, 6, 15, 1, 0, tzinfo=UTC)


def test_json_feed_with_engagement() -> None:
    feed = {"version": "https://jsonfeed.org/version/1.1", "title": "Trang", "items": [
        {"id": "1", "url": "https://www.facebook.com/p/posts/1", "content_text": "Bài đăng về học phí.",
         "date_published": "2026-11-25T09:00:00+07:00", "_engagement": {"likes": 10, "shares": 2, "comments": 3}},
        {"id": "2", "content_html": "<p>Không có đường dẫn</p>"},
    ]}
    parsed = parse_feed(json.dumps(feed).encode(), BASE, FeedKind.social, NOW)
    assert parsed.status is FetchStatus.ok and parsed.message == "JSON Feed 1.1: 1 items, 1 skipped"
    assert parsed.skipped == ["entry 2: item without a url"]  # dropped, but counted as an error by the spider
    e = parsed.entries[0]
    assert e.text == "Bài đăng về học phí." and e.engagement == {"likes": 10, "shares": 2, "comments": 3}
    assert e.published_at == datetime(2026, 11, 25, 2, 0, tzinfo=UTC)


def test_sitemaps_index_plain_and_news_with_recency() -> None:
    index = b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <sitemap><loc>https://t.vn/s1.xml</loc><lastmod>2026-11-25</lastmod></sitemap>
      <sitemap><loc>https://t.vn/old.xml</loc><lastmod>2024-01-01</lastmod></sitemap></sitemapindex>"""
    parsed = parse_sitemap(index, "https://t.vn/sitemap.xml", 30, NOW)
    assert parsed.follow == ["https://t.vn/s1.xml"] and parsed.entries == []
    news = b"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
      <url><loc>https://t.vn/a.html</loc><news:news><news:publication_date>2026-11-24T09:00:00+07:00</news:publication_date>
      <news:title>Ph\xc3\xb2ng tham v\xe1\xba\xa5n</news:title></news:news></url>
      <url><loc>https://t.vn/b.html</loc><lastmod>2026-08-01</lastmod></url>
      <url><loc>https://t.vn/c.html</loc><lastmod>2026-11-20</lastmod></url></urlset>"""
    parsed = parse_sitemap(news, "https://t.vn/s1.xml", 30, NOW)
    assert [e.url for e in parsed.entries] == ["https://t.vn/a.html", "https://t.vn/c.html"]
    assert parsed.entries[0].title == "Phòng tham vấn" and parsed.entries[0].published_at == datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    assert parsed.entries[1].published_at is None  # lastmod is not a publication date
    assert parsed.message == "sitemap: 2 recent urls (1 older than 30 days skipped)"
    assert parse_sitemap(b"<rss/>", "https://t.vn/s.xml", 30, NOW).status is FetchStatus.not_a_feed


def test_listing_links_and_next_page_by_css_or_xpath() -> None:
    html = """<html><body><div class="news-list"><div class="news-item"><a class="title" href="/tin/a.html">Tin A</a></div>
    <div class="news-item"><a class="title" href="/tin/b.html?utm_source=x">Tin B</a></div>
    <div class="news-item"><a class="title" href="/tin/a.html">Tin A</a></div></div>
    <div class="paging"><a class="next" href="?page=2">Trang sau</a></div></body></html>""".encode()
    css = parse_listing(html, "text/html", "https://gov.vn/giao-duc", ".news-list .news-item a.title", ".paging a.next")
    assert [e.url for e in css.entries] == ["https://gov.vn/tin/a.html", "https://gov.vn/tin/b.html"]
    assert css.follow == ["https://gov.vn/giao-duc?page=2"] and css.entries[0].title == "Tin A"
    xpath = parse_listing(html, None, "https://gov.vn/giao-duc", "//div[@class='news-item']/a/@href", None)
    assert len(xpath.entries) == 2 and xpath.follow == []
    none = parse_listing(html, None, "https://gov.vn/giao-duc", "ul.khong-co a", None)
    assert none.status is FetchStatus.parse_error and "check link_selector" in none.message


URLSET = '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{}</urlset>'


def test_hostile_sitemaps_end_in_a_status_and_expand_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret = tmp_path / "mat-khau.txt"
    secret.write_text("bí mật của máy chủ", encoding="utf-8")
    xxe = (f'<?xml version="1.0"?><!DOCTYPE u [<!ENTITY s SYSTEM "file://{secret}">]>'
           + URLSET.format("<url><loc>https://t.vn/a.html?x=&s;</loc><lastmod>2026-11-25</lastmod></url>")).encode()
    parsed = parse_sitemap(xxe, "https://t.vn/s.xml", 30, NOW)
    assert all("bí mật" not in e.url and "m%E1%BA%ADt" not in e.url for e in parsed.entries)  # the file is never read
    laughs = ('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "hahahahahahahahahaha">'
              + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
              + "]>" + URLSET.format("<url><loc>https://t.vn/&i;</loc></url>")).encode()
    parsed = parse_sitemap(laughs, "https://t.vn/s.xml", 30, NOW)
    assert sum(len(e.url) for e in parsed.entries) < 1000  # 10^8 "ha" were never built
    cases = {
        b"": FetchStatus.empty,
        b"  \n": FetchStatus.empty,
        b"<!doctype html><html><body>Trang ch\xe1\xbb\xa7</body></html>": FetchStatus.not_a_feed,
        b"\x00\x01 kh\xc3\xb4ng ph\xe1\xba\xa3i XML": FetchStatus.parse_error,
        b'<feed xmlns="http://www.w3.org/2005/Atom"></feed>': FetchStatus.not_a_feed,
    }
    for body, status in cases.items():
        assert parse_sitemap(body, "https://t.vn/s.xml", 30, NOW).status is status, body


def test_truncated_sitemap_still_yields_the_entries_before_the_cut() -> None:
    # Scrapy's Sitemap parses in recover mode: a body cut mid-way keeps what was read (the cut URL at worst 404s)
    body = URLSET.format("<url><loc>https://t.vn/tin/hoc-phi.html</loc><lastmod>2026-11-25</lastmod></url>"
                         "<url><loc>https://t.vn/tin/sach-gi")[:-len("</urlset>")].encode()
    parsed = parse_sitemap(body, "https://t.vn/s.xml", 30, NOW)
    assert parsed.status is FetchStatus.ok
    assert parsed.entries[0].url == "https://t.vn/tin/hoc-phi.html" and parsed.entries[0].updated_at is not None
